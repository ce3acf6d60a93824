/* The type graph: gs_dtype values built from DIEs on demand (see dwarf_graph.h). */
#include "dwarf_graph.h"
#include "dwarf_index.h" /* gs_dwarf_liberr */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Go's own attributes (cmd/internal/dwarf) and abi.Kind values. */
enum {
	GS_AT_go_kind = 0x2900,
	GS_AT_go_key = 0x2901,
	GS_AT_go_elem = 0x2902,
};

/* Bump allocator for gs_dtype and member arrays: freed all at once at close. */
struct gs_dgraph_block {
	struct gs_dgraph_block *next;
	size_t used, cap;
	max_align_t data[];
};

struct gs_dgraph_pending {
	gs_dtype *t;
	Dwarf_Off off;
};

static void *arena_alloc(gs_dgraph *g, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	struct gs_dgraph_block *b = g->arena;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->next = g->arena;
		b->used = 0;
		b->cap = cap;
		g->arena = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

static size_t cache_slot(const gs_dgraph *g, Dwarf_Off off)
{
	size_t i = (size_t)((off + 1) * 0x9e3779b97f4a7c15ULL) & (g->cache_cap - 1);
	while (g->cache_keys[i] && g->cache_keys[i] != off + 1)
		i = (i + 1) & (g->cache_cap - 1);
	return i;
}

static int cache_put(gs_dgraph *g, Dwarf_Off off, gs_dtype *t)
{
	if ((g->cache_n + 1) * 2 > g->cache_cap) {
		size_t ocap = g->cache_cap, ncap = ocap ? ocap * 2 : 1024;
		Dwarf_Off *ok = g->cache_keys;
		gs_dtype **ov = g->cache_vals;
		g->cache_keys = calloc(ncap, sizeof *g->cache_keys);
		g->cache_vals = calloc(ncap, sizeof *g->cache_vals);
		if (!g->cache_keys || !g->cache_vals) {
			free(g->cache_keys);
			free(g->cache_vals);
			g->cache_keys = ok;
			g->cache_vals = ov;
			return -1;
		}
		g->cache_cap = ncap;
		for (size_t i = 0; i < ocap; i++) {
			if (ok[i]) {
				size_t j = cache_slot(g, ok[i] - 1);
				g->cache_keys[j] = ok[i];
				g->cache_vals[j] = ov[i];
			}
		}
		free(ok);
		free(ov);
	}
	size_t i = cache_slot(g, off);
	g->cache_keys[i] = off + 1;
	g->cache_vals[i] = t;
	g->cache_n++;
	return 0;
}

gs_dtype *gs_dgraph_type_at(gs_dgraph *g, Dwarf_Off off, gs_err *err)
{
	if (g->cache_cap) {
		size_t i = cache_slot(g, off);
		if (g->cache_keys[i])
			return g->cache_vals[i];
	}
	if (g->nwork == g->work_cap) {
		size_t ncap = g->work_cap ? g->work_cap * 2 : 256;
		struct gs_dgraph_pending *nw = realloc(g->work, ncap * sizeof *nw);
		if (!nw)
			goto oom;
		g->work = nw;
		g->work_cap = ncap;
	}
	gs_dtype *t = arena_alloc(g, sizeof *t);
	if (!t || cache_put(g, off, t) < 0)
		goto oom;
	t->name = "";
	t->die_offset = off;
	g->work[g->nwork++] = (struct gs_dgraph_pending){t, off};
	return t;
oom:
	gs_errf(err, GS_EINTERNAL, "out of memory reading DWARF types");
	return NULL;
}

/* Reads an unsigned constant attribute. 1 found, 0 absent, -1 error. */
static int attr_udata(gs_dgraph *g, Dwarf_Die die, Dwarf_Half at, Dwarf_Unsigned *v, gs_err *err)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Error de = NULL;
	int rc = dwarf_attr(die, at, &a, &de);
	if (rc == DW_DLV_NO_ENTRY)
		return 0;
	if (rc != DW_DLV_OK)
		return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading an attribute");
	rc = dwarf_formudata(a, v, &de);
	dwarf_dealloc_attribute(a);
	if (rc != DW_DLV_OK)
		return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading a constant attribute");
	return 1;
}

/* Reads an address attribute (Go's DW_AT_go_runtime_type). 1 found, 0 absent or odd form. */
static int attr_addr(Dwarf_Die die, Dwarf_Half at, Dwarf_Addr *v)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Error de = NULL;
	if (dwarf_attr(die, at, &a, &de) != DW_DLV_OK)
		return 0;
	int rc = dwarf_formaddr(a, v, &de);
	dwarf_dealloc_attribute(a);
	return rc == DW_DLV_OK;
}

int gs_dgraph_attr_type(gs_dgraph *g, Dwarf_Die die, Dwarf_Half at, gs_dtype **out, gs_err *err)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Error de = NULL;
	Dwarf_Off off = 0;
	int rc = dwarf_attr(die, at, &a, &de);
	if (rc == DW_DLV_NO_ENTRY)
		return 0;
	if (rc != DW_DLV_OK)
		return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading an attribute");
	rc = dwarf_global_formref(a, &off, &de);
	dwarf_dealloc_attribute(a);
	if (rc != DW_DLV_OK)
		return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading a type reference");
	*out = gs_dgraph_type_at(g, off, err);
	return *out ? 1 : -1;
}

int gs_dgraph_attr_expr(gs_dgraph *g, Dwarf_Attribute a, const uint8_t **p, size_t *n, gs_err *err)
{
	Dwarf_Error de = NULL;
	Dwarf_Half form = 0;
	if (dwarf_whatform(a, &form, &de) != DW_DLV_OK)
		return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading an attribute form");
	if (form == DW_FORM_exprloc) {
		Dwarf_Unsigned len = 0;
		Dwarf_Ptr ptr = NULL;
		if (dwarf_formexprloc(a, &len, &ptr, &de) != DW_DLV_OK)
			return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading an expression");
		*p = ptr;
		*n = len;
		return 1;
	}
	if (form == DW_FORM_block1 || form == DW_FORM_block2 || form == DW_FORM_block4 ||
	    form == DW_FORM_block) {
		Dwarf_Block *b = NULL;
		if (dwarf_formblock(a, &b, &de) != DW_DLV_OK)
			return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading a block");
		/* bl_data points into the section; only the descriptor is allocated. */
		*p = b->bl_data;
		*n = b->bl_len;
		dwarf_dealloc(g->dbg, b, DW_DLA_BLOCK);
		return 1;
	}
	return 0;
}

static bool read_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

/* DW_AT_data_member_location: a constant, or DW_OP_plus_uconst N in DWARF 2-era producers. */
static int member_offset(gs_dgraph *g, Dwarf_Die die, uint64_t *off, gs_err *err)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Error de = NULL;
	int rc = dwarf_attr(die, DW_AT_data_member_location, &a, &de);
	if (rc == DW_DLV_NO_ENTRY) {
		*off = 0; /* union members and some producers omit it */
		return 0;
	}
	if (rc != DW_DLV_OK)
		return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading a member location");
	const uint8_t *p = NULL;
	size_t n = 0;
	rc = gs_dgraph_attr_expr(g, a, &p, &n, err);
	if (rc == 0) {
		Dwarf_Unsigned v = 0;
		rc = dwarf_formudata(a, &v, &de) == DW_DLV_OK ? 0 : -1;
		*off = v;
		if (rc < 0)
			gs_dwarf_liberr(err, g->dbg, de, g->path, "reading a member location");
	} else if (rc == 1) {
		const uint8_t *end = p + n;
		rc = 0;
		if (n < 2 || (*p != DW_OP_plus_uconst && *p != DW_OP_constu) ||
		    (p++, !read_uleb(&p, end, off)))
			rc = gs_errf(err, GS_EINPUT, "%s: unsupported member location expression",
				     g->path);
	}
	dwarf_dealloc_attribute(a);
	return rc;
}

static enum gs_dkind classify(Dwarf_Half tag, int go_kind)
{
	switch (go_kind) {
	case GS_GOK_SLICE: return tag == DW_TAG_structure_type ? GS_DK_SLICE : GS_DK_TYPEDEF;
	case GS_GOK_STRING: return tag == DW_TAG_structure_type ? GS_DK_STRING : GS_DK_TYPEDEF;
	case GS_GOK_INTERFACE: return GS_DK_INTERFACE;
	case GS_GOK_MAP: return GS_DK_MAP;
	case GS_GOK_CHAN: return GS_DK_CHAN;
	default: break;
	}
	switch (tag) {
	case DW_TAG_base_type: return GS_DK_BASE;
	case DW_TAG_structure_type: return GS_DK_STRUCT;
	case DW_TAG_pointer_type: return GS_DK_POINTER;
	case DW_TAG_array_type: return GS_DK_ARRAY;
	case DW_TAG_typedef: return GS_DK_TYPEDEF;
	case DW_TAG_subroutine_type: return GS_DK_FUNC;
	default: return GS_DK_OTHER;
	}
}

/* Array length from the DW_TAG_subrange_type child: count, or upper_bound + 1. */
static int array_count(gs_dgraph *g, Dwarf_Die die, uint64_t *count, gs_err *err)
{
	Dwarf_Error de = NULL;
	Dwarf_Die c = NULL;
	int rc = dwarf_child(die, &c, &de);
	if (rc == DW_DLV_NO_ENTRY)
		return 0;
	if (rc != DW_DLV_OK)
		return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading an array type");
	Dwarf_Unsigned v = 0;
	rc = attr_udata(g, c, DW_AT_count, &v, err);
	if (rc == 1)
		*count = v;
	else if (rc == 0 && (rc = attr_udata(g, c, DW_AT_upper_bound, &v, err)) == 1)
		*count = v + 1;
	dwarf_dealloc_die(c);
	return rc < 0 ? -1 : 0;
}

static int fill_members(gs_dgraph *g, gs_dtype *t, Dwarf_Die die, gs_err *err)
{
	Dwarf_Error de = NULL;
	Dwarf_Die c = NULL;
	int rc = dwarf_child(die, &c, &de);
	if (rc == DW_DLV_NO_ENTRY)
		return 0;
	if (rc != DW_DLV_OK)
		return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading struct members");
	gs_dmember *ms = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;
	while (c && ret == 0) {
		Dwarf_Half tag = 0;
		if (dwarf_tag(c, &tag, &de) != DW_DLV_OK) {
			ret = gs_dwarf_liberr(err, g->dbg, de, g->path, "reading a member tag");
			break;
		}
		if (tag == DW_TAG_member) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				gs_dmember *nm = realloc(ms, cap * sizeof *nm);
				if (!nm) {
					ret = gs_errf(err, GS_EINTERNAL, "out of memory");
					break;
				}
				ms = nm;
			}
			gs_dmember *m = &ms[n++];
			char *name = NULL;
			gs_dtype *mt = NULL;
			m->name = dwarf_diename(c, &name, &de) == DW_DLV_OK ? name : "";
			if (de) {
				dwarf_dealloc_error(g->dbg, de);
				de = NULL;
			}
			if (member_offset(g, c, &m->offset, err) < 0 ||
			    gs_dgraph_attr_type(g, c, DW_AT_type, &mt, err) < 0)
				ret = -1;
			m->type = mt;
		}
		Dwarf_Die next = NULL;
		rc = dwarf_siblingof_b(g->dbg, c, true, &next, &de);
		dwarf_dealloc_die(c);
		c = NULL;
		if (rc == DW_DLV_ERROR && ret == 0)
			ret = gs_dwarf_liberr(err, g->dbg, de, g->path, "walking struct members");
		else if (rc == DW_DLV_OK)
			c = next;
	}
	if (c)
		dwarf_dealloc_die(c);
	if (ret == 0 && n) {
		gs_dmember *dst = arena_alloc(g, n * sizeof *dst);
		if (!dst)
			ret = gs_errf(err, GS_EINTERNAL, "out of memory");
		else {
			memcpy(dst, ms, n * sizeof *dst);
			t->members = dst;
			t->nmembers = n;
		}
	}
	free(ms);
	return ret;
}

static int slice_elem(gs_dgraph *g, Dwarf_Off ptr_off, const gs_dtype **elem, gs_err *err)
{
	Dwarf_Error de = NULL;
	Dwarf_Die die = NULL;
	gs_dtype *t = NULL;
	if (dwarf_offdie_b(g->dbg, ptr_off, true, &die, &de) != DW_DLV_OK)
		return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading a slice's array type");
	int rc = gs_dgraph_attr_type(g, die, DW_AT_type, &t, err);
	dwarf_dealloc_die(die);
	*elem = t;
	return rc < 0 ? -1 : 0;
}

static int fill(gs_dgraph *g, gs_dtype *t, Dwarf_Off off, gs_err *err)
{
	Dwarf_Error de = NULL;
	Dwarf_Die die = NULL;
	if (dwarf_offdie_b(g->dbg, off, true, &die, &de) != DW_DLV_OK)
		return gs_dwarf_liberr(err, g->dbg, de, g->path, "reading a type DIE");
	Dwarf_Half tag = 0;
	char *name = NULL;
	Dwarf_Unsigned v = 0;
	gs_dtype *target = NULL, *go_elem = NULL, *key = NULL;
	int ret = -1;
	if (dwarf_tag(die, &tag, &de) != DW_DLV_OK) {
		gs_dwarf_liberr(err, g->dbg, de, g->path, "reading a DIE tag");
		goto out;
	}
	if (dwarf_diename(die, &name, &de) == DW_DLV_OK)
		t->name = name;
	else if (de)
		dwarf_dealloc_error(g->dbg, de);
	int rc = attr_udata(g, die, DW_AT_byte_size, &v, err);
	if (rc < 0)
		goto out;
	t->size = rc ? v : 0;
	if ((rc = attr_udata(g, die, GS_AT_go_kind, &v, err)) < 0)
		goto out;
	t->go_kind = rc ? (int)v : 0;
	t->kind = classify(tag, t->go_kind);
	Dwarf_Addr rtype;
	if (attr_addr(die, 0x2904, &rtype)) {
		t->has_runtime_type = true;
		t->runtime_type = rtype;
	}
	if (gs_dgraph_attr_type(g, die, DW_AT_type, &target, err) < 0 ||
	    gs_dgraph_attr_type(g, die, GS_AT_go_elem, &go_elem, err) < 0 ||
	    gs_dgraph_attr_type(g, die, GS_AT_go_key, &key, err) < 0)
		goto out;
	t->key = key;
	if (tag == DW_TAG_typedef)
		t->underlying = target;
	t->elem = go_elem ? go_elem : target;
	if (tag == DW_TAG_pointer_type && !t->size) { /* Go omits it on pointer DIEs */
		Dwarf_Half asz = 0;
		if (dwarf_get_die_address_size(die, &asz, &de) != DW_DLV_OK) {
			gs_dwarf_liberr(err, g->dbg, de, g->path, "reading the address size");
			goto out;
		}
		t->size = asz;
	}
	if (tag == DW_TAG_array_type && array_count(g, die, &t->count, err) < 0)
		goto out;
	if (tag == DW_TAG_structure_type && fill_members(g, t, die, err) < 0)
		goto out;
	/* Without DW_AT_go_elem a slice's element is the target of its `array` pointer. */
	if (t->kind == GS_DK_SLICE && !t->elem) {
		const gs_dmember *a = gs_dwarf_member(t, "array");
		if (a && a->type && slice_elem(g, a->type->die_offset, &t->elem, err) < 0)
			goto out;
	}
	ret = 0;
out:
	dwarf_dealloc_die(die);
	return ret;
}

/* Go emits a named struct twice, as the structure and as a typedef of the same name to
 * it; references to that typedef are taken to mean the structure. */
static const gs_dtype *collapse(const gs_dtype *t)
{
	for (int i = 0; t && t->kind == GS_DK_TYPEDEF && t->elem && i < 64; i++) {
		if (strcmp(t->name, t->elem->name) != 0)
			break;
		t = t->elem;
	}
	return t;
}

static void collapse_refs(gs_dtype *t)
{
	if (t->kind != GS_DK_TYPEDEF) /* the typedef itself keeps its target */
		t->elem = collapse(t->elem);
	t->key = collapse(t->key);
	t->underlying = collapse(t->underlying);
	for (size_t i = 0; i < t->nmembers; i++)
		((gs_dmember *)t->members)[i].type = collapse(t->members[i].type);
}

int gs_dgraph_drain(gs_dgraph *g, gs_err *err)
{
	while (g->nwork) {
		struct gs_dgraph_pending p = g->work[--g->nwork];
		if (fill(g, p.t, p.off, err) < 0) {
			if (g->nwork < g->work_cap)
				g->work[g->nwork++] = p;
			return -1;
		}
		if (g->nfilled == g->filled_cap) {
			size_t ncap = g->filled_cap ? g->filled_cap * 2 : 256;
			gs_dtype **nf = realloc(g->filled, ncap * sizeof *nf);
			if (!nf)
				return gs_errf(err, GS_EINTERNAL, "out of memory");
			g->filled = nf;
			g->filled_cap = ncap;
		}
		g->filled[g->nfilled++] = p.t;
	}
	for (size_t i = 0; i < g->nfilled; i++)
		collapse_refs(g->filled[i]);
	g->nfilled = 0;
	return 0;
}

void gs_dgraph_free(gs_dgraph *g)
{
	free(g->cache_keys);
	free(g->cache_vals);
	free(g->work);
	free(g->filled);
	for (struct gs_dgraph_block *b = g->arena, *n; b; b = n) {
		n = b->next;
		free(b);
	}
	*g = (gs_dgraph){0};
}
