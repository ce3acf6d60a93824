/* The name index of top-level DIEs (see dwarf_index.h). */
#include "dwarf_index.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int gs_dwarf_liberr(gs_err *err, Dwarf_Debug dbg, Dwarf_Error de, const char *path,
		    const char *what)
{
	const char *msg = de ? dwarf_errmsg(de) : "unexpected end of data";
	Dwarf_Unsigned no = de ? dwarf_errno(de) : 0;
	if (no == DW_DLE_ALLOC_FAIL || no == DW_DLE_MAF) /* libdwarf's own out of memory */
		gs_errf(err, GS_EINTERNAL, "%s: %s: out of memory", path, what);
	else
		gs_errf(err, GS_EINPUT, "%s: %s: %s", path, what, msg ? msg : "libdwarf error");
	if (de)
		dwarf_dealloc_error(dbg, de);
	return -1;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int tag_class(Dwarf_Half tag)
{
	switch (tag) {
	case DW_TAG_structure_type:
	case DW_TAG_typedef:
	case DW_TAG_pointer_type:
	case DW_TAG_base_type:
	case DW_TAG_array_type:
	case DW_TAG_subroutine_type:
	case DW_TAG_unspecified_type:
		return GS_DN_TYPE;
	case DW_TAG_variable:
		return GS_DN_VAR;
	case DW_TAG_constant:
		return GS_DN_CONST;
	default:
		return -1;
	}
}

/* A named struct has both a structure DIE and a typedef of the same name; the structure
 * is what callers want. */
static int tag_rank(uint16_t tag)
{
	return tag == DW_TAG_structure_type ? 2 : tag == DW_TAG_typedef ? 0 : 1;
}

static gs_dname *slot_for(gs_dname *slots, size_t cap, const char *name, uint64_t h, int cls)
{
	size_t i = (size_t)h & (cap - 1);
	for (;; i = (i + 1) & (cap - 1)) {
		gs_dname *s = &slots[i];
		if (!s->name || (s->hash == h && s->cls == cls && strcmp(s->name, name) == 0))
			return s;
	}
}

static int grow(gs_dindex *idx)
{
	size_t ncap = idx->cap ? idx->cap * 2 : 16384;
	gs_dname *ns = calloc(ncap, sizeof *ns);
	if (!ns)
		return -1;
	for (size_t i = 0; i < idx->cap; i++) {
		gs_dname *o = &idx->slots[i];
		if (o->name)
			*slot_for(ns, ncap, o->name, o->hash, o->cls) = *o;
	}
	free(idx->slots);
	idx->slots = ns;
	idx->cap = ncap;
	return 0;
}

static int insert(gs_dindex *idx, const char *name, Dwarf_Off off, Dwarf_Half tag, int cls)
{
	if ((idx->n + 1) * 4 > idx->cap * 3 && grow(idx) < 0)
		return -1;
	uint64_t h = name_hash(name);
	gs_dname *s = slot_for(idx->slots, idx->cap, name, h, cls);
	if (s->name && tag_rank(s->tag) >= tag_rank(tag))
		return 0;
	if (!s->name)
		idx->n++;
	*s = (gs_dname){.name = name, .hash = h, .off = off, .tag = tag, .cls = (uint8_t)cls};
	return 0;
}

const gs_dname *gs_dindex_find(const gs_dindex *idx, const char *name, enum gs_dname_class cls)
{
	if (!idx->cap)
		return NULL;
	const gs_dname *s = slot_for(idx->slots, idx->cap, name, name_hash(name), cls);
	return s->name ? s : NULL;
}

/* Indexes the children of one unit DIE; siblings are walked without reading subtrees. */
static int index_unit(gs_dindex *idx, Dwarf_Debug dbg, Dwarf_Die cu, const char *path,
		      gs_err *err)
{
	Dwarf_Error de = NULL;
	Dwarf_Die die = NULL;
	int rc = dwarf_child(cu, &die, &de);
	if (rc == DW_DLV_NO_ENTRY)
		return 0;
	if (rc != DW_DLV_OK)
		return gs_dwarf_liberr(err, dbg, de, path, "reading a compile unit");
	while (die) {
		Dwarf_Half tag = 0;
		if (dwarf_tag(die, &tag, &de) != DW_DLV_OK) {
			dwarf_dealloc_die(die);
			return gs_dwarf_liberr(err, dbg, de, path, "reading a DIE tag");
		}
		int cls = tag_class(tag);
		char *name = NULL;
		if (cls >= 0 && dwarf_diename(die, &name, &de) == DW_DLV_OK) {
			Dwarf_Off off = 0;
			if (dwarf_dieoffset(die, &off, &de) != DW_DLV_OK) {
				dwarf_dealloc_die(die);
				return gs_dwarf_liberr(err, dbg, de, path, "reading a DIE offset");
			}
			if (insert(idx, name, off, tag, cls) < 0) {
				dwarf_dealloc_die(die);
				return gs_errf(err, GS_EINTERNAL, "out of memory indexing DWARF");
			}
		} else if (de) {
			dwarf_dealloc_error(dbg, de);
			de = NULL;
		}
		Dwarf_Die next = NULL;
		rc = dwarf_siblingof_b(dbg, die, true, &next, &de);
		dwarf_dealloc_die(die);
		if (rc == DW_DLV_ERROR)
			return gs_dwarf_liberr(err, dbg, de, path, "walking a compile unit");
		die = rc == DW_DLV_OK ? next : NULL;
	}
	return 0;
}

/* Lists the units: the DIE offset and name of each, nothing below them yet. */
static int list_units(gs_dindex *idx, Dwarf_Debug dbg, const char *path, gs_err *err)
{
	Dwarf_Error de = NULL;
	int ret = 0;
	size_t cap = 0;
	for (;;) {
		Dwarf_Unsigned next = 0;
		Dwarf_Half utype = 0;
		int rc = dwarf_next_cu_header_d(dbg, true, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
						NULL, &next, &utype, &de);
		if (rc == DW_DLV_NO_ENTRY)
			break; /* the unit cursor is back at the start */
		if (rc != DW_DLV_OK)
			return gs_dwarf_liberr(err, dbg, de, path, "reading a unit header");
		if (ret < 0)
			continue; /* finish the walk so the cursor resets */
		Dwarf_Die cu = NULL;
		rc = dwarf_siblingof_b(dbg, NULL, true, &cu, &de);
		if (rc == DW_DLV_ERROR) {
			ret = gs_dwarf_liberr(err, dbg, de, path, "reading a unit DIE");
			continue;
		}
		if (rc == DW_DLV_NO_ENTRY)
			continue;
		Dwarf_Off off = 0;
		char *name = NULL;
		if (dwarf_dieoffset(cu, &off, &de) != DW_DLV_OK) {
			ret = gs_dwarf_liberr(err, dbg, de, path, "reading a unit DIE offset");
		} else {
			if (dwarf_diename(cu, &name, &de) != DW_DLV_OK && de) {
				dwarf_dealloc_error(dbg, de);
				de = NULL;
			}
			if (idx->nunits == cap) {
				cap = cap ? cap * 2 : 256;
				gs_dunit *u = realloc(idx->units, cap * sizeof *u);
				if (!u) {
					dwarf_dealloc_die(cu);
					ret = gs_errf(err, GS_EINTERNAL, "out of memory listing DWARF units");
					continue;
				}
				idx->units = u;
			}
			idx->units[idx->nunits++] = (gs_dunit){off, name ? name : "", false};
		}
		dwarf_dealloc_die(cu);
	}
	return ret;
}

/* Indexes the top level of every unit named pkg not indexed yet. */
static int load_package(gs_dindex *idx, Dwarf_Debug dbg, const char *pkg, size_t len,
			const char *path, gs_err *err)
{
	for (size_t i = 0; i < idx->nunits; i++) {
		gs_dunit *u = &idx->units[i];
		if (u->indexed || strlen(u->name) != len || memcmp(u->name, pkg, len) != 0)
			continue;
		u->indexed = true;
		Dwarf_Die cu = NULL;
		Dwarf_Error de = NULL;
		if (dwarf_offdie_b(dbg, u->die, true, &cu, &de) != DW_DLV_OK)
			return gs_dwarf_liberr(err, dbg, de, path, "reading a unit DIE");
		int rc = index_unit(idx, dbg, cu, path, err);
		dwarf_dealloc_die(cu);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Where a Go name's package path may end: "a.b/c/d.E" is in "a.b/c/d", but the dot may
 * belong to the last path element ("gopkg.in/yaml.v3.Node" is in "gopkg.in/yaml.v3"), so
 * every dot after the last slash is a candidate. Composite type names ("*T", "map[K]V",
 * "[]T") have no package: every type is in the runtime units anyway. */
static const char *next_package_end(const char *name, const char *after)
{
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z')))
		return NULL;
	if (!after) {
		const char *slash = strrchr(name, '/');
		after = slash ? slash : name;
	}
	return strchr(after, '.');
}

int gs_dindex_open(gs_dindex *idx, Dwarf_Debug dbg, const char *path, gs_err *err)
{
	if (list_units(idx, dbg, path, err) < 0)
		return -1;
	return load_package(idx, dbg, "runtime", 7, path, err);
}

int gs_dindex_lookup(gs_dindex *idx, Dwarf_Debug dbg, const char *name, enum gs_dname_class cls,
		     const char *path, const gs_dname **out, gs_err *err)
{
	*out = gs_dindex_find(idx, name, cls);
	for (const char *dot = next_package_end(name, NULL); !*out && dot;
	     dot = next_package_end(name, dot + 1)) {
		if (load_package(idx, dbg, name, (size_t)(dot - name), path, err) < 0)
			return -1;
		*out = gs_dindex_find(idx, name, cls);
	}
	return 0;
}

void gs_dindex_free(gs_dindex *idx)
{
	free(idx->slots);
	free(idx->units);
	*idx = (gs_dindex){0};
}
