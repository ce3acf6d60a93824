/* Walking the Go heap: the in-use spans of runtime.mheap_.allspans, their memory copied out
 * and handed to a visitor.
 *
 * A runtime facility: it knows spans (where they start, how many pages, whether they are in
 * use and may hold pointers) and nothing of what a layer above looks for in them. The gRPC
 * layer finds transports by the interface words it sees (grpc/discover.c); anything else that
 * must find objects without DWARF locals can do the same.
 *
 * What is visited: spans in state "in use" (not stacks, not free), optionally only those of
 * a scan size class (a noscan span holds no pointer, hence no interface value). Spans that
 * follow each other in memory are merged into runs of up to GS_HEAP_RUN_MAX bytes (a busy
 * heap is tens of thousands of one-page spans; a read each costs more in system calls than
 * in copying) and a run is handed over in pieces of at most GS_HEAP_PIECE bytes. No object
 * straddles two spans, so none straddles two runs; a piece carries one word past its end
 * (when the run goes on) so that a pair of words split across two pieces is still seen.
 *
 * Threads. On a core target the spans are listed and then visited by a job of the
 * session's executor (through a view of the target for the listing, bulk reads for the
 * copies) while the caller goes on with other work; gs_heap_walk_finish has the caller visit
 * the runs left, then joins. Other targets are listed at start and visited at the finish
 * by the caller alone. The visitor is called from both threads at once, each with its own
 * `part` (0 the caller's, 1 the worker's): whatever it writes must be per part.
 */
#ifndef GS_GORUNTIME_HEAPWALK_H
#define GS_GORUNTIME_HEAPWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "constants.h"
#include "model.h"

/* The runtime's constants the walk rests on, from the constants table (goruntime/
 * constants.h: the binary's DWARF, else the version table): runtime._PageSize and
 * mSpanInUse (mheap.go). */
#define GS_GO_PAGE_SIZE(rt) ((uint64_t)gs_const(gs_rt_consts(rt), GS_K_PAGE_SIZE))
#define GS_GO_SPAN_IN_USE(rt) ((uint64_t)gs_const(gs_rt_consts(rt), GS_K_SPAN_IN_USE))
/* spanClass = sizeclass << 1 | noscan (no constant of the runtime names the bit: the
 * table's own entry) */
#define GS_GO_SPANCLASS_NOSCAN(rt) ((uint64_t)gs_const(gs_rt_consts(rt), GS_K_SPANCLASS_NOSCAN))
/* runtime.heapArenaBytes: the heap grows in arenas of this size */
#define GS_GO_HEAP_ARENA_BYTES(rt) ((uint64_t)gs_const(gs_rt_consts(rt), GS_K_HEAP_ARENA_BYTES))
/* runtime.arenaBaseOffset: arena index i covers i * heapArenaBytes + this */
#define GS_GO_ARENA_BASE_OFFSET(rt) ((uint64_t)gs_const(gs_rt_consts(rt), GS_K_ARENA_BASE_OFFSET))

#define GS_HEAP_RUN_MAX (256u << 10)
#define GS_HEAP_PIECE (1u << 20)
/* Visitor parts: the caller's and the worker's. */
#define GS_HEAP_PARTS 2

/* A piece of a run: words[0 .. nwords) copied from addr; only the first nlook start inside
 * the piece (the rest is the one word of look-ahead). */
typedef void (*gs_heap_visit_fn)(void *ctx, int part, uint64_t addr, const uint64_t *words,
				 size_t nlook, size_t nwords);

typedef struct gs_heap_walk_stats {
	size_t spans;      /* in-use spans listed */
	size_t runs;       /* runs they were merged into, each read at once */
	uint64_t bytes;    /* bytes visited */
	size_t unreadable; /* pieces that could not be read */
	bool nomem;        /* the spans could not be listed whole for want of memory */
} gs_heap_walk_stats;

typedef struct gs_heap_walk gs_heap_walk;

/* Starts the walk (see above). pointers_only: only spans that may hold pointers. Returns
 * NULL when the heap cannot be listed (no mheap_, fields missing): nothing is visited; and
 * NULL with err set when out of memory. */
gs_heap_walk *gs_heap_walk_start(gs_rt *rt, bool pointers_only, gs_heap_visit_fn fn, void *ctx,
				 gs_err *err);
/* Visits what is left, joins the worker and frees the walk; stats may be NULL. Every start
 * needs a finish, also when the caller gives up (a failed session). NULL does nothing. */
void gs_heap_walk_finish(gs_heap_walk *w, gs_heap_walk_stats *stats);

#endif
