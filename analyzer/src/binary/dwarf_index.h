/* Private to dwarf_*.c: a name index of the top-level DIEs of every compile unit.
 *
 * Go's linker puts every type into one synthetic "runtime" unit and each package's
 * variables and constants into that package's units, so a type lookup cannot be narrowed
 * to a unit by the name's package; one pass over the top level of all units (children of
 * functions and structs are skipped) is what finds both. Names point into libdwarf's
 * section data and live until dwarf_finish.
 */
#ifndef GS_BINARY_DWARF_INDEX_H
#define GS_BINARY_DWARF_INDEX_H

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

typedef struct gs_dindex {
	gs_dname *slots; /* open addressing; name == NULL is empty */
	size_t cap, n;
} gs_dindex;

/* Scans every unit's top level. 0 or -1 (GS_EINPUT naming path). */
int gs_dindex_build(gs_dindex *idx, Dwarf_Debug dbg, const char *path, gs_err *err);
const gs_dname *gs_dindex_find(const gs_dindex *idx, const char *name, enum gs_dname_class cls);
void gs_dindex_free(gs_dindex *idx);

/* "<path>: <what>: <libdwarf message>" as GS_EINPUT; frees the libdwarf error. */
int gs_dwarf_liberr(gs_err *err, Dwarf_Debug dbg, Dwarf_Error de, const char *path,
		    const char *what);

#endif
