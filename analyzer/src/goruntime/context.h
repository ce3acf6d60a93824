/* context.Context chains: what a context value is made of and whether it is done.
 *
 * A Context is an interface; the standard implementations wrap a parent (cancelCtx.Context,
 * valueCtx.Context, withoutCancelCtx.c, ...). The walk follows parents from the given value
 * to the root (backgroundCtx/todoCtx, or 1.19's *emptyCtx), reporting each layer's dynamic
 * type. The chain's facts are what ctx.Err() and ctx.Deadline() would return: the err of the
 * nearest cancel-capable layer (cancelCtx, timerCtx, afterFuncCtx) and the deadline of the
 * nearest timerCtx, neither looking past a withoutCancelCtx. A layer of a type the reader
 * does not know (a user's own Context) ends the walk: its parent is not known.
 *
 * Struct layouts come from DWARF (context.cancelCtx, context.timerCtx, time.Time, ...);
 * cancelCtx.err is an `error` up to 1.24 and an atomic.Value holding the error from 1.25.
 */
#ifndef GS_GORUNTIME_CONTEXT_H
#define GS_GORUNTIME_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "../binary/dwarf_types.h"
#include "../target/target.h"
#include "../util/err.h"
#include "iface.h"
#include "layout.h"

#define GS_CTX_MAX_DEPTH 64

enum gs_ctx_kind {
	GS_CTX_BACKGROUND, GS_CTX_TODO, GS_CTX_EMPTY, GS_CTX_CANCEL, GS_CTX_TIMER, GS_CTX_VALUE,
	GS_CTX_WITHOUT_CANCEL, GS_CTX_AFTERFUNC, GS_CTX_STOP, GS_CTX_OTHER,
};

typedef struct gs_ctx_layer {
	enum gs_ctx_kind kind;
	uint64_t type_addr, data; /* dynamic type descriptor, data word of the interface */
	char type_name[128];
	bool done;                /* cancel-capable layers: err set */
	char err[160];            /* the error text, or its dynamic type name */
	bool has_deadline;        /* timerCtx */
	int64_t deadline_unix_ns;
} gs_ctx_layer;

typedef struct gs_ctx_info {
	bool nil;                 /* the interface was nil */
	bool done;
	char err[160];            /* "" when not done */
	bool has_deadline;
	int64_t deadline_unix_ns;
	size_t depth;             /* layers read */
	bool truncated;           /* the walk did not reach a root; why is in problem */
	char problem[200];
	gs_ctx_layer layers[GS_CTX_MAX_DEPTH];
	/* Reused across calls (callers walk thousands of contexts with one gs_ctx_info): the
	 * names of the dynamic types seen so far in this DWARF's binary. Zero it once before
	 * the first call. */
	struct {
		const void *dwarf;
		struct { uint64_t type_addr; char name[128]; } names[16];
		size_t nnames;
	} cache;
} gs_ctx_info;

/* Walks the context.Context interface value stored at iface_addr. l: the runtime
 * manifest resolved for d (the context and time.Time fields, RT_CTX_*, RT_TIME_*); bias:
 * PIE load bias (for the context.* globals). -1 only when the value itself is unreadable; a layer that
 * cannot be read ends the walk with truncated set and the message in err. */
int gs_ctx_read(gs_target *t, gs_dwarf *d, const gs_layout *l, gs_types *ty, uint64_t bias,
		uint64_t iface_addr, gs_ctx_info *out, gs_err *err);

/* time.Time {wall, ext} to Unix nanoseconds (monotonic or not). */
int64_t gs_time_unix_ns(uint64_t wall, int64_t ext);

const char *gs_ctx_kind_name(enum gs_ctx_kind k);

#endif
