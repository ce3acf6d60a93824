/* Private to dwarf_*.c: the graph of gs_dtype values, built from DIEs on demand.
 *
 * A type is built the first time it is reached and cached by DIE offset. The cache entry
 * exists before its fields are filled, and the types it references are filled from a work
 * list, so cycles (runtime.g -> *runtime.m -> runtime.m -> *runtime.g) terminate and deep
 * graphs do not recurse. Reaching a type fills everything reachable from it.
 */
#ifndef GS_BINARY_DWARF_GRAPH_H
#define GS_BINARY_DWARF_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include <dwarf.h>
#include <libdwarf.h>

#include "../util/err.h"
#include "dwarf_types.h"

struct gs_dgraph_pending;
struct gs_dgraph_block;

typedef struct gs_dgraph {
	Dwarf_Debug dbg;  /* borrowed */
	const char *path; /* borrowed, for messages */
	/* DIE offset -> type, open addressing on off+1 (0 = empty). */
	Dwarf_Off *cache_keys;
	gs_dtype **cache_vals;
	size_t cache_cap, cache_n;
	struct gs_dgraph_pending *work; /* reached, not yet filled */
	size_t nwork, work_cap;
	gs_dtype **filled; /* filled, awaiting typedef collapsing */
	size_t nfilled, filled_cap;
	struct gs_dgraph_block *arena; /* every gs_dtype and member array */
} gs_dgraph;

/* The type at a DIE offset: cached, or new and queued (unfilled until gs_dgraph_drain). */
gs_dtype *gs_dgraph_type_at(gs_dgraph *g, Dwarf_Off off, gs_err *err);
/* Fills every queued type. 0 or -1. */
int gs_dgraph_drain(gs_dgraph *g, gs_err *err);
/* The type a reference attribute points to, queued. 1, 0 if absent, -1 on error. */
int gs_dgraph_attr_type(gs_dgraph *g, Dwarf_Die die, Dwarf_Half at, gs_dtype **out,
			gs_err *err);
/* The bytes of an exprloc or block attribute. 1, 0 if it is neither, -1 on error. */
int gs_dgraph_attr_expr(gs_dgraph *g, Dwarf_Attribute a, const uint8_t **p, size_t *n,
			gs_err *err);
void gs_dgraph_free(gs_dgraph *g);

#endif
