/* What the analysis of a live process reads, copied while it is paused, so that it can run
 * again before the analysis starts (target/live_image.h). */
#ifndef GS_GORUNTIME_CAPTURE_H
#define GS_GORUNTIME_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

typedef struct gs_capture_stats {
	uint64_t bytes;              /* copied in bulk */
	uint64_t spans, stacks, gs;  /* heap spans, goroutine stacks and g's copied */
} gs_capture_stats;

/* On a paused live target whose image is being kept (gs_target_image_begin), after
 * gs_rt_open_layout: copies the runtime's memory outside the heap arenas, every g and m
 * and, with heap (what the goroutines' waits and the gRPC model read), the live part of
 * every goroutine's stack and every heap span but those holding one large pointer-free
 * buffer (the gRPC objects, channels, sudogs and their strings are in the others).
 * Memory it cannot reach is left out: reading it later is unreadable, as on a damaged core.
 * No-op for other targets. */
/* -1 with err set when out of memory (what was not copied would read as missing). */
int gs_rt_capture(gs_rt *rt, bool heap, gs_capture_stats *st, gs_err *err);
/* Looks up, before the pause, the types the layouts need (DWARF or descriptors): the
 * lookups are cached, so resolving them again while the process is stopped is quick. */
void gs_rt_capture_prepare(gs_dwarf *d);

#endif
