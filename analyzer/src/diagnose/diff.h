/* One process at two moments: is it stuck or just slow?
 *
 * Two snapshots of the same process (same executable, threads in common) are independent
 * models; this joins them by identity that survives time: a stream by its side, transport
 * address and id, a goroutine by its id. A stream `progressed` when anything that moves
 * with traffic moved (queued messages, flow-control counters, write quota, the loopy
 * writer's view, its state, its headers or status) or one of its goroutines parked anew;
 * `unchanged` when all of it is equal and its goroutines are parked on the same objects
 * since the same moment. A goroutine is `parked` (same objects, same wait start), `moved`,
 * `new` or `gone`.
 */
#ifndef GS_DIAGNOSE_DIFF_H
#define GS_DIAGNOSE_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../goruntime/model.h"
#include "../grpc/grpc_model.h"

enum gs_change { GS_CH_PROGRESSED, GS_CH_UNCHANGED, GS_CH_NEW, GS_CH_GONE, GS_CH_PARKED,
		 GS_CH_MOVED };

typedef struct gs_stream_diff {
	enum gs_change change;
	long before, after; /* stream indexes in each model, -1 when absent */
	const char *moved;  /* what moved (first difference), "" when none */
} gs_stream_diff;

typedef struct gs_goroutine_diff {
	uint64_t goid;
	enum gs_change change;
	long before, after; /* goroutine indexes, -1 when absent */
} gs_goroutine_diff;

typedef struct gs_diff {
	gs_stream_diff *streams;
	size_t nstreams;
	gs_goroutine_diff *goroutines;
	size_t ngoroutines;
	bool nomem; /* a change was dropped for want of memory (gs_diff_models fails) */
} gs_diff;

const char *gs_change_name(enum gs_change c);

/* Fails (GS_EINPUT) when the two snapshots are not of one process. */
int gs_diff_models(gs_rt *r1, gs_grpc *g1, gs_rt *r2, gs_grpc *g2, gs_diff *out, gs_err *err);
void gs_diff_free(gs_diff *d);

#endif
