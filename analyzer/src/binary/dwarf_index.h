/* Private to dwarf_*.c: a name index of the top-level DIEs of compile units, built a
 * package at a time.
 *
 * Go's linker puts every type into the "runtime" units and each package's variables and
 * constants into that package's unit. So the runtime units are indexed when the index
 * opens, and another package's unit the first time a name of that package is missed: a
 * command reads a few percent of a large binary's units, not all of them. Children of
 * functions and structs are skipped. Names point into libdwarf's section data and live
 * until dwarf_finish.
 */
#ifndef GS_BINARY_DWARF_INDEX_H
#define GS_BINARY_DWARF_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dwarf.h>
#include <libdwarf.h>

#include "../util/err.h"

/* Lookup namespaces: a type and a variable may share a name. */
enum gs_dname_class { GS_DN_TYPE, GS_DN_VAR, GS_DN_CONST };

typedef struct gs_dname {
	const char *name;
	uint64_t hash;
	Dwarf_Off off; /* global .debug_info offset of the DIE */
	uint16_t tag;
	uint8_t cls;
} gs_dname;

typedef struct gs_dunit {
	Dwarf_Off die; /* the unit DIE's .debug_info offset */
	const char *name; /* the package path; "" when the unit has none */
	bool indexed;
} gs_dunit;

typedef struct gs_dindex {
	gs_dname *slots; /* open addressing; name == NULL is empty */
	size_t cap, n;
	gs_dunit *units;
	size_t nunits;
} gs_dindex;

/* Lists the units and indexes the runtime ones. 0 or -1 (GS_EINPUT naming path). */
int gs_dindex_open(gs_dindex *idx, Dwarf_Debug dbg, const char *path, gs_err *err);
/* *out = the entry for name, or NULL; a miss indexes the units of name's package first.
 * -1 only when reading DWARF fails. */
int gs_dindex_lookup(gs_dindex *idx, Dwarf_Debug dbg, const char *name, enum gs_dname_class cls,
		     const char *path, const gs_dname **out, gs_err *err);
/* What is indexed so far, nothing more. */
const gs_dname *gs_dindex_find(const gs_dindex *idx, const char *name, enum gs_dname_class cls);
void gs_dindex_free(gs_dindex *idx);

/* "<path>: <what>: <libdwarf message>" as GS_EINPUT; frees the libdwarf error. */
int gs_dwarf_liberr(gs_err *err, Dwarf_Debug dbg, Dwarf_Error de, const char *path,
		    const char *what);

#endif
