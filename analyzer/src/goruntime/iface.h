/* Go interface values and runtime type descriptors.
 *
 * An interface value is two words: {itab, data} for non-empty interfaces, {type, data} for
 * `any`. The dynamic type is an abi.Type descriptor (runtime._type before 1.21) whose name
 * is a nameOff into the module's type region (runtime.firstmoduledata.types). Finding the
 * descriptor of a named type ("*transport.http2Client", in the runtime's package-name form)
 * goes through the module's typelinks (Go <= 1.26, sorted by name) or, from 1.27, the walk
 * of the typelinked descriptors stored back to back in [types+8, types+typedesclen).
 * Pointer types are typelinked; a named non-pointer type is found through its pointer type.
 *
 * A gs_types is the per-snapshot cache for this (module bounds, the descriptor index, names
 * looked up so far). Layouts of moduledata, abi.Type, itab and abi.PtrType come from DWARF
 * by member name, with the offsets that have been stable since 1.19 as fallback.
 * Only the first module is read (no plugins or shared libraries).
 */
#ifndef GS_GORUNTIME_IFACE_H
#define GS_GORUNTIME_IFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../binary/dwarf_types.h"
#include "../target/target.h"
#include "../util/err.h"

typedef struct gs_types gs_types;

/* bias: the PIE load bias (gs_rt_bias), added to DWARF global addresses; k: the session's
 * constants table (gs_rt_consts), copied; NULL fills one from d and the newest version
 * table. Fails when runtime.firstmoduledata cannot be found or read. */
struct gs_consts;
gs_types *gs_types_open(gs_target *t, gs_dwarf *d, uint64_t bias, const struct gs_consts *k,
			gs_err *err);
void gs_types_close(gs_types *ty);

/* Name of the type descriptor at type_addr ("*main.T", "context.backgroundCtx"), with
 * TFlagExtraStar handled. Truncated to cap-1 bytes. */
int gs_type_name(gs_types *ty, uint64_t type_addr, char *buf, size_t cap, gs_err *err);
/* Kind (abi.Kind: 22 = Pointer, 25 = Struct, ...) and whether values of the type are stored
 * directly in an interface's data word. */
int gs_type_kind(gs_types *ty, uint64_t type_addr, int *kind, bool *direct, gs_err *err);

typedef struct gs_iface {
	uint64_t tab;  /* itab (non-empty interface), 0 for eface or nil */
	uint64_t type; /* dynamic type descriptor, 0 = nil interface */
	uint64_t data; /* data word: the value (direct types) or a pointer to it */
} gs_iface;

/* Reads the interface value stored at addr; empty: eface (`any`) vs iface. */
int gs_iface_read(gs_types *ty, uint64_t addr, bool empty, gs_iface *out, gs_err *err);
/* The dynamic type of an itab. */
int gs_itab_type(gs_types *ty, uint64_t itab, uint64_t *type_addr, gs_err *err);

/* The descriptor of the type named `name` (runtime form, "*transport.http2Client"), cached.
 * GS_ENOTFOUND when the binary has none (e.g. a type never converted to an interface). */
int gs_type_addr_for_name(gs_types *ty, const char *name, uint64_t *addr, gs_err *err);
/* Whether type_addr is the descriptor of `name`: an address comparison after the first call. */
bool gs_type_is(gs_types *ty, uint64_t type_addr, const char *name);

/* Bounds of the module's type region and the number of indexed descriptors (diagnostics). */
void gs_types_region(const gs_types *ty, uint64_t *types, uint64_t *etypes, size_t *ndesc);

#endif
