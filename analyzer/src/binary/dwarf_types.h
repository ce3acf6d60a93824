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
#include <stdbool.h>

#include "../util/err.h"
#include "elf_file.h"

enum gs_dkind {
	GS_DK_OTHER, GS_DK_BASE, GS_DK_STRUCT, GS_DK_POINTER, GS_DK_ARRAY, GS_DK_TYPEDEF,
	GS_DK_SLICE, GS_DK_STRING, GS_DK_INTERFACE, GS_DK_MAP, GS_DK_CHAN, GS_DK_FUNC,
};

/* Go's kind numbers as the file carries them: DWARF's DW_AT_go_kind and the kind byte of a
 * runtime type descriptor (abi.Kind, reflect.Kind). The binary layer decodes with these
 * before any runtime model exists (a stripped binary's layouts come from descriptors);
 * the session's constants table (goruntime/constants.h) holds the same values checked
 * against the binary's own DWARF constants, and selfcheck reports a disagreement. */
enum gs_go_kind {
	GS_GOK_BOOL = 1, GS_GOK_INT = 2, GS_GOK_INT64 = 6, GS_GOK_UINT = 7, GS_GOK_UINTPTR = 12,
	GS_GOK_FLOAT32 = 13, GS_GOK_COMPLEX128 = 16, GS_GOK_ARRAY = 17, GS_GOK_CHAN = 18,
	GS_GOK_FUNC = 19, GS_GOK_INTERFACE = 20, GS_GOK_MAP = 21, GS_GOK_PTR = 22,
	GS_GOK_SLICE = 23, GS_GOK_STRING = 24, GS_GOK_STRUCT = 25, GS_GOK_UNSAFEPTR = 26,
	GS_GOK_MASK = 0x1f, /* the kind byte's flag bits above it (up to Go 1.25) */
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
	/* Pointer target, array/slice/chan element, map value (DW_AT_go_elem), typedef and
	 * interface target (runtime.iface/eface); or NULL. */
	const gs_dtype *elem;
	uint64_t count;       /* array length */
	size_t nmembers;      /* structs (and slice/string/interface headers) */
	const gs_dmember *members;
	/* Go's DW_AT_go_kind when present, else 0. */
	int go_kind;
	const gs_dtype *key;        /* map key (DW_AT_go_key), else NULL */
	/* DW_AT_type of a DWARF typedef: for chan/map the runtime representation
	 * (*hchan<T>, *hash<K,V> or *map<K,V>), for interfaces runtime.iface/eface. */
	const gs_dtype *underlying;
	uint64_t die_offset;        /* .debug_info offset, for messages */
	/* DW_AT_go_runtime_type: the type descriptor's offset from moduledata.types. */
	bool has_runtime_type;
	uint64_t runtime_type;
	/* Where the layout came from (enum gs_tsource), for selfcheck. */
	uint8_t source;
};

/* Where a type's layout came from: DWARF, the runtime's type descriptors, or a per-version
 * table checked against the snapshot (types the linker gave no descriptor). */
enum gs_tsource { GS_TR_DWARF, GS_TR_DESCRIPTOR, GS_TR_TABLE };

typedef struct gs_dwarf gs_dwarf;
struct gs_typedesc;
struct gs_pclntab;

/* Go's types and globals of one executable. From DWARF when the binary has it; otherwise
 * (stripped, `-s -w`) from the runtime's type descriptors, the tables of types that have
 * none, and globals found from the code (gs_dwarf_use_descriptors): the callers see one
 * interface. A binary without DWARF opens without error. */
gs_dwarf *gs_dwarf_open(gs_binary *b, gs_err *err);
/* Serves lookups from td (owned by the caller, outlives d) when the binary has no DWARF;
 * with DWARF, td is only kept for gs_dwarf_descriptors (dynamic types by address). */
void gs_dwarf_use_descriptors(gs_dwarf *d, struct gs_typedesc *td, const struct gs_pclntab *pc);
bool gs_dwarf_has_dwarf(const gs_dwarf *d);
/* The descriptor source given to gs_dwarf_use_descriptors, or NULL. */
struct gs_typedesc *gs_dwarf_descriptors(const gs_dwarf *d);
/* Adds a type built from a table (checked against the snapshot by the caller); it answers
 * gs_dwarf_type for its name when neither DWARF nor a descriptor does. */
/* Whether a lookup failed for want of memory (its caller may have taken it for absent). */
bool gs_dwarf_nomem(const gs_dwarf *d);
/* -1 when out of memory. */
int gs_dwarf_add_type(gs_dwarf *d, const gs_dtype *t, gs_err *err);
/* Without DWARF: the candidate link addresses of a runtime global (see goglobals.h), most
 * likely first; with DWARF or symbols, the one address. How many were written. */
size_t gs_dwarf_global_candidates(gs_dwarf *d, const char *name, uint64_t *out, size_t max);
void gs_dwarf_close(gs_dwarf *d);

/* A type by its Go name; NULL (GS_ENOTFOUND) if absent. */
const gs_dtype *gs_dwarf_type(gs_dwarf *d, const char *name, gs_err *err);
/* A member by name (first of several alternatives separated by '|', e.g. "elem|elemp"):
 * the first alternative that exists wins. Typedefs and interfaces are looked through.
 * NULL if none. */
const gs_dmember *gs_dwarf_member(const gs_dtype *t, const char *names);
/* A package-level variable: link address and type. 0 or -1 (GS_ENOTFOUND). */
int gs_dwarf_global(gs_dwarf *d, const char *name, uint64_t *addr, const gs_dtype **type,
		    gs_err *err);
/* A package-level constant (DW_TAG_constant, e.g. "runtime._Gwaiting"). 0 or -1. */
int gs_dwarf_constant(gs_dwarf *d, const char *name, int64_t *value, gs_err *err);

/* t with GS_DK_TYPEDEF layers removed (named Go types such as `type waitReason uint8`). */
const gs_dtype *gs_dwarf_resolve(const gs_dtype *t);
/* Names indexed so far (0 before the first query); for tests and diagnostics. */
size_t gs_dwarf_name_count(const gs_dwarf *d);

#endif
