/* Go types and globals from DWARF, by Go name (libdwarf; DWARF 4 and 5, compressed sections).
 *
 * Loaded lazily: the first query indexes the names of top-level DIEs (types and variables)
 * without reading their children; a struct's members are read when that struct is asked
 * for, once, and cached. Everything returned lives as long as the gs_dwarf.
 */
#ifndef GS_BINARY_DWARF_TYPES_H
#define GS_BINARY_DWARF_TYPES_H

#include <stdint.h>
#include <stddef.h>

#include "../util/err.h"
#include "elf_file.h"

enum gs_dkind {
	GS_DK_OTHER, GS_DK_BASE, GS_DK_STRUCT, GS_DK_POINTER, GS_DK_ARRAY, GS_DK_TYPEDEF,
	GS_DK_SLICE, GS_DK_STRING, GS_DK_INTERFACE, GS_DK_MAP, GS_DK_CHAN, GS_DK_FUNC,
};

typedef struct gs_dtype gs_dtype;

typedef struct gs_dmember {
	const char *name;
	uint64_t offset;
	const gs_dtype *type;
} gs_dmember;

struct gs_dtype {
	const char *name;     /* Go name, e.g. "runtime.g", "*runtime.g", "[]*runtime.g" */
	enum gs_dkind kind;   /* Go slices/strings/interfaces are DWARF structs; kind says which */
	uint64_t size;
	const gs_dtype *elem; /* pointer target, array/slice element, typedef target; or NULL */
	uint64_t count;       /* array length */
	size_t nmembers;      /* structs (and slice/string/interface headers) */
	const gs_dmember *members;
	/* Go's DW_AT_go_kind when present, else 0. */
	int go_kind;
};

typedef struct gs_dwarf gs_dwarf;

/* Fails with GS_EINPUT ("EXE: no DWARF debug information") when the binary has none. */
gs_dwarf *gs_dwarf_open(gs_binary *b, gs_err *err);
void gs_dwarf_close(gs_dwarf *d);

/* A type by its Go name; NULL (GS_ENOTFOUND) if absent. */
const gs_dtype *gs_dwarf_type(gs_dwarf *d, const char *name, gs_err *err);
/* A member by name (first of several alternatives separated by '|', e.g. "elem|elemp").
 * NULL if none. */
const gs_dmember *gs_dwarf_member(const gs_dtype *t, const char *names);
/* A package-level variable: link address and type. 0 or -1 (GS_ENOTFOUND). */
int gs_dwarf_global(gs_dwarf *d, const char *name, uint64_t *addr, const gs_dtype **type,
		    gs_err *err);

#endif
