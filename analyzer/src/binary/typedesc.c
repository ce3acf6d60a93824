/* Go types from runtime type descriptors (see typedesc.h).
 *
 * abi.Type, 64-bit, the same in Go 1.19-1.27: Size_ @0, PtrBytes @8, Hash @16, TFlag @20,
 * Align_ @21, FieldAlign_ @22, Kind_ @23, Equal @24, GCData @32, Str NameOff @40,
 * PtrToThis TypeOff @44; the kind-specific part follows at 48, then the uncommon part when
 * TFlag has Uncommon. NameOff/TypeOff are offsets from moduledata.types.
 */
#include "typedesc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../util/hash.h"
#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "../util/u64set.h"
#include "../util/strpool.h"
#include "buildinfo.h"

#define TF_UNCOMMON 1
#define TF_EXTRASTAR 2
#define TF_NAMED 4
/* Bounds against a hostile or damaged file. */
#define MAX_DESCS (1u << 21)
#define MAX_FIELDS 4096
#define MAX_NAME 1024
#define MAX_DEPTH 24

typedef struct slot { /* name index: open addressing, name == NULL is empty */
	const char *name;
	uint64_t addr;
} slot;

typedef struct built { /* descriptor address -> its gs_dtype, open addressing */
	uint64_t addr;
	gs_dtype *type;
} built;

struct gs_typedesc {
	gs_binary *bin;
	int go_minor;
	uint64_t md, types, etypes;
	uint64_t typelinks, ntypelinks, itablinks, nitablinks; /* <= 1.26 */
	uint64_t typedesclen, itaboffset, itabsize;            /* 1.27 */
	bool walk_127;
	uint64_t map_size; /* MapType's size: 88 classic, 112 swiss, 136 from 1.27 */

	bool indexed;
	slot *names;
	size_t cap, n;
	gs_strpool pool;

	built *types_by_addr;
	size_t bcap, bn;
	gs_dtype **pending; /* created, members not filled yet */
	size_t npending, pcap;
	struct walk *walking; /* the closure walk, while the index is built */
	/* Every gs_dtype and member array allocated here, freed at close. */
	void **allocs;
	size_t nallocs, acap;
	/* An allocation failed: what is built may be incomplete, so no type is handed out
	 * from then on (gs_typedesc_type fails with "out of memory"). */
	bool nomem;
};

static void *td_alloc(gs_typedesc *td, size_t n)
{
	if (td->nallocs == td->acap) {
		size_t cap = td->acap ? td->acap * 2 : 256;
		void **v = gs_reallocarray(td->allocs, cap, sizeof *v, NULL);
		if (!v) {
			td->nomem = true;
			return NULL;
		}
		td->allocs = v;
		td->acap = cap;
	}
	void *p = calloc(1, n ? n : 1);
	if (!p) {
		td->nomem = true;
		return NULL;
	}
	td->allocs[td->nallocs++] = p;
	return p;
}

/* The pool's copy of s; "?" when out of memory (td is then failed). */
static const char *intern(gs_typedesc *td, const char *s)
{
	const char *c = gs_strpool_intern(&td->pool, s);
	if (!c)
		td->nomem = true;
	return c ? c : "?";
}

static bool in_types(const gs_typedesc *td, uint64_t a)
{
	return a >= td->types && a + 48 <= td->etypes && (a & 7) == 0;
}

static uint64_t rd64(const gs_typedesc *td, uint64_t a, bool *ok)
{
	uint64_t v = 0;
	if (gs_binary_read(td->bin, a, &v, 8) < 0)
		*ok = false;
	return v;
}

static uint64_t rdptr(const gs_typedesc *td, uint64_t a, bool *ok)
{
	uint64_t v = 0;
	if (gs_binary_read_ptr(td->bin, a, &v) < 0)
		*ok = false;
	return v;
}

static uint32_t rd32(const gs_typedesc *td, uint64_t a, bool *ok)
{
	uint32_t v = 0;
	if (gs_binary_read(td->bin, a, &v, 4) < 0)
		*ok = false;
	return v;
}

static uint8_t rd8(const gs_typedesc *td, uint64_t a, bool *ok)
{
	uint8_t v = 0;
	if (gs_binary_read(td->bin, a, &v, 1) < 0)
		*ok = false;
	return v;
}

/* An abi.Name at addr: flags byte, uvarint length, bytes. Returns a pointer into the file
 * mapping and its length, or NULL. */
static const char *name_at(const gs_typedesc *td, uint64_t addr, size_t *len, uint8_t *flags)
{
	size_t avail;
	const uint8_t *p = gs_binary_ptr(td->bin, addr, &avail);
	if (!p || avail < 2)
		return NULL;
	uint64_t n = 0;
	size_t i = 1;
	for (int shift = 0; i < avail && shift < 28; shift += 7) {
		uint8_t b = p[i++];
		n |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	if (n > MAX_NAME || i + n > avail)
		return NULL;
	if (flags)
		*flags = p[0];
	*len = (size_t)n;
	return (const char *)p + i;
}

/* The descriptor's own string (Str), without ExtraStar's leading '*'. */
static const char *type_str(const gs_typedesc *td, uint64_t t, size_t *len)
{
	bool ok = true;
	int32_t off = (int32_t)rd32(td, t + 40, &ok);
	uint8_t tflag = rd8(td, t + 20, &ok);
	const char *s = ok ? name_at(td, td->types + (uint64_t)(int64_t)off, len, NULL) : NULL;
	if (s && (tflag & TF_EXTRASTAR) && *len && s[0] == '*') {
		s++;
		(*len)--;
	}
	return s;
}

static size_t kind_size(const gs_typedesc *td, int kind)
{
	switch (kind) {
	case GS_GOK_ARRAY: return 72;
	case GS_GOK_CHAN: return 64;
	case GS_GOK_FUNC: return 56;
	case GS_GOK_INTERFACE: return 80;
	case GS_GOK_MAP: return (size_t)td->map_size;
	case GS_GOK_PTR: case GS_GOK_SLICE: return 56;
	case GS_GOK_STRUCT: return 80;
	default: return 48;
	}
}

static int kind_of(const gs_typedesc *td, uint64_t t)
{
	bool ok = true;
	int k = rd8(td, t + 23, &ok) & GS_GOK_MASK;
	return ok ? k : 0;
}

/* The type at a TypeOff, or 0. */
static uint64_t type_off(const gs_typedesc *td, int32_t off)
{
	if (off <= 0)
		return 0;
	uint64_t a = td->types + (uint64_t)off;
	return in_types(td, a) ? a : 0;
}

/* Calls fn for every descriptor t points to (element, key, fields, parameters, methods,
 * PtrToThis): the edges of the closure. */
static void each_edge(gs_typedesc *td, uint64_t t, void (*fn)(gs_typedesc *, uint64_t))
{
	bool ok = true;
	int kind = kind_of(td, t);
	uint8_t tflag = rd8(td, t + 20, &ok);
	uint64_t u = t + kind_size(td, kind); /* the uncommon part, when there is one */
	switch (kind) {
	case GS_GOK_PTR: case GS_GOK_SLICE: case GS_GOK_ARRAY: case GS_GOK_CHAN:
		fn(td, rdptr(td, t + 48, &ok));
		break;
	case GS_GOK_MAP:
		fn(td, rdptr(td, t + 48, &ok));
		fn(td, rdptr(td, t + 56, &ok));
		fn(td, rdptr(td, t + 64, &ok)); /* bucket (classic) or group (swiss) */
		break;
	case GS_GOK_STRUCT: {
		uint64_t f = rdptr(td, t + 56, &ok), n = rd64(td, t + 64, &ok);
		for (uint64_t i = 0; ok && i < n && i < MAX_FIELDS; i++)
			fn(td, rdptr(td, f + 24 * i + 8, &ok));
		break;
	}
	case GS_GOK_FUNC: {
		uint16_t in = 0, out = 0;
		gs_binary_read(td->bin, t + 48, &in, 2);
		gs_binary_read(td->bin, t + 50, &out, 2);
		uint64_t p = t + 56 + ((tflag & TF_UNCOMMON) ? 16 : 0);
		unsigned np = in + (out & 0x7fffu);
		for (unsigned i = 0; ok && i < np && i < 256; i++)
			fn(td, rdptr(td, p + 8 * i, &ok));
		break;
	}
	case GS_GOK_INTERFACE: {
		uint64_t m = rdptr(td, t + 56, &ok), n = rd64(td, t + 64, &ok);
		for (uint64_t i = 0; ok && i < n && i < MAX_FIELDS; i++)
			fn(td, type_off(td, (int32_t)rd32(td, m + 8 * i + 4, &ok)));
		break;
	}
	default:
		break;
	}
	if (tflag & TF_UNCOMMON) {
		uint16_t mcount = 0;
		uint32_t moff = rd32(td, u + 8, &ok);
		gs_binary_read(td->bin, u + 4, &mcount, 2);
		for (unsigned i = 0; ok && i < mcount && i < 4096; i++)
			fn(td, type_off(td, (int32_t)rd32(td, u + moff + 16 * i + 4, &ok)));
	}
	fn(td, type_off(td, (int32_t)rd32(td, t + 44, &ok)));
}

/* ---- names ---- */

/* The import path of a named type (uncommon PkgPath), or "" for predeclared ones. */
static const char *pkg_path(const gs_typedesc *td, uint64_t t, size_t *len)
{
	bool ok = true;
	uint8_t tflag = rd8(td, t + 20, &ok);
	if (!ok || !(tflag & TF_UNCOMMON)) {
		*len = 0;
		return "";
	}
	uint64_t u = t + kind_size(td, kind_of(td, t));
	int32_t off = (int32_t)rd32(td, u, &ok);
	const char *p = ok && off > 0 ? name_at(td, td->types + (uint64_t)off, len, NULL) : NULL;
	if (!p) {
		*len = 0;
		return "";
	}
	return p;
}

static bool full_name(const gs_typedesc *td, uint64_t t, gs_strbuf *sb, int depth);

/* Go spells a type by its package name ("transport.http2Client"); DWARF and this analyser
 * by its import path ("google.golang.org/grpc/internal/transport.http2Client"). */
static bool named_name(const gs_typedesc *td, uint64_t t, gs_strbuf *sb)
{
	size_t n, plen;
	const char *s = type_str(td, t, &n);
	if (!s)
		return false;
	const char *pkg = pkg_path(td, t, &plen);
	const char *dot = memchr(s, '.', n);
	const char *br = memchr(s, '[', n);
	if (!plen || !dot || (br && br < dot)) {
		gs_strbuf_put(sb, s, n);
		return true;
	}
	gs_strbuf_put(sb, pkg, plen);
	gs_strbuf_put(sb, dot, n - (size_t)(dot - s));
	return true;
}

static bool full_name(const gs_typedesc *td, uint64_t t, gs_strbuf *sb, int depth)
{
	bool ok = true;
	if (!in_types(td, t) || depth > MAX_DEPTH)
		return false;
	uint8_t tflag = rd8(td, t + 20, &ok);
	if (!ok)
		return false;
	if (tflag & TF_NAMED)
		return named_name(td, t, sb);
	switch (kind_of(td, t)) {
	case GS_GOK_PTR:
		gs_strbuf_putc(sb, '*');
		return full_name(td, rdptr(td, t + 48, &ok), sb, depth + 1);
	case GS_GOK_SLICE:
		gs_strbuf_puts(sb, "[]");
		return full_name(td, rdptr(td, t + 48, &ok), sb, depth + 1);
	case GS_GOK_ARRAY:
		gs_strbuf_printf(sb, "[%llu]", (unsigned long long)rd64(td, t + 64, &ok));
		return full_name(td, rdptr(td, t + 48, &ok), sb, depth + 1);
	case GS_GOK_CHAN: {
		uint64_t dir = rd64(td, t + 56, &ok);
		gs_strbuf_puts(sb, dir == 1 ? "<-chan " : dir == 2 ? "chan<- " : "chan ");
		return full_name(td, rdptr(td, t + 48, &ok), sb, depth + 1);
	}
	case GS_GOK_MAP:
		gs_strbuf_puts(sb, "map[");
		if (!full_name(td, rdptr(td, t + 48, &ok), sb, depth + 1))
			return false;
		gs_strbuf_putc(sb, ']');
		return full_name(td, rdptr(td, t + 56, &ok), sb, depth + 1);
	default: { /* struct{...}, func(...), interface{...}: as Go spells them */
		size_t n;
		const char *s = type_str(td, t, &n);
		if (!s)
			return false;
		gs_strbuf_put(sb, s, n);
		return true;
	}
	}
}

static void index_put(gs_typedesc *td, const char *name, uint64_t addr)
{
	if ((td->n + 1) * 2 > td->cap) {
		size_t ncap = td->cap ? td->cap * 2 : 4096;
		slot *ns = calloc(ncap, sizeof *ns);
		if (!ns) {
			td->nomem = true;
			return;
		}
		for (size_t i = 0; i < td->cap; i++) {
			if (!td->names[i].name)
				continue;
			size_t h = gs_hash_str(td->names[i].name) & (ncap - 1);
			while (ns[h].name)
				h = (h + 1) & (ncap - 1);
			ns[h] = td->names[i];
		}
		free(td->names);
		td->names = ns;
		td->cap = ncap;
	}
	size_t h = gs_hash_str(name) & (td->cap - 1);
	while (td->names[h].name) {
		if (strcmp(td->names[h].name, name) == 0)
			return; /* the first descriptor of a name wins */
		h = (h + 1) & (td->cap - 1);
	}
	td->names[h] = (slot){intern(td, name), addr};
	td->n++;
}

static uint64_t index_get(const gs_typedesc *td, const char *name)
{
	if (!td->cap)
		return 0;
	size_t h = gs_hash_str(name) & (td->cap - 1);
	while (td->names[h].name) {
		if (strcmp(td->names[h].name, name) == 0)
			return td->names[h].addr;
		h = (h + 1) & (td->cap - 1);
	}
	return 0;
}

/* ---- the closure walk ---- */

typedef struct walk {
	gs_u64set seen; /* descriptor addresses already queued */
	uint64_t *queue;
	size_t qn, qcap;
} walk;

static void walk_add(walk *w, uint64_t a)
{
	if (!a || w->seen.n >= MAX_DESCS || !gs_u64set_add(&w->seen, a))
		return;
	if (w->qn == w->qcap) {
		size_t cap = w->qcap ? w->qcap * 2 : 4096;
		uint64_t *v = gs_reallocarray(w->queue, cap, sizeof *v, NULL);
		if (!v) {
			w->seen.failed = true; /* told at the end of the walk */
			return;
		}
		w->queue = v;
		w->qcap = cap;
	}
	w->queue[w->qn++] = a;
}

/* Adds a descriptor to the walk when it looks like one (inside the region, a known kind). */
static void walk_visit(gs_typedesc *td, uint64_t a)
{
	if (!in_types(td, a))
		return;
	int k = kind_of(td, a);
	if (k < GS_GOK_BOOL || k > GS_GOK_UNSAFEPTR)
		return;
	walk_add(td->walking, a);
}

/* Descriptor size for the 1.27 walk (abi.Type.DescriptorSize). */
static uint64_t desc_size(const gs_typedesc *td, uint64_t t)
{
	bool ok = true;
	int kind = kind_of(td, t);
	uint8_t tflag = rd8(td, t + 20, &ok);
	uint64_t n = kind_size(td, kind);
	uint16_t mcount = 0;
	if (tflag & TF_UNCOMMON) {
		gs_binary_read(td->bin, t + n + 4, &mcount, 2);
		n += 16;
	}
	if (kind == GS_GOK_STRUCT)
		n += 24 * rd64(td, t + 64, &ok);
	else if (kind == GS_GOK_INTERFACE)
		n += 8 * rd64(td, t + 64, &ok);
	else if (kind == GS_GOK_FUNC) {
		uint16_t in = 0, out = 0;
		gs_binary_read(td->bin, t + 48, &in, 2);
		gs_binary_read(td->bin, t + 50, &out, 2);
		n += 8 * (uint64_t)(in + (out & 0x7fffu));
	}
	n += 16 * (uint64_t)mcount;
	return ok ? (n + 7) & ~7ull : 0;
}

static void roots(gs_typedesc *td)
{
	bool ok = true;
	if (!td->walk_127) {
		for (uint64_t i = 0; ok && i < td->ntypelinks; i++)
			walk_visit(td, td->types + (uint64_t)(int64_t)(int32_t)rd32(td, td->typelinks + 4 * i, &ok));
		for (uint64_t i = 0; i < td->nitablinks; i++) {
			bool iok = true;
			uint64_t itab = rdptr(td, td->itablinks + 8 * i, &iok);
			if (!iok)
				break;
			walk_visit(td, rdptr(td, itab, &iok));
			walk_visit(td, rdptr(td, itab + 8, &iok));
		}
		return;
	}
	/* 1.27: typelinked descriptors back to back from types+8, each 8-aligned. */
	uint64_t a = td->types + 8, end = td->types + td->typedesclen;
	for (size_t k = 0; a < end && k < MAX_DESCS; k++) {
		int kind = kind_of(td, a);
		uint64_t sz = kind >= GS_GOK_BOOL && kind <= GS_GOK_UNSAFEPTR ? desc_size(td, a) : 0;
		if (!sz)
			break;
		walk_add(td->walking, a);
		a += sz;
	}
	/* Itabs: Inter @0, Type @8, Hash @16, Fun[...] @24. */
	uint64_t i = td->types + td->itaboffset, iend = i + td->itabsize;
	for (size_t k = 0; i + 32 <= iend && k < MAX_DESCS; k++) {
		uint64_t inter = rdptr(td, i, &ok), typ = rdptr(td, i + 8, &ok);
		uint64_t fun0 = rd64(td, i + 24, &ok);
		if (!ok || !in_types(td, inter))
			break;
		walk_visit(td, inter);
		walk_visit(td, typ);
		uint64_t nm = rd64(td, inter + 64, &ok);
		i += fun0 == 0 || nm == 0 ? 32 : 24 + 8 * nm;
	}
}

static void build_index(gs_typedesc *td)
{
	walk w = {0};
	td->walking = &w;
	roots(td);
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	for (size_t q = 0; q < w.qn; q++) {
		uint64_t t = w.queue[q];
		each_edge(td, t, walk_visit);
		sb.len = 0;
		if (full_name(td, t, &sb, 0) && sb.len && !gs_strbuf_failed(&sb))
			index_put(td, sb.buf, t);
	}
	td->nomem |= w.seen.failed || gs_strbuf_failed(&sb);
	td->walking = NULL;
	gs_strbuf_free(&sb);
	gs_u64set_free(&w.seen);
	free(w.queue);
	td->indexed = true;
}

/* ---- gs_dtype graph ---- */

static void push_pending(gs_typedesc *td, gs_dtype *t)
{
	if (td->npending == td->pcap) {
		size_t cap = td->pcap ? td->pcap * 2 : 256;
		gs_dtype **v = gs_reallocarray(td->pending, cap, sizeof *v, NULL);
		if (!v) {
			td->nomem = true; /* t is never filled: nothing is handed out any more */
			return;
		}
		td->pending = v;
		td->pcap = cap;
	}
	td->pending[td->npending++] = t;
}

/* The gs_dtype of the descriptor at addr, created (and queued to be filled) on first use. */
static gs_dtype *get_type(gs_typedesc *td, uint64_t addr)
{
	if (!in_types(td, addr))
		return NULL;
	if ((td->bn + 1) * 2 > td->bcap) {
		size_t ncap = td->bcap ? td->bcap * 2 : 1024;
		built *nb = calloc(ncap, sizeof *nb);
		if (!nb) {
			td->nomem = true;
			return NULL;
		}
		for (size_t i = 0; i < td->bcap; i++) {
			if (!td->types_by_addr[i].addr)
				continue;
			size_t h = gs_hash_u64(td->types_by_addr[i].addr) & (ncap - 1);
			while (nb[h].addr)
				h = (h + 1) & (ncap - 1);
			nb[h] = td->types_by_addr[i];
		}
		free(td->types_by_addr);
		td->types_by_addr = nb;
		td->bcap = ncap;
	}
	size_t h = gs_hash_u64(addr) & (td->bcap - 1);
	while (td->types_by_addr[h].addr) {
		if (td->types_by_addr[h].addr == addr)
			return td->types_by_addr[h].type;
		h = (h + 1) & (td->bcap - 1);
	}
	gs_dtype *t = td_alloc(td, sizeof *t);
	if (!t)
		return NULL;
	t->die_offset = addr; /* the descriptor's link address, for messages */
	t->source = GS_TR_DESCRIPTOR;
	td->types_by_addr[h] = (built){addr, t};
	td->bn++;
	push_pending(td, t);
	return t;
}

gs_dtype *gs_typedesc_new_type(gs_typedesc *td, const char *name, int kind, uint64_t size)
{
	gs_dtype *t = td_alloc(td, sizeof *t);
	if (!t)
		return NULL;
	t->name = intern(td, name);
	t->kind = (enum gs_dkind)kind;
	t->size = size;
	t->source = GS_TR_TABLE;
	return t;
}

void gs_typedesc_set_members(gs_typedesc *td, gs_dtype *t, const gs_dmember *m, size_t n)
{
	gs_dmember *c = td_alloc(td, (n ? n : 1) * sizeof *c);
	if (!c)
		return;
	if (n) /* a type whose own members were never read (m NULL): none */
		memcpy(c, m, n * sizeof *c);
	t->members = c;
	t->nmembers = n;
}

/* Types the descriptors imply but do not spell out (a slice's header, *T for T). */
static gs_dtype *synth(gs_typedesc *td, const char *prefix, const gs_dtype *elem, int kind,
		       uint64_t size)
{
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_strbuf_puts(&sb, prefix);
	gs_strbuf_puts(&sb, elem && elem->name ? elem->name : "?");
	gs_dtype *t = gs_typedesc_new_type(td, sb.buf, kind, size);
	gs_strbuf_free(&sb);
	t->elem = elem;
	t->source = GS_TR_DESCRIPTOR;
	return t;
}

static const gs_dtype *basic(gs_typedesc *td, const char *name, uint64_t size)
{
	gs_dtype *t = gs_typedesc_new_type(td, name, GS_DK_BASE, size);
	t->source = GS_TR_DESCRIPTOR;
	return t;
}

static void header_members(gs_typedesc *td, gs_dtype *t, const char *const *names,
			   const gs_dtype *const *types, size_t n)
{
	gs_dmember m[3];
	for (size_t i = 0; i < n; i++)
		m[i] = (gs_dmember){names[i], 8 * i, types[i]};
	gs_typedesc_set_members(td, t, m, n);
}

static void fill(gs_typedesc *td, gs_dtype *t);

/* What a map value points to: the classic hmap with its buckets typed by the map's own
 * bucket descriptor (as DWARF's hash<K,V>), or the swiss maps.Map. */
static const gs_dtype *map_header(gs_typedesc *td, uint64_t a)
{
	bool ok = true;
	if (td->map_size != 88) {
		uint64_t m = index_get(td, "internal/runtime/maps.Map");
		gs_dtype *mt = m ? get_type(td, m) : NULL;
		return mt ? synth(td, "*", mt, GS_DK_POINTER, 8) : NULL;
	}
	uint64_t h = index_get(td, "runtime.hmap");
	gs_dtype *ht = h ? get_type(td, h) : NULL;
	gs_dtype *bt = get_type(td, rdptr(td, a + 64, &ok));
	if (!ht || !bt)
		return NULL;
	if (!ht->has_runtime_type)
		fill(td, ht);
	gs_dtype *hh = synth(td, "hash<", bt, GS_DK_STRUCT, ht->size);
	gs_typedesc_set_members(td, hh, ht->members, ht->nmembers);
	const gs_dtype *bp = synth(td, "*", bt, GS_DK_POINTER, 8);
	for (size_t i = 0; i < hh->nmembers; i++) {
		gs_dmember *m = (gs_dmember *)&hh->members[i];
		if (strcmp(m->name, "buckets") == 0 || strcmp(m->name, "oldbuckets") == 0)
			m->type = bp;
	}
	return synth(td, "*", hh, GS_DK_POINTER, 8);
}

static void fill_struct(gs_typedesc *td, gs_dtype *t, uint64_t a)
{
	bool ok = true;
	uint64_t f = rdptr(td, a + 56, &ok), n = rd64(td, a + 64, &ok);
	if (!ok || n > MAX_FIELDS)
		return;
	gs_dmember *m = td_alloc(td, (n ? n : 1) * sizeof *m);
	if (!m)
		return;
	size_t k = 0;
	for (uint64_t i = 0; i < n; i++) {
		size_t len;
		uint64_t na = rdptr(td, f + 24 * i, &ok);
		const char *nm = ok ? name_at(td, na, &len, NULL) : NULL;
		if (!nm)
			continue;
		char buf[MAX_NAME + 1];
		memcpy(buf, nm, len);
		buf[len] = '\0';
		m[k].name = intern(td, buf);
		m[k].type = get_type(td, rdptr(td, f + 24 * i + 8, &ok));
		m[k].offset = rd64(td, f + 24 * i + 16, &ok);
		k++;
	}
	t->members = m;
	t->nmembers = k;
}

static void fill(gs_typedesc *td, gs_dtype *t)
{
	bool ok = true;
	uint64_t a = t->die_offset;
	int kind = kind_of(td, a);
	t->has_runtime_type = true;
	t->runtime_type = a - td->types;
	t->size = rd64(td, a, &ok);
	t->go_kind = kind;
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	t->name = intern(td, full_name(td, a, &sb, 0) && !gs_strbuf_failed(&sb) ? sb.buf : "?");
	td->nomem |= gs_strbuf_failed(&sb);
	gs_strbuf_free(&sb);
	const gs_dtype *u8p = NULL, *intt = NULL;
	switch (kind) {
	case GS_GOK_STRING:
		t->kind = GS_DK_STRING;
		u8p = synth(td, "*", basic(td, "uint8", 1), GS_DK_POINTER, 8);
		intt = basic(td, "int", 8);
		header_members(td, t, (const char *const[]){"str", "len"},
			       (const gs_dtype *const[]){u8p, intt}, 2);
		break;
	case GS_GOK_UNSAFEPTR:
		t->kind = GS_DK_POINTER;
		break;
	case GS_GOK_PTR:
		t->kind = GS_DK_POINTER;
		t->elem = get_type(td, rdptr(td, a + 48, &ok));
		break;
	case GS_GOK_SLICE:
		t->kind = GS_DK_SLICE;
		t->elem = get_type(td, rdptr(td, a + 48, &ok));
		intt = basic(td, "int", 8);
		header_members(td, t, (const char *const[]){"array", "len", "cap"},
			       (const gs_dtype *const[]){synth(td, "*", t->elem, GS_DK_POINTER, 8),
							 intt, intt}, 3);
		break;
	case GS_GOK_ARRAY:
		t->kind = GS_DK_ARRAY;
		t->elem = get_type(td, rdptr(td, a + 48, &ok));
		t->count = rd64(td, a + 64, &ok);
		break;
	case GS_GOK_CHAN:
		t->kind = GS_DK_CHAN;
		t->elem = get_type(td, rdptr(td, a + 48, &ok));
		break;
	case GS_GOK_MAP:
		t->kind = GS_DK_MAP;
		t->key = get_type(td, rdptr(td, a + 48, &ok));
		t->elem = get_type(td, rdptr(td, a + 56, &ok));
		t->underlying = map_header(td, a);
		break;
	case GS_GOK_STRUCT:
		t->kind = GS_DK_STRUCT;
		fill_struct(td, t, a);
		break;
	case GS_GOK_INTERFACE: {
		t->kind = GS_DK_INTERFACE;
		uint64_t nm = rd64(td, a + 64, &ok);
		const gs_dtype *up = synth(td, "", basic(td, "unsafe.Pointer", 8), GS_DK_POINTER, 8);
		gs_dtype *u = gs_typedesc_new_type(td, nm ? "runtime.iface" : "runtime.eface",
						   GS_DK_STRUCT, 16);
		u->source = GS_TR_DESCRIPTOR;
		header_members(td, u, (const char *const[]){nm ? "tab" : "_type", "data"},
			       (const gs_dtype *const[]){up, up}, 2);
		t->underlying = u;
		break;
	}
	case GS_GOK_FUNC:
		t->kind = GS_DK_FUNC;
		break;
	default:
		t->kind = kind >= GS_GOK_BOOL && kind <= GS_GOK_COMPLEX128 ? GS_DK_BASE : GS_DK_OTHER;
		break;
	}
}

static void drain(gs_typedesc *td)
{
	while (td->npending) {
		gs_dtype *t = td->pending[--td->npending];
		if (!t->has_runtime_type)
			fill(td, t);
	}
}

const gs_dtype *gs_typedesc_type(gs_typedesc *td, const char *name, gs_err *err)
{
	if (!td->indexed)
		build_index(td);
	uint64_t a = index_get(td, name);
	gs_dtype *t = a ? get_type(td, a) : NULL;
	if (!t && !td->nomem) {
		gs_errf(err, GS_ENOTFOUND, "%s: no type descriptor of that name", name);
		return NULL;
	}
	drain(td);
	if (td->nomem) {
		gs_errf(err, GS_EINTERNAL, "%s: reading type descriptors: out of memory", name);
		return NULL;
	}
	return t;
}

bool gs_typedesc_nomem(const gs_typedesc *td)
{
	return td->nomem;
}

int gs_typedesc_flags(gs_typedesc *td, const char *name, uint8_t *kind, uint8_t *tflag)
{
	if (!td->indexed)
		build_index(td);
	uint64_t a = index_get(td, name);
	bool ok = a != 0;
	*kind = ok ? rd8(td, a + 23, &ok) : 0;
	*tflag = ok ? rd8(td, a + 20, &ok) : 0;
	return ok ? 0 : -1;
}

const gs_dtype *gs_typedesc_type_at(gs_typedesc *td, uint64_t addr)
{
	int k = in_types(td, addr) ? kind_of(td, addr) : 0;
	if (k < GS_GOK_BOOL || k > GS_GOK_UNSAFEPTR)
		return NULL;
	gs_dtype *t = get_type(td, addr);
	drain(td);
	return td->nomem ? NULL : t;
}

/* ---- opening ---- */

/* moduledata offsets (amd64) of the fields read here, by layout generation. */
typedef struct md_layout {
	int from, to; /* Go minor versions */
	uint32_t types, etypes, typelinks, itablinks, typedesclen, itaboffset, itabsize;
} md_layout;

static const md_layout md_layouts[] = {
	{19, 19, 280, 288, 336, 360, 0, 0, 0},
	{20, 25, 296, 304, 352, 376, 0, 0, 0},
	{26, 26, 296, 304, 360, 384, 0, 0, 0},
	{27, 99, 296, 312, 0, 0, 304, 320, 328},
};

static int minor_of(const char *v)
{
	if (!v || strncmp(v, "go1.", 4) != 0)
		return 0;
	return atoi(v + 4);
}

/* Reads the region fields for one layout and checks them against the file. */
static bool try_layout(gs_typedesc *td, const md_layout *l)
{
	bool ok = true;
	td->types = rdptr(td, td->md + l->types, &ok);
	td->etypes = rdptr(td, td->md + l->etypes, &ok);
	if (!ok || td->etypes <= td->types || td->etypes - td->types > (1ull << 32) ||
	    !gs_binary_ptr(td->bin, td->types, NULL))
		return false;
	td->walk_127 = l->typedesclen != 0;
	if (td->walk_127) {
		td->typedesclen = rd64(td, td->md + l->typedesclen, &ok);
		td->itaboffset = rd64(td, td->md + l->itaboffset, &ok);
		td->itabsize = rd64(td, td->md + l->itabsize, &ok);
		return ok && td->typedesclen <= td->etypes - td->types &&
		       td->itaboffset + td->itabsize <= td->etypes - td->types;
	}
	td->typelinks = rdptr(td, td->md + l->typelinks, &ok);
	td->ntypelinks = rd64(td, td->md + l->typelinks + 8, &ok);
	td->itablinks = rdptr(td, td->md + l->itablinks, &ok);
	td->nitablinks = rd64(td, td->md + l->itablinks + 8, &ok);
	size_t avail = 0;
	return ok && td->ntypelinks > 0 && td->ntypelinks < MAX_DESCS &&
	       td->nitablinks < MAX_DESCS && gs_binary_ptr(td->bin, td->typelinks, &avail) &&
	       avail >= 4 * td->ntypelinks &&
	       (!td->nitablinks || gs_binary_ptr(td->bin, td->itablinks, NULL));
}

gs_typedesc *gs_typedesc_open(gs_binary *b, const gs_pclntab *pc, int go_minor, gs_err *err)
{
	uint64_t md;
	if (gs_pclntab_moduledata(pc, &md) < 0) {
		gs_errf(err, GS_EINPUT, "%s: no Go moduledata found (damaged binary?)",
			gs_binary_path(b));
		return NULL;
	}
	if (!go_minor) {
		gs_buildinfo bi;
		if (gs_buildinfo_read(b, &bi, NULL) == 0) {
			go_minor = minor_of(bi.go_version);
			gs_buildinfo_free(&bi);
		}
	}
	return gs_typedesc_open_at(b, md, go_minor, gs_pclntab_format(pc), err);
}

gs_typedesc *gs_typedesc_open_at(gs_binary *b, uint64_t md, int go_minor, int pcln_format,
				 gs_err *err)
{
	gs_typedesc *td = gs_calloc(1, sizeof *td, err);
	if (!td)
		return NULL;
	td->bin = b;
	td->md = md;
	td->go_minor = go_minor;
	bool found = false;
	for (size_t i = 0; i < sizeof md_layouts / sizeof md_layouts[0] && !found; i++) {
		const md_layout *l = &md_layouts[i];
		if (go_minor && (go_minor < l->from || go_minor > l->to))
			continue;
		if (!go_minor && pcln_format == 18 && l->from != 19)
			continue;
		found = try_layout(td, l);
	}
	if (!found) {
		gs_errf(err, GS_EINPUT, "%s: moduledata at 0x%llx has no plausible type region",
			gs_binary_path(b), (unsigned long long)td->md);
		gs_typedesc_close(td);
		return NULL;
	}
	td->map_size = go_minor && go_minor <= 23 ? 88 : go_minor >= 27 ? 136 : 112;
	if (!go_minor && pcln_format == 18)
		td->map_size = 88;
	return td;
}

void gs_typedesc_close(gs_typedesc *td)
{
	if (!td)
		return;
	for (size_t i = 0; i < td->nallocs; i++)
		free(td->allocs[i]);
	free(td->allocs);
	free(td->names);
	free(td->types_by_addr);
	free(td->pending);
	gs_strpool_free(&td->pool);
	free(td);
}

uint64_t gs_typedesc_moduledata(const gs_typedesc *td)
{
	return td->md;
}

void gs_typedesc_region(const gs_typedesc *td, uint64_t *types, uint64_t *etypes)
{
	*types = td->types;
	*etypes = td->etypes;
}

size_t gs_typedesc_count(const gs_typedesc *td)
{
	return td->n;
}
