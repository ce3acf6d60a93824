#include "pclntab.h"

#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "varint.h"
#include "../util/hash.h"

#define MAGIC_116 0xfffffffau
#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u
#define MAGIC_12 0xfffffffbu

#define PCDATA_INLTREEINDEX 2
#define FUNCDATA_INLTREE 3

/* No real program comes near these; beyond them the header is corrupt. */
#define MAX_FUNCS (1u << 24)
#define MAX_INLINE_DEPTH 1024

/* Where the fields of runtime._func sit; the record changed in 1.18 and 1.20. */
typedef struct func_layout {
	uint8_t nameoff, pcsp, pcfile, pcln, npcdata, cuoff, funcid, flag, nfuncdata, size;
} func_layout;

typedef struct span {
	const uint8_t *p;
	size_t len;
} span;

struct gs_pclntab {
	gs_binary *bin;
	const uint8_t *data; /* the header, in the file mapping */
	uint64_t addr;       /* its link address */
	int format;
	uint8_t quantum, ptrsize;
	uint32_t nfunc;
	uint64_t text;
	span funcnames, cutab, filetab, pctab, pclntable;
	size_t ftab_entsize;
	func_layout fl;
	/* moduledata.gofunc: 1.18+ funcdata are offsets from it. 0 when not found. */
	uint64_t gofunc;
	size_t inl_size;
	uint32_t *namehash; /* open addressing; slot = function index + 1 */
	size_t namehash_cap;
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint64_t rdptr(const gs_pclntab *t, const uint8_t *p)
{
	return t->ptrsize == 8 ? rd64(p) : rd32(p);
}

static uint64_t ftab_entry(const gs_pclntab *t, uint32_t i)
{
	const uint8_t *e = t->pclntable.p + (size_t)i * t->ftab_entsize;
	return t->format == 16 ? rdptr(t, e) : t->text + rd32(e);
}

static const uint8_t *func_rec(const gs_pclntab *t, uint32_t i)
{
	const uint8_t *e = t->pclntable.p + (size_t)i * t->ftab_entsize;
	uint64_t off = t->format == 16 ? rdptr(t, e + t->ptrsize) : rd32(e + 4);
	return t->pclntable.p + off; /* validated at open */
}

static int set_layout(gs_pclntab *t)
{
	switch (t->format) {
	case 16: { /* entry is a uintptr, the rest shifts with it */
		uint8_t p = t->ptrsize;
		t->fl = (func_layout){p, p + 12, p + 16, p + 20, p + 24, p + 28, p + 32, p + 33,
				      p + 35, p + 36};
		t->ftab_entsize = 2u * p;
		t->inl_size = 20;
		break;
	}
	case 18:
		t->fl = (func_layout){4, 16, 20, 24, 28, 32, 36, 37, 39, 40};
		t->ftab_entsize = 8;
		t->inl_size = 20;
		break;
	default: /* 1.20 added startLine before funcID and shrank inlinedCall */
		t->fl = (func_layout){4, 16, 20, 24, 28, 32, 40, 41, 43, 44};
		t->ftab_entsize = 8;
		t->inl_size = 16;
		break;
	}
	return 0;
}

/* The table bytes: the section when the linker kept one, else what the symbols bound. */
static int locate(gs_pclntab *t, const uint8_t **data, size_t *size, gs_err *err)
{
	static const char *const names[] = {".gopclntab", ".data.rel.ro.gopclntab"};
	for (size_t i = 0; i < 2; i++) {
		const gs_section *s = gs_binary_section(t->bin, names[i]);
		if (!s)
			continue;
		*data = gs_binary_section_data(t->bin, s, err);
		if (!*data)
			return -1;
		*size = s->size;
		t->addr = s->addr;
		return 0;
	}
	uint64_t start, end, sz;
	size_t avail;
	if (gs_binary_symbol(t->bin, "runtime.pclntab", &start, &sz) == 0 &&
	    (*data = gs_binary_ptr(t->bin, start, &avail)) != NULL) {
		*size = avail;
		if (gs_binary_symbol(t->bin, "runtime.epclntab", &end, NULL) == 0 && end >= start &&
		    end - start < avail)
			*size = end - start;
		t->addr = start;
		return 0;
	}
	return gs_errf(err, GS_EINPUT, "%s: no Go pclntab (not a Go binary?)",
		       gs_binary_path(t->bin));
}

static int parse_header(gs_pclntab *t, const uint8_t *d, size_t size, gs_err *err)
{
	const char *path = gs_binary_path(t->bin);
	if (size < 8)
		return gs_errf(err, GS_EINPUT, "%s: pclntab truncated (%zu bytes)", path, size);
	uint32_t magic = rd32(d);
	switch (magic) {
	case MAGIC_116: t->format = 16; break;
	case MAGIC_118: t->format = 18; break;
	case MAGIC_120: t->format = 20; break;
	case MAGIC_12:
		return gs_errf(err, GS_EINPUT,
			       "%s: pclntab format of Go 1.2-1.15 is not supported", path);
	default:
		return gs_errf(err, GS_EINPUT, "%s: bad pclntab magic 0x%08x", path, magic);
	}
	t->quantum = d[6];
	t->ptrsize = d[7];
	if (d[4] || d[5] || (t->ptrsize != 4 && t->ptrsize != 8) ||
	    (t->quantum != 1 && t->quantum != 2 && t->quantum != 4))
		return gs_errf(err, GS_EINPUT, "%s: corrupt pclntab header", path);
	size_t nwords = t->format == 16 ? 7 : 8;
	size_t hsize = 8 + nwords * t->ptrsize;
	if (size < hsize)
		return gs_errf(err, GS_EINPUT, "%s: pclntab truncated (%zu bytes)", path, size);
	uint64_t w[8];
	for (size_t i = 0; i < nwords; i++)
		w[i] = rdptr(t, d + 8 + i * t->ptrsize);
	if (t->format == 16) { /* no textStart word: entries are absolute */
		memmove(w + 3, w + 2, 5 * sizeof w[0]);
		w[2] = 0;
	}
	if (w[0] > MAX_FUNCS)
		return gs_errf(err, GS_EINPUT, "%s: corrupt pclntab header (%llu functions)", path,
			       (unsigned long long)w[0]);
	t->nfunc = (uint32_t)w[0];
	t->text = w[2];
	/* The linker writes the sub-tables in this order; anything else is corruption. */
	uint64_t offs[6] = {w[3], w[4], w[5], w[6], w[7], size};
	if (offs[0] < hsize)
		return gs_errf(err, GS_EINPUT, "%s: corrupt pclntab header (table offsets)", path);
	for (size_t i = 0; i < 5; i++) {
		if (offs[i] > offs[i + 1])
			return gs_errf(err, GS_EINPUT,
				       "%s: corrupt pclntab header (table offsets)", path);
	}
	span *tabs[5] = {&t->funcnames, &t->cutab, &t->filetab, &t->pctab, &t->pclntable};
	for (size_t i = 0; i < 5; i++)
		*tabs[i] = (span){d + offs[i], offs[i + 1] - offs[i]};
	return 0;
}

/* True when md (the first 16+ bytes of a candidate moduledata) points at this table: its
 * first two words are the pcHeader and funcnametab addresses. */
static bool is_moduledata(const gs_pclntab *t, const uint8_t *md)
{
	return rd64(md) == t->addr &&
	       rd64(md + 8) == t->addr + (uint64_t)(t->funcnames.p - t->data);
}

/* Finds moduledata (runtime.firstmoduledata, .go.module from 1.26, or the word in writable
 * data that points at the pclntab, as the runtime's first field does) and reads n bytes. */
static bool find_moduledata(const gs_pclntab *t, uint64_t *at, uint8_t *md, size_t n)
{
	uint64_t addr;
	const gs_section *s;
	if (n < 16)
		return false;
	if (gs_binary_symbol(t->bin, "runtime.firstmoduledata", &addr, NULL) == 0 &&
	    gs_binary_read(t->bin, addr, md, n) == 0 && is_moduledata(t, md)) {
		*at = addr;
		return true;
	}
	if ((s = gs_binary_section(t->bin, ".go.module")) != NULL &&
	    gs_binary_read(t->bin, s->addr, md, n) == 0 && is_moduledata(t, md)) {
		*at = s->addr;
		return true;
	}
	/* .noptrdata first (where the linker puts it up to 1.25), then every writable
	 * segment (sections may be gone). */
	uint64_t lo[8], len[8];
	size_t nr = 0;
	if ((s = gs_binary_section(t->bin, ".noptrdata")) != NULL) {
		lo[nr] = s->addr;
		len[nr++] = s->size;
	}
	for (size_t i = 0; i < gs_binary_nsegments(t->bin) && nr < 8; i++) {
		const gs_segment *g = gs_binary_segment(t->bin, i);
		if (g->flags & 2 /* PF_W */) {
			lo[nr] = g->vaddr;
			len[nr++] = g->filesz;
		}
	}
	for (size_t r = 0; r < nr; r++) {
		size_t avail;
		const uint8_t *p = gs_binary_ptr(t->bin, lo[r], &avail);
		if (!p)
			continue;
		if (avail > len[r])
			avail = (size_t)len[r];
		for (size_t off = 0; off + n <= avail; off += 8) {
			if (is_moduledata(t, p + off)) {
				memcpy(md, p + off, n);
				*at = lo[r] + off;
				return true;
			}
		}
	}
	return false;
}

static bool read_moduledata(const gs_pclntab *t, uint8_t *md, size_t n)
{
	uint64_t at;
	return find_moduledata(t, &at, md, n);
}

int gs_pclntab_moduledata(const gs_pclntab *t, uint64_t *addr)
{
	uint8_t md[16];
	return t->ptrsize == 8 && find_moduledata(t, addr, md, sizeof md) ? 0 : -1;
}

uint64_t gs_pclntab_addr(const gs_pclntab *t)
{
	return t->addr;
}

/* 1.26+ writes textStart as 0: the runtime uses moduledata.text instead. */
static void find_text(gs_pclntab *t)
{
	uint64_t addr;
	uint8_t md[184];
	if (t->format == 16 || t->text != 0)
		return;
	if (gs_binary_symbol(t->bin, "runtime.text", &addr, NULL) == 0) {
		t->text = addr;
	} else if (t->ptrsize == 8 && read_moduledata(t, md, sizeof md)) {
		t->text = rd64(md + 176);
	} else {
		const gs_section *s = gs_binary_section(t->bin, ".text");
		if (s)
			t->text = s->addr;
	}
}

/* moduledata.gofunc, the base of 1.18+ funcdata offsets (inline trees). The go:func.*
 * symbol marks it; stripped binaries need moduledata, whose layout is fixed per release. */
static void find_gofunc(gs_pclntab *t)
{
	uint64_t addr;
	if (t->format == 16)
		return;
	if (gs_binary_symbol(t->bin, "go:func.*", &addr, NULL) == 0 ||
	    gs_binary_symbol(t->bin, "go.func.*", &addr, NULL) == 0) {
		t->gofunc = addr;
		return;
	}
	if (t->ptrsize != 8)
		return;
	size_t off = 304; /* 1.18/1.19 */
	if (gs_binary_section(t->bin, ".go.type") ||
	    gs_binary_section(t->bin, ".data.rel.ro.go.type"))
		off = 344; /* 1.27 inserted typedesclen, itaboffset and itabsize */
	else if (t->format == 20)
		off = 320; /* 1.20 inserted covctrs/ecovctrs */
	uint8_t md[352];
	if (!read_moduledata(t, md, off + 8))
		return;
	uint64_t rodata = rd64(md + off - 8), gofunc = rd64(md + off);
	if (rodata <= gofunc && gs_binary_ptr(t->bin, gofunc, NULL))
		t->gofunc = gofunc;
}

/* Bounded strlen: SIZE_MAX when s is not terminated within n bytes. */
static size_t bstrlen(const uint8_t *s, size_t n)
{
	const uint8_t *z = memchr(s, 0, n);
	return z ? (size_t)(z - s) : SIZE_MAX;
}

/* Every function record, its name and its order are checked once here, so that lookups
 * can trust them and stay cheap. */
static int check_functab(gs_pclntab *t, gs_err *err)
{
	const char *path = gs_binary_path(t->bin);
	if (((uint64_t)t->nfunc + 1) * t->ftab_entsize > t->pclntable.len)
		return gs_errf(err, GS_EINPUT, "%s: pclntab function table truncated", path);
	uint64_t prev = 0;
	for (uint32_t i = 0; i <= t->nfunc; i++) {
		uint64_t entry = ftab_entry(t, i);
		if (entry < prev)
			return gs_errf(err, GS_EINPUT, "%s: pclntab function table not sorted at %u",
				       path, i);
		prev = entry;
		if (i == t->nfunc)
			break;
		const uint8_t *e = t->pclntable.p + (size_t)i * t->ftab_entsize;
		uint64_t off = t->format == 16 ? rdptr(t, e + t->ptrsize) : rd32(e + 4);
		if (off > t->pclntable.len || t->pclntable.len - off < t->fl.size)
			return gs_errf(err, GS_EINPUT, "%s: pclntab function %u out of range", path,
				       i);
		uint32_t nameoff = rd32(t->pclntable.p + off + t->fl.nameoff);
		if (nameoff >= t->funcnames.len ||
		    bstrlen(t->funcnames.p + nameoff, t->funcnames.len - nameoff) == SIZE_MAX)
			return gs_errf(err, GS_EINPUT, "%s: pclntab function %u: bad name offset",
				       path, i);
	}
	return 0;
}

static const char *func_name(const gs_pclntab *t, const uint8_t *rec)
{
	return (const char *)t->funcnames.p + rd32(rec + t->fl.nameoff);
}

static int build_name_index(gs_pclntab *t, gs_err *err)
{
	t->namehash_cap = 16;
	while (t->namehash_cap < (size_t)t->nfunc * 2)
		t->namehash_cap *= 2;
	t->namehash = gs_calloc(t->namehash_cap, sizeof *t->namehash, err);
	if (!t->namehash)
		return -1;
	size_t mask = t->namehash_cap - 1;
	for (uint32_t i = 0; i < t->nfunc; i++) {
		const char *name = func_name(t, func_rec(t, i));
		for (size_t h = gs_hash_str(name) & mask;; h = (h + 1) & mask) {
			uint32_t slot = t->namehash[h];
			if (slot == 0) {
				t->namehash[h] = i + 1;
				break;
			}
			if (strcmp(func_name(t, func_rec(t, slot - 1)), name) == 0)
				break;
		}
	}
	return 0;
}

gs_pclntab *gs_pclntab_open(gs_binary *b, gs_err *err)
{
	gs_pclntab *t = gs_calloc(1, sizeof *t, err);
	if (!t)
		return NULL;
	t->bin = b;
	const uint8_t *data = NULL;
	size_t size = 0;
	if (locate(t, &data, &size, err) < 0 || parse_header(t, data, size, err) < 0)
		goto fail;
	t->data = data;
	set_layout(t);
	find_text(t);
	if (t->format != 16 && t->text == 0) {
		gs_errf(err, GS_EINPUT, "%s: cannot find the text start for the pclntab",
			gs_binary_path(b));
		goto fail;
	}
	if (check_functab(t, err) < 0)
		goto fail;
	find_gofunc(t);
	if (build_name_index(t, err) < 0)
		goto fail;
	return t;
fail:
	gs_pclntab_close(t);
	return NULL;
}

void gs_pclntab_close(gs_pclntab *t)
{
	if (!t)
		return;
	free(t->namehash);
	free(t);
}

int gs_pclntab_format(const gs_pclntab *t) { return t->format; }
uint32_t gs_pclntab_nfuncs(const gs_pclntab *t) { return t->nfunc; }
uint64_t gs_pclntab_text_start(const gs_pclntab *t) { return t->text; }

int gs_pclntab_func_at(const gs_pclntab *t, uint32_t index, gs_func *out)
{
	if (index >= t->nfunc)
		return -1;
	const uint8_t *rec = func_rec(t, index);
	out->entry = ftab_entry(t, index);
	out->end = ftab_entry(t, index + 1);
	out->name = func_name(t, rec);
	out->funcid = rec[t->fl.funcid];
	out->flag = rec[t->fl.flag];
	out->index = index;
	return 0;
}

int gs_pclntab_find(const gs_pclntab *t, uint64_t pc, gs_func *out)
{
	if (t->nfunc == 0 || pc < ftab_entry(t, 0) || pc >= ftab_entry(t, t->nfunc))
		return -1;
	uint32_t lo = 0, hi = t->nfunc; /* entry(lo) <= pc < entry(hi) */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ftab_entry(t, mid) <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return gs_pclntab_func_at(t, lo, out);
}

int gs_pclntab_lookup(const gs_pclntab *t, const char *name, gs_func *out)
{
	size_t mask = t->namehash_cap - 1;
	for (size_t h = gs_hash_str(name) & mask;; h = (h + 1) & mask) {
		uint32_t slot = t->namehash[h];
		if (slot == 0)
			return -1;
		if (strcmp(func_name(t, func_rec(t, slot - 1)), name) == 0)
			return gs_pclntab_func_at(t, slot - 1, out);
	}
}

/* The runtime's pcvalue: a stream of (zig-zag value delta, pc delta) varint pairs
 * starting at the entry with value -1; the value before the first pc beyond target. */
static bool pcvalue(const gs_pclntab *t, uint32_t off, uint64_t entry, uint64_t target,
		    int32_t *val)
{
	if (off == 0 || off >= t->pctab.len)
		return false;
	const uint8_t *p = t->pctab.p + off;
	size_t len = t->pctab.len - off, pos = 0;
	uint32_t v = (uint32_t)-1;
	uint64_t pc = entry;
	for (bool first = true;; first = false) {
		uint64_t uv, pcdelta;
		if (!gs_uvarint(p, len, &pos, 32, &uv) || (uv == 0 && !first))
			return false;
		uint32_t d = (uint32_t)uv;
		v += (d & 1) ? ~(d >> 1) : d >> 1;
		if (!gs_uvarint(p, len, &pos, 32, &pcdelta))
			return false;
		pc += (uint32_t)pcdelta * (uint64_t)t->quantum;
		if (target < pc) {
			*val = (int32_t)v;
			return true;
		}
	}
}

/* The function record for f, checked against the table (f comes from the caller). */
static const uint8_t *rec_of(const gs_pclntab *t, const gs_func *f)
{
	if (!f || f->index >= t->nfunc)
		return NULL;
	return func_rec(t, f->index);
}

int32_t gs_pclntab_spdelta(const gs_pclntab *t, const gs_func *f, uint64_t pc, bool *ok)
{
	const uint8_t *rec = rec_of(t, f);
	int32_t v;
	bool good = rec && pc >= f->entry && pcvalue(t, rd32(rec + t->fl.pcsp), f->entry, pc, &v);
	if (ok)
		*ok = good;
	return good ? v : -1;
}

/* Offset of byte n of the function record's trailing arrays, if the record holds it. */
static bool rec_tail(const gs_pclntab *t, const uint8_t *rec, uint64_t n, size_t len)
{
	uint64_t start = (uint64_t)(rec - t->pclntable.p) + t->fl.size;
	return start + n <= t->pclntable.len && t->pclntable.len - start - n >= len;
}

static bool pcdata_off(const gs_pclntab *t, const uint8_t *rec, uint32_t i, uint32_t *off)
{
	uint32_t npcdata = rd32(rec + t->fl.npcdata);
	if (i >= npcdata || !rec_tail(t, rec, (uint64_t)i * 4, 4))
		return false;
	*off = rd32(rec + t->fl.size + i * 4);
	return *off != 0;
}

/* Link address of funcdata i, or 0. */
static uint64_t funcdata_addr(const gs_pclntab *t, const uint8_t *rec, uint32_t i)
{
	uint32_t npcdata = rd32(rec + t->fl.npcdata);
	if (i >= rec[t->fl.nfuncdata])
		return 0;
	uint64_t base = (uint64_t)npcdata * 4;
	if (t->format == 16) {
		/* 1.16 stores pointers, aligned by address as the runtime reads them. */
		uint64_t abs = t->addr + (uint64_t)(rec - t->data) + t->fl.size + base;
		if (t->ptrsize == 8 && (abs & 4))
			base += 4;
		if (!rec_tail(t, rec, base + (uint64_t)i * t->ptrsize, t->ptrsize))
			return 0;
		return rdptr(t, rec + t->fl.size + base + (uint64_t)i * t->ptrsize);
	}
	if (t->gofunc == 0 || !rec_tail(t, rec, base + (uint64_t)i * 4, 4))
		return 0;
	uint32_t off = rd32(rec + t->fl.size + base + i * 4);
	return off == UINT32_MAX ? 0 : t->gofunc + off;
}

static const char *file_name(const gs_pclntab *t, const uint8_t *rec, int32_t k)
{
	uint64_t i = (uint64_t)rd32(rec + t->fl.cuoff) + (uint32_t)k;
	if (k < 0 || i >= t->cutab.len / 4)
		return "?";
	uint32_t off = rd32(t->cutab.p + i * 4);
	if (off >= t->filetab.len || bstrlen(t->filetab.p + off, t->filetab.len - off) == SIZE_MAX)
		return "?";
	return (const char *)t->filetab.p + off;
}

static gs_pcframe position(const gs_pclntab *t, const uint8_t *rec, uint64_t entry,
			   uint64_t pc, const char *function)
{
	gs_pcframe fr = {function, "?", 0};
	int32_t k, line;
	if (pcvalue(t, rd32(rec + t->fl.pcfile), entry, pc, &k))
		fr.file = file_name(t, rec, k);
	if (pcvalue(t, rd32(rec + t->fl.pcln), entry, pc, &line))
		fr.line = line;
	return fr;
}

/* An inlinedCall's name offset and parentPc, in either layout. */
static bool inlined_call(const gs_pclntab *t, uint64_t tree, int32_t idx, uint32_t *nameoff,
			 int32_t *parent_pc)
{
	size_t avail;
	const uint8_t *p = gs_binary_ptr(t->bin, tree + (uint64_t)idx * t->inl_size, &avail);
	if (!p || avail < t->inl_size)
		return false;
	if (t->inl_size == 20) { /* parent i16, funcID, _, file, line, func_, parentPc */
		*nameoff = rd32(p + 12);
		*parent_pc = (int32_t)rd32(p + 16);
	} else { /* funcID, _[3], nameOff, parentPc, startLine */
		*nameoff = rd32(p + 4);
		*parent_pc = (int32_t)rd32(p + 8);
	}
	return true;
}

int gs_pclntab_frames(const gs_pclntab *t, const gs_func *f, uint64_t pc, gs_pcframe *out,
		      int max)
{
	const uint8_t *rec = rec_of(t, f);
	if (!rec || max < 1 || pc < f->entry || pc >= f->end)
		return 0;
	int n = 0;
	uint64_t cur = pc;
	uint32_t inl_pcdata;
	uint64_t tree = funcdata_addr(t, rec, FUNCDATA_INLTREE);
	if (tree && pcdata_off(t, rec, PCDATA_INLTREEINDEX, &inl_pcdata)) {
		/* Each step moves to the call site in the parent, so depth is bounded by the
		 * tree; the cap only guards against a corrupt table that loops. */
		for (int depth = 0; n < max - 1 && depth < MAX_INLINE_DEPTH; depth++) {
			int32_t idx, parent_pc;
			uint32_t nameoff;
			if (!pcvalue(t, inl_pcdata, f->entry, cur, &idx) || idx < 0 ||
			    !inlined_call(t, tree, idx, &nameoff, &parent_pc))
				break;
			const char *name = "?";
			if (nameoff < t->funcnames.len &&
			    bstrlen(t->funcnames.p + nameoff, t->funcnames.len - nameoff) != SIZE_MAX)
				name = (const char *)t->funcnames.p + nameoff;
			out[n++] = position(t, rec, f->entry, cur, name);
			uint64_t parent = f->entry + (uint64_t)(int64_t)parent_pc;
			if (parent < f->entry || parent >= f->end)
				break;
			cur = parent;
		}
	}
	out[n++] = position(t, rec, f->entry, cur, f->name);
	return n;
}
