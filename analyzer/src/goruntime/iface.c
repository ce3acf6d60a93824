/* Interface values, type descriptor names, and finding a descriptor by name. */
#include "iface.h"

#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "constants.h"
#include "layout.h"

#define MAX_DESCRIPTORS (1u << 22)
#define MAX_NAME 4096

typedef struct cached_name {
	char *name;
	uint64_t addr; /* 0 = known to be absent */
} cached_name;

struct gs_types {
	gs_target *t;
	gs_dwarf *d;
	gs_consts k; /* abi.Kind values and flag bits (the session's table) */
	uint64_t types, etypes, typelinks, ntypelinks, typedesclen;
	bool has_typedesclen;
	/* abi.Type / itab / PtrType member offsets */
	uint64_t o_tflag, o_kind, o_str, o_ptr_elem, o_itab_type;
	uint64_t map_desc_size;
	bool indexed;
	uint64_t *desc;
	size_t ndesc;
	cached_name *cache;
	size_t ncache, cache_cap;
};

/* Where the descriptor fields sit (the runtime manifest's RT_ABI_* rows, checked for kind
 * and so for width: tflag and kind one byte, str four, the pointers eight); a field the
 * binary lacks takes the version table's offset, one of another kind fails the open. */
static int resolve_offsets(gs_types *ty, gs_dwarf *d, gs_err *err)
{
	static const uint64_t dflt[] = {20, 23, 40, 48, 8};
	uint64_t *dst[] = {&ty->o_tflag, &ty->o_kind, &ty->o_str, &ty->o_ptr_elem,
			   &ty->o_itab_type};
	enum { N = sizeof dflt / sizeof dflt[0] };
	_Static_assert(RT_ABI_ITAB_TYPE - RT_ABI_TYPE_TFLAG + 1 == N, "RT_ABI_* rows");
	gs_layout l = {0};
	int rc = gs_layout_resolve(&l, &gs_runtime_fields[RT_ABI_TYPE_TFLAG], N, d, err);
	for (size_t i = 0; rc == 0 && i < N; i++) {
		if (l.mismatch[i])
			rc = gs_errf(err, GS_EINPUT, "%s.%s is a %s in the binary, expected a %s",
				     l.specs[i].type, l.specs[i].names, gs_fkind_name(l.kinds[i]),
				     gs_fkind_name(l.specs[i].kind));
		*dst[i] = l.offsets[i] >= 0 ? (uint64_t)l.offsets[i] : dflt[i];
	}
	gs_layout_free(&l);
	return rc;
}

gs_types *gs_types_open(gs_target *t, gs_dwarf *d, uint64_t bias, const gs_consts *k,
			gs_err *err)
{
	uint64_t md;
	const gs_dtype *mdt;
	if (gs_dwarf_global(d, "runtime.firstmoduledata", &md, &mdt, err) < 0) {
		gs_err_wrap(err, "type descriptors");
		return NULL;
	}
	md += bias;
	const gs_dmember *mt = gs_dwarf_member(mdt, "types");
	const gs_dmember *me = gs_dwarf_member(mdt, "etypes");
	const gs_dmember *ml = gs_dwarf_member(mdt, "typelinks");
	const gs_dmember *mtd = gs_dwarf_member(mdt, "typedesclen");
	if (!mt || !me || (!ml && !mtd)) {
		gs_errf(err, GS_ENOTFOUND,
			"runtime.moduledata lacks types/etypes/typelinks|typedesclen in DWARF");
		return NULL;
	}
	/* read below as words (typelinks as a slice's pointer and length): their types must be */
	const gs_dmember *word[] = {mt, me, mtd, ml};
	for (size_t i = 0; i < sizeof word / sizeof word[0]; i++) {
		uint8_t w;
		enum gs_fkind want = i == 3 ? GS_FK_SLICE : GS_FK_WORD;
		enum gs_fkind got = word[i] ? gs_fkind_of(word[i]->type, &w) : want;
		if (!gs_fkind_fits(want, got)) {
			gs_errf(err, GS_EINPUT, "runtime.moduledata.%s is a %s, expected a %s",
				word[i]->name, gs_fkind_name(got), gs_fkind_name(want));
			return NULL;
		}
	}
	gs_types *ty = gs_calloc(1, sizeof *ty, err);
	if (!ty)
		return NULL;
	ty->t = t;
	ty->d = d;
	if (k)
		ty->k = *k;
	else
		gs_consts_resolve(&ty->k, d, NULL, NULL);
	if (gs_target_read_u64(t, md + mt->offset, &ty->types, err) < 0 ||
	    gs_target_read_u64(t, md + me->offset, &ty->etypes, err) < 0 ||
	    (ml && (gs_target_read_u64(t, md + ml->offset, &ty->typelinks, err) < 0 ||
		    gs_target_read_u64(t, md + ml->offset + 8, &ty->ntypelinks, err) < 0)) ||
	    (mtd && gs_target_read_u64(t, md + mtd->offset, &ty->typedesclen, err) < 0)) {
		gs_err_wrap(err, "reading runtime.firstmoduledata");
		gs_types_close(ty);
		return NULL;
	}
	ty->has_typedesclen = mtd != NULL;
	if (ty->etypes <= ty->types || ty->etypes - ty->types > (1ull << 32)) {
		gs_errf(err, GS_EINPUT, "runtime.firstmoduledata: implausible types region "
			"[0x%llx, 0x%llx)", (unsigned long long)ty->types,
			(unsigned long long)ty->etypes);
		gs_types_close(ty);
		return NULL;
	}
	if (resolve_offsets(ty, d, err) < 0) {
		gs_err_wrap(err, "type descriptors");
		gs_types_close(ty);
		return NULL;
	}
	const gs_dtype *mapt = gs_dwarf_type(d, "internal/abi.MapType", NULL);
	mapt = mapt ? gs_dwarf_resolve(mapt) : NULL;
	ty->map_desc_size = mapt && mapt->size ? mapt->size : 136;
	return ty;
}

void gs_types_close(gs_types *ty)
{
	if (!ty)
		return;
	for (size_t i = 0; i < ty->ncache; i++)
		free(ty->cache[i].name);
	free(ty->cache);
	free(ty->desc);
	free(ty);
}

void gs_types_region(const gs_types *ty, uint64_t *types, uint64_t *etypes, size_t *ndesc)
{
	*types = ty->types;
	*etypes = ty->etypes;
	*ndesc = ty->ndesc;
}

/* Reads an abi.Name at addr: flags byte, uvarint length, bytes. */
static int read_name(gs_types *ty, uint64_t addr, char *buf, size_t cap, gs_err *err)
{
	uint8_t hdr[11];
	if (cap == 0)
		return gs_errf(err, GS_EINTERNAL, "name buffer of size 0");
	memset(hdr, 0, sizeof hdr);
	if (gs_target_read(ty->t, addr, hdr, 3, NULL) < 0)
		return gs_err_memf(err, addr, "type name unreadable at 0x%llx",
				   (unsigned long long)addr);
	/* the varint may be longer than 2 bytes for long names: read the rest when needed */
	if ((hdr[1] & 0x80) && (hdr[2] & 0x80))
		(void)gs_target_read(ty->t, addr + 3, hdr + 3, sizeof hdr - 3, NULL);
	uint64_t n = 0;
	size_t i = 1;
	for (unsigned shift = 0; i < sizeof hdr; i++, shift += 7) {
		n |= (uint64_t)(hdr[i] & 0x7f) << shift;
		if (!(hdr[i] & 0x80))
			break;
	}
	if (i >= sizeof hdr || n > MAX_NAME)
		return gs_errf(err, GS_EINPUT, "type name at 0x%llx: bad length",
			       (unsigned long long)addr);
	size_t want = n < cap - 1 ? (size_t)n : cap - 1;
	if (want && gs_target_read(ty->t, addr + i + 1, buf, want, NULL) < 0)
		return gs_err_memf(err, (addr + i + 1), "type name unreadable at 0x%llx",
				   (unsigned long long)(addr + i + 1));
	buf[want] = '\0';
	return 0;
}

int gs_type_name(gs_types *ty, uint64_t type_addr, char *buf, size_t cap, gs_err *err)
{
	uint8_t tflag;
	int32_t str;
	if (!type_addr)
		return gs_errf(err, GS_EINPUT, "nil type descriptor");
	if (gs_target_read(ty->t, type_addr + ty->o_tflag, &tflag, 1, NULL) < 0 ||
	    gs_target_read(ty->t, type_addr + ty->o_str, &str, 4, NULL) < 0)
		return gs_err_memf(err, type_addr, "type descriptor unreadable at 0x%llx",
				   (unsigned long long)type_addr);
	if (str < 0 || (uint64_t)str >= ty->etypes - ty->types)
		return gs_errf(err, GS_EINPUT, "type descriptor at 0x%llx: name offset 0x%x outside "
			       "the type region", (unsigned long long)type_addr, (unsigned)str);
	if (read_name(ty, ty->types + (uint64_t)str, buf, cap, err) < 0)
		return gs_err_wrap(err, "type at 0x%llx", (unsigned long long)type_addr);
	if ((tflag & gs_const(&ty->k, GS_K_TFLAG_EXTRA_STAR)) && buf[0] == '*')
		memmove(buf, buf + 1, strlen(buf));
	return 0;
}

int gs_type_kind(gs_types *ty, uint64_t type_addr, int *kind, bool *direct, gs_err *err)
{
	uint8_t tflag, k;
	if (gs_target_read(ty->t, type_addr + ty->o_tflag, &tflag, 1, NULL) < 0 ||
	    gs_target_read(ty->t, type_addr + ty->o_kind, &k, 1, NULL) < 0)
		return gs_err_memf(err, type_addr, "type descriptor unreadable at 0x%llx",
				   (unsigned long long)type_addr);
	const gs_consts *c = &ty->k;
	int64_t tdirect = gs_const(c, GS_K_TFLAG_DIRECT_IFACE);
	if (kind)
		*kind = (int)(k & gs_const(c, GS_K_KIND_MASK));
	if (direct)
		*direct = (k & gs_const(c, GS_K_KIND_DIRECT_IFACE)) ||
			  (tdirect != GS_CONST_NONE && (tflag & tdirect));
	return 0;
}

int gs_itab_type(gs_types *ty, uint64_t itab, uint64_t *type_addr, gs_err *err)
{
	if (gs_target_read_u64(ty->t, itab + ty->o_itab_type, type_addr, NULL) < 0)
		return gs_err_memf(err, itab, "itab unreadable at 0x%llx",
				   (unsigned long long)itab);
	return 0;
}

int gs_iface_read(gs_types *ty, uint64_t addr, bool empty, gs_iface *out, gs_err *err)
{
	uint64_t w[2];
	memset(out, 0, sizeof *out);
	if (gs_target_read(ty->t, addr, w, sizeof w, NULL) < 0)
		return gs_err_memf(err, addr, "interface value unreadable at 0x%llx",
				   (unsigned long long)addr);
	out->data = w[1];
	if (empty) {
		out->type = w[0];
		return 0;
	}
	out->tab = w[0];
	if (w[0] && gs_itab_type(ty, w[0], &out->type, err) < 0)
		return gs_err_wrap(err, "interface value at 0x%llx", (unsigned long long)addr);
	return 0;
}

/* Size of the descriptor at td in the 1.27 back-to-back layout (abi.Type.DescriptorSize). */
static uint64_t descriptor_size(gs_types *ty, uint64_t td)
{
	uint8_t b[72];
	if (gs_target_read(ty->t, td, b, sizeof b, NULL) < 0)
		return 0;
	const gs_consts *c = &ty->k;
	int64_t kind = b[ty->o_kind] & gs_const(c, GS_K_KIND_MASK);
	uint64_t base = 48, add = 0, len;
	if (kind == gs_const(c, GS_K_KIND_ARRAY)) {
		base = 72;
	} else if (kind == gs_const(c, GS_K_KIND_CHAN)) {
		base = 64;
	} else if (kind == gs_const(c, GS_K_KIND_FUNC)) {
		uint16_t in, out;
		memcpy(&in, b + 48, 2);
		memcpy(&out, b + 50, 2);
		base = 56;
		add = ((uint64_t)in + (out & 0x7fff)) * 8;
	} else if (kind == gs_const(c, GS_K_KIND_IFACE)) {
		memcpy(&len, b + 64, 8);
		base = 80;
		add = len * 8;
	} else if (kind == gs_const(c, GS_K_KIND_MAP)) {
		base = ty->map_desc_size;
	} else if (kind == gs_const(c, GS_K_KIND_PTR) || kind == gs_const(c, GS_K_KIND_SLICE)) {
		base = 56;
	} else if (kind == gs_const(c, GS_K_KIND_STRUCT)) {
		memcpy(&len, b + 64, 8);
		base = 80;
		add = len * 24;
	} else if (kind == 0 || kind > gs_const(c, GS_K_KIND_UNSAFEPTR)) {
		return 0;
	}
	if (add > (1u << 24))
		return 0;
	uint64_t size = base + add;
	if (b[ty->o_tflag] & gs_const(c, GS_K_TFLAG_UNCOMMON)) {
		uint16_t mcount;
		if (gs_target_read(ty->t, td + base + 4, &mcount, 2, NULL) < 0)
			return 0;
		size += 16 + (uint64_t)mcount * 16;
	}
	return size;
}

static int build_index(gs_types *ty, gs_err *err)
{
	ty->indexed = true;
	if (ty->has_typedesclen) {
		uint64_t end = ty->types + ty->typedesclen;
		if (ty->typedesclen > ty->etypes - ty->types)
			return gs_errf(err, GS_EINPUT, "moduledata.typedesclen 0x%llx beyond etypes",
				       (unsigned long long)ty->typedesclen);
		size_t cap = 1024;
		if (!(ty->desc = gs_calloc(cap, sizeof *ty->desc, err))) {
			ty->indexed = false;
			return -1;
		}
		for (uint64_t td = ty->types + 8; td < end;) {
			td = (td + 7) & ~7ull;
			if (td >= end)
				break;
			uint64_t sz = descriptor_size(ty, td);
			if (!sz || ty->ndesc >= MAX_DESCRIPTORS)
				return gs_errf(err, GS_EINPUT,
					       "type descriptors: bad descriptor at 0x%llx",
					       (unsigned long long)td);
			if (ty->ndesc == cap) {
				uint64_t *v = gs_reallocarray(ty->desc, cap * 2, sizeof *v, err);
				if (!v) {
					ty->indexed = false;
					ty->ndesc = 0;
					return -1;
				}
				ty->desc = v;
				cap *= 2;
			}
			ty->desc[ty->ndesc++] = td;
			td += sz;
		}
		return 0;
	}
	if (ty->ntypelinks > MAX_DESCRIPTORS)
		return gs_errf(err, GS_EINPUT, "moduledata.typelinks: absurd length %llu",
			       (unsigned long long)ty->ntypelinks);
	int32_t *offs = gs_calloc(ty->ntypelinks ? ty->ntypelinks : 1, sizeof *offs, err);
	ty->desc = offs ? gs_calloc(ty->ntypelinks ? ty->ntypelinks : 1, sizeof *ty->desc, err) : NULL;
	if (!ty->desc) {
		free(offs);
		ty->indexed = false;
		return -1;
	}
	if (ty->ntypelinks &&
	    gs_target_read(ty->t, ty->typelinks, offs, ty->ntypelinks * 4, NULL) < 0) {
		free(offs);
		return gs_err_memf(err, ty->typelinks, "moduledata.typelinks unreadable at 0x%llx",
				   (unsigned long long)ty->typelinks);
	}
	for (uint64_t i = 0; i < ty->ntypelinks; i++)
		if (offs[i] >= 0)
			ty->desc[ty->ndesc++] = ty->types + (uint64_t)offs[i];
	free(offs);
	return 0;
}

/* Descriptors are sorted by name: binary search, then (paranoia) a linear scan. */
static uint64_t find_indexed(gs_types *ty, const char *name)
{
	char buf[512];
	size_t lo = 0, hi = ty->ndesc;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (gs_type_name(ty, ty->desc[mid], buf, sizeof buf, NULL) < 0)
			break;
		int c = strcmp(buf, name);
		if (c == 0)
			return ty->desc[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = 0; i < ty->ndesc; i++)
		if (gs_type_name(ty, ty->desc[i], buf, sizeof buf, NULL) == 0 &&
		    strcmp(buf, name) == 0)
			return ty->desc[i];
	return 0;
}

static uint64_t lookup(gs_types *ty, const char *name)
{
	uint64_t a = find_indexed(ty, name);
	if (a || name[0] == '*')
		return a;
	/* Named types are reached through their (typelinked) pointer type. */
	size_t n = strlen(name);
	char small[256];
	char *star = n + 2 <= sizeof small ? small : malloc(n + 2);
	if (!star)
		return 0;
	star[0] = '*';
	memcpy(star + 1, name, n + 1);
	uint64_t p = find_indexed(ty, star);
	if (star != small)
		free(star);
	if (p && gs_target_read_u64(ty->t, p + ty->o_ptr_elem, &a, NULL) < 0)
		a = 0;
	return a;
}

int gs_type_addr_for_name(gs_types *ty, const char *name, uint64_t *addr, gs_err *err)
{
	*addr = 0;
	for (size_t i = 0; i < ty->ncache; i++)
		if (strcmp(ty->cache[i].name, name) == 0) {
			*addr = ty->cache[i].addr;
			goto out;
		}
	if (!ty->indexed && build_index(ty, err) < 0)
		return -1;
	*addr = lookup(ty, name);
	char *copy = strdup(name);
	if (ty->ncache == ty->cache_cap && copy) {
		size_t cap = ty->cache_cap ? 2 * ty->cache_cap : 16;
		cached_name *v = gs_reallocarray(ty->cache, cap, sizeof *v, NULL);
		if (v) {
			ty->cache = v;
			ty->cache_cap = cap;
		} else {
			free(copy);
			copy = NULL;
		}
	}
	if (copy) /* else looked up again next time */
		ty->cache[ty->ncache++] = (cached_name){ copy, *addr };
out:
	if (!*addr)
		return gs_errf(err, GS_ENOTFOUND, "no type descriptor named %s", name);
	return 0;
}

bool gs_type_is(gs_types *ty, uint64_t type_addr, const char *name)
{
	uint64_t a;
	if (type_addr && gs_type_addr_for_name(ty, name, &a, NULL) == 0)
		return a == type_addr;
	/* Not indexed (e.g. a type that is not typelinked): compare names. */
	char buf[512];
	return type_addr && gs_type_name(ty, type_addr, buf, sizeof buf, NULL) == 0 &&
	       strcmp(buf, name) == 0;
}
