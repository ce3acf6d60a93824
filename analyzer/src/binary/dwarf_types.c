/* Go types, globals and constants from DWARF (see dwarf_types.h).
 *
 * Opening only reads ELF headers; the first query builds the name index (dwarf_index.c),
 * and types are built from their DIEs as they are reached (dwarf_graph.c).
 */
#include "dwarf_types.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf_graph.h"
#include "dwarf_index.h"
#include "goglobals.h"
#include "typedesc.h"
#include "../util/alloc.h"
#include "../util/strbuf.h"

struct gs_dwarf {
	Dwarf_Debug dbg;
	gs_binary *bin;                /* sections come from the session's executable */
	Dwarf_Obj_Access_Interface obj; /* libdwarf keeps a pointer to it */
	char *path;
	bool indexed;
	gs_err index_err; /* a failed index build is not retried: libdwarf's unit cursor */
	gs_dindex names;
	gs_dgraph graph;
	/* Without DWARF (dbg == NULL): type descriptors, table types, the code's globals. */
	gs_typedesc *td;
	const gs_pclntab *pc;
	bool nomem; /* a lookup failed for want of memory: "not found" answers may be wrong */
	const gs_dtype **extra;
	size_t nextra;
};

static int ensure_index(gs_dwarf *d, gs_err *err)
{
	if (d->indexed)
		return 0;
	if (d->index_err.code) {
		if (err)
			*err = d->index_err;
		return -1;
	}
	if (gs_dindex_open(&d->names, d->dbg, d->path, &d->index_err) < 0) {
		if (err)
			*err = d->index_err;
		return -1;
	}
	d->indexed = true;
	return 0;
}

/* libdwarf reads sections through these, from the executable gs_binary has mapped and
 * (for compressed ones) inflated: nothing is read or decompressed twice, and libdwarf's own
 * ELF reader (which loads the symbol table for relocations a Go executable never has)
 * stays out. */
/* Sections the analyser never reads through libdwarf (globals are DW_OP_addr expressions,
 * lines come from the pclntab), which libdwarf would otherwise load, and inflate, when it
 * sets up each unit: they are shown to it as nameless. */
static bool unused_section(const char *name)
{
	static const char *const unused[] = {".debug_loclists", ".debug_rnglists", ".debug_loc",
					     ".debug_ranges", ".debug_line", ".debug_frame"};
	for (size_t k = 0; k < sizeof unused / sizeof unused[0]; k++)
		if (strcmp(name, unused[k]) == 0 || (name[0] == '.' && name[1] == 'z' &&
						     strcmp(name + 2, unused[k] + 1) == 0))
			return true;
	return false;
}

static int obj_section_info(void *obj, Dwarf_Half i, Dwarf_Obj_Access_Section *out, int *error)
{
	const gs_section *s = gs_binary_section_at(((gs_dwarf *)obj)->bin, i);
	(void)error;
	if (!s)
		return DW_DLV_NO_ENTRY;
	*out = (Dwarf_Obj_Access_Section){.addr = s->addr, .type = s->type, .size = s->size,
					  .name = s->name};
	if (unused_section(s->name))
		*out = (Dwarf_Obj_Access_Section){.name = ""};
	return DW_DLV_OK;
}

static Dwarf_Endianness obj_byte_order(void *obj)
{
	(void)obj;
	return DW_OBJECT_LSB;
}

static Dwarf_Small obj_length_size(void *obj)
{
	(void)obj;
	return 4;
}

static Dwarf_Small obj_pointer_size(void *obj)
{
	(void)obj;
	return 8;
}

static Dwarf_Unsigned obj_section_count(void *obj)
{
	return gs_binary_nsections(((gs_dwarf *)obj)->bin);
}

static int obj_load_section(void *obj, Dwarf_Half i, Dwarf_Small **data, int *error)
{
	gs_dwarf *d = obj;
	const gs_section *s = gs_binary_section_at(d->bin, i);
	if (!s)
		return DW_DLV_NO_ENTRY;
	gs_err e = {0};
	const uint8_t *p = gs_binary_section_data(d->bin, s, &e);
	if (!p) {
		d->nomem |= e.code == GS_EINTERNAL; /* not corrupt: no memory to inflate it */
		*error = e.code == GS_EINTERNAL ? DW_DLE_ALLOC_FAIL : DW_DLE_SECTION_SIZE_OR_OFFSET_LARGE;
		return DW_DLV_ERROR;
	}
	*data = (Dwarf_Small *)p; /* libdwarf only reads it */
	return DW_DLV_OK;
}

static const Dwarf_Obj_Access_Methods obj_methods = {
	.get_section_info = obj_section_info,
	.get_byte_order = obj_byte_order,
	.get_length_size = obj_length_size,
	.get_pointer_size = obj_pointer_size,
	.get_section_count = obj_section_count,
	.load_section = obj_load_section,
	.relocate_a_section = NULL,
};

gs_dwarf *gs_dwarf_open(gs_binary *b, gs_err *err)
{
	const char *path = gs_binary_path(b);
	gs_dwarf *d = calloc(1, sizeof *d);
	if (!d || !(d->path = strdup(path))) {
		free(d);
		gs_errf(err, GS_EINTERNAL, "out of memory");
		return NULL;
	}
	d->bin = b;
	/* libdwarf accepts a file whose only "DWARF" is .eh_frame: ask for the real thing. */
	if (!gs_binary_section(b, ".debug_info") && !gs_binary_section(b, ".zdebug_info"))
		return d;
	d->obj.object = d;
	d->obj.methods = &obj_methods;
	/* Only the section table is read here; sections are loaded on use. */
	Dwarf_Error de = NULL;
	int rc = dwarf_object_init_b(&d->obj, NULL, NULL, DW_GROUPNUMBER_ANY, &d->dbg, &de);
	if (rc == DW_DLV_NO_ENTRY) {
		gs_errf(err, GS_EINPUT, "%s: no DWARF debug information (stripped?)", path);
		goto fail;
	}
	if (rc != DW_DLV_OK) {
		Dwarf_Unsigned no = de ? dwarf_errno(de) : 0;
		if (no == DW_DLE_DBG_ALLOC || no == DW_DLE_ALLOC_FAIL || no == DW_DLE_MAF || d->nomem)
			gs_errf(err, GS_EINTERNAL, "%s: cannot read DWARF: out of memory", path);
		else
			gs_errf(err, GS_EINPUT, "%s: cannot read DWARF: %s", path,
				de ? dwarf_errmsg(de) : "libdwarf error");
		if (de)
			dwarf_dealloc(NULL, de, DW_DLA_ERROR);
		d->dbg = NULL;
		goto fail;
	}
	d->graph.dbg = d->dbg;
	d->graph.path = d->path;
	return d;
fail:
	gs_dwarf_close(d);
	return NULL;
}

void gs_dwarf_close(gs_dwarf *d)
{
	if (!d)
		return;
	free(d->extra);
	if (d->dbg) {
		Dwarf_Error de = NULL; /* nothing to do about a failure to free */
		dwarf_object_finish(d->dbg, &de);
	}
	gs_dindex_free(&d->names);
	gs_dgraph_free(&d->graph);
	free(d->path);
	free(d);
}

void gs_dwarf_use_descriptors(gs_dwarf *d, gs_typedesc *td, const gs_pclntab *pc)
{
	d->td = td;
	d->pc = pc;
}

gs_typedesc *gs_dwarf_descriptors(const gs_dwarf *d)
{
	return d->td;
}

bool gs_dwarf_has_dwarf(const gs_dwarf *d)
{
	return d->dbg != NULL;
}

int gs_dwarf_add_type(gs_dwarf *d, const gs_dtype *t, gs_err *err)
{
	const gs_dtype **v = gs_reallocarray(d->extra, d->nextra + 1, sizeof *v, err);
	if (!v)
		return -1;
	d->extra = v;
	d->extra[d->nextra++] = t;
	return 0;
}

static const gs_dtype *extra_type(const gs_dwarf *d, const char *name)
{
	for (size_t i = 0; i < d->nextra; i++)
		if (strcmp(d->extra[i]->name, name) == 0)
			return d->extra[i];
	return NULL;
}

/* The type of a runtime global found without DWARF, where callers need it. */
static const gs_dtype *global_type(gs_dwarf *d, const char *name)
{
	if (!d->td)
		return NULL;
	if (strcmp(name, "runtime.firstmoduledata") == 0)
		return gs_typedesc_type(d->td, "runtime.moduledata", NULL);
	if (strcmp(name, "runtime.waitReasonStrings") == 0) {
		const gs_dtype *str = gs_typedesc_type(d->td, "string", NULL);
		size_t n = gs_goglobal_wait_reason_count(d->bin, d->pc);
		if (!str || !n)
			return NULL;
		gs_dtype *t = gs_typedesc_new_type(d->td, "[]string", GS_DK_ARRAY, 16 * n);
		t->elem = str;
		t->count = n;
		t->source = GS_TR_DESCRIPTOR;
		return t;
	}
	if (strcmp(name, "runtime.semtable") == 0) {
		/* semTable: 251 roots, each padded to a cache line (every Go release here). */
		const gs_dtype *root = gs_dwarf_type(d, "runtime.semaRoot", NULL);
		gs_dtype *t = gs_typedesc_new_type(d->td, "runtime.semTable", GS_DK_ARRAY, 251 * 64);
		t->elem = root;
		t->count = 251;
		return root ? t : NULL;
	}
	return NULL;
}

size_t gs_dwarf_global_candidates(gs_dwarf *d, const char *name, uint64_t *out, size_t max)
{
	uint64_t a;
	if (!max)
		return 0;
	if (d->dbg && gs_dwarf_global(d, name, &a, NULL, NULL) == 0) {
		out[0] = a;
		return 1;
	}
	if (gs_binary_symbol(d->bin, name, &a, NULL) == 0) {
		out[0] = a;
		return 1;
	}
	return !d->dbg && d->pc ? gs_goglobal_candidates(d->bin, d->pc, name, out, max) : 0;
}

bool gs_dwarf_nomem(const gs_dwarf *d)
{
	return d->nomem || (d->td && gs_typedesc_nomem(d->td));
}

static const gs_dtype *dwarf_type(gs_dwarf *d, const char *name, gs_err *err);

/* A lookup that failed for want of memory is remembered (gs_dwarf_nomem): callers that
 * take NULL for "absent" would otherwise answer from a part of the types. */
const gs_dtype *gs_dwarf_type(gs_dwarf *d, const char *name, gs_err *err)
{
	gs_err local = {0};
	const gs_dtype *t = dwarf_type(d, name, err ? err : &local);
	if (!t && (err ? err : &local)->code == GS_EINTERNAL)
		d->nomem = true;
	return t;
}

static const gs_dtype *dwarf_type(gs_dwarf *d, const char *name, gs_err *err)
{
	const gs_dname *e = NULL;
	if (!d->dbg) {
		const gs_dtype *t = d->td ? gs_typedesc_type(d->td, name, NULL) : NULL;
		if (!t)
			t = extra_type(d, name);
		if (!t)
			gs_errf(err, GS_ENOTFOUND, "%s: no such type (no DWARF; no type descriptor)",
				name);
		return t;
	}
	if (ensure_index(d, err) < 0 ||
	    gs_dindex_lookup(&d->names, d->dbg, name, GS_DN_TYPE, d->path, &e, err) < 0)
		return NULL;
	if (!e) {
		gs_errf(err, GS_ENOTFOUND, "%s: no such type in DWARF", name);
		return NULL;
	}
	gs_dtype *t = gs_dgraph_type_at(&d->graph, e->off, err);
	if (!t || gs_dgraph_drain(&d->graph, err) < 0)
		return NULL;
	return t;
}

const gs_dtype *gs_dwarf_resolve(const gs_dtype *t)
{
	for (int i = 0; t && t->kind == GS_DK_TYPEDEF && t->elem && i < 64; i++)
		t = t->elem;
	return t;
}

static const gs_dmember *find_member(const gs_dtype *t, const char *name, size_t len)
{
	for (size_t i = 0; i < t->nmembers; i++) {
		const char *m = t->members[i].name;
		if (strncmp(m, name, len) == 0 && m[len] == '\0')
			return &t->members[i];
	}
	return NULL;
}

const gs_dmember *gs_dwarf_member(const gs_dtype *t, const char *names)
{
	for (int i = 0; t && !t->nmembers && i < 64; i++) {
		if (t->kind == GS_DK_TYPEDEF)
			t = t->elem;
		else if (t->kind == GS_DK_INTERFACE)
			t = t->underlying;
		else
			break;
	}
	if (!t || !names)
		return NULL;
	for (const char *p = names;;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		const gs_dmember *m = len ? find_member(t, p, len) : NULL;
		if (m)
			return m;
		if (!bar)
			return NULL;
		p = bar + 1;
	}
}

/* The DIE of a named variable or constant; the caller deallocates it. */
static Dwarf_Die named_die(gs_dwarf *d, const char *name, enum gs_dname_class cls,
			   const char *what, gs_err *err)
{
	const gs_dname *e = NULL;
	gs_err local = {0};
	if (ensure_index(d, err ? err : &local) < 0 ||
	    gs_dindex_lookup(&d->names, d->dbg, name, cls, d->path, &e, err ? err : &local) < 0) {
		d->nomem |= (err ? err : &local)->code == GS_EINTERNAL;
		return NULL;
	}
	if (!e) {
		gs_errf(err, GS_ENOTFOUND, "%s: no such %s in DWARF", name, what);
		return NULL;
	}
	Dwarf_Die die = NULL;
	Dwarf_Error de = NULL;
	if (dwarf_offdie_b(d->dbg, e->off, true, &die, &de) != DW_DLV_OK) {
		gs_dwarf_liberr(err, d->dbg, de, d->path, "reading a DIE");
		return NULL;
	}
	return die;
}

int gs_dwarf_global(gs_dwarf *d, const char *name, uint64_t *addr, const gs_dtype **type,
		    gs_err *err)
{
	if (!d->dbg) {
		uint64_t c[GS_GLOBAL_MAX_CANDIDATES];
		if (gs_dwarf_global_candidates(d, name, c, 1) == 0)
			return gs_errf(err, GS_ENOTFOUND, "%s: not found (no DWARF, no symbol)", name);
		if (addr)
			*addr = c[0];
		if (type)
			*type = global_type(d, name);
		return 0;
	}
	Dwarf_Die die = named_die(d, name, GS_DN_VAR, "variable", err);
	if (!die)
		return -1;
	Dwarf_Attribute a = NULL;
	Dwarf_Error de = NULL;
	const uint8_t *p = NULL;
	size_t n = 0;
	gs_dtype *t = NULL;
	int ret = -1;
	int rc = dwarf_attr(die, DW_AT_location, &a, &de);
	if (rc == DW_DLV_ERROR) {
		gs_dwarf_liberr(err, d->dbg, de, d->path, "reading a variable location");
		goto out;
	}
	if (rc == DW_DLV_OK)
		rc = gs_dgraph_attr_expr(&d->graph, a, &p, &n, err);
	else
		rc = 0;
	if (a)
		dwarf_dealloc_attribute(a);
	if (rc < 0)
		goto out;
	Dwarf_Half asz = 0;
	if (dwarf_get_die_address_size(die, &asz, &de) != DW_DLV_OK) {
		gs_dwarf_liberr(err, d->dbg, de, d->path, "reading the address size");
		goto out;
	}
	/* Go describes every global as a lone DW_OP_addr (little-endian targets only). */
	if (rc == 0 || asz > 8 || n != 1u + asz || p[0] != DW_OP_addr) {
		gs_errf(err, GS_ENOTFOUND, "%s: variable has no static address in DWARF", name);
		goto out;
	}
	uint64_t v = 0;
	for (size_t i = asz; i >= 1; i--)
		v = v << 8 | p[i];
	if (gs_dgraph_attr_type(&d->graph, die, DW_AT_type, &t, err) < 0 ||
	    gs_dgraph_drain(&d->graph, err) < 0)
		goto out;
	if (addr)
		*addr = v;
	if (type)
		*type = t;
	ret = 0;
out:
	dwarf_dealloc_die(die);
	return ret;
}

int gs_dwarf_constant(gs_dwarf *d, const char *name, int64_t *value, gs_err *err)
{
	if (!d->dbg)
		return gs_errf(err, GS_ENOTFOUND, "%s: no DWARF constants in this binary", name);
	Dwarf_Die die = named_die(d, name, GS_DN_CONST, "constant", err);
	if (!die)
		return -1;
	Dwarf_Attribute a = NULL;
	Dwarf_Error de = NULL;
	int ret = -1;
	int rc = dwarf_attr(die, DW_AT_const_value, &a, &de);
	if (rc == DW_DLV_NO_ENTRY) {
		gs_errf(err, GS_ENOTFOUND, "%s: constant has no value in DWARF", name);
	} else if (rc != DW_DLV_OK) {
		gs_dwarf_liberr(err, d->dbg, de, d->path, "reading a constant");
	} else {
		Dwarf_Signed s = 0;
		Dwarf_Unsigned u = 0;
		/* Go writes sdata for signed and udata for unsigned constants. */
		Dwarf_Half form = 0;
		if (dwarf_whatform(a, &form, &de) != DW_DLV_OK) {
			dwarf_dealloc_error(d->dbg, de);
			de = NULL;
		}
		if (form == DW_FORM_udata && dwarf_formudata(a, &u, &de) == DW_DLV_OK) {
			*value = (int64_t)u;
			ret = 0;
		} else if (dwarf_formsdata(a, &s, &de) == DW_DLV_OK) {
			*value = s;
			ret = 0;
		} else {
			gs_dwarf_liberr(err, d->dbg, de, d->path, "reading a constant value");
		}
		dwarf_dealloc_attribute(a);
	}
	dwarf_dealloc_die(die);
	return ret;
}

size_t gs_dwarf_name_count(const gs_dwarf *d)
{
	if (!d->dbg)
		return d->td ? gs_typedesc_count(d->td) : 0;
	return d->names.n;
}
