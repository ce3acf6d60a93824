/* The goroutine listing's work around its rendering: what the model computes before
 * (top frames, origins, waits) and, for a long plain listing, rendering it in slices of
 * 2048 goroutines, every other one on an executor job while the caller renders the one
 * before. report/ only renders. */
#ifndef GS_API_LISTING_H
#define GS_API_LISTING_H

#include "../report/goroutines.h"

/* Has the model compute what the listing shows of each selected goroutine that needs no
 * gRPC model: top frames (and for JSON creators and start functions) at once, waits on a
 * job (gs_rt_waits_start) while the caller builds the gRPC model. gs_rt_waits_join the
 * result before gs_listing_render. */
gs_rt_waits_job *gs_listing_prepare(gs_rt *rt, const gs_goroutines_opts *o);

/* gs_report_goroutines, with every other slice of a long plain listing rendered on a job. */
void gs_listing_render(gs_rt *rt, const gs_goroutines_opts *o, gs_strbuf *out);

#endif
