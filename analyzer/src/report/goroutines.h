/* Rendering the goroutine list (text, JSON). Analysis stays in goruntime; names of the
 * gRPC objects that own a wait object come through an owner callback. */
#ifndef GS_REPORT_GOROUTINES_H
#define GS_REPORT_GOROUTINES_H

#include <stdbool.h>

#include "../goruntime/model.h"
#include "../util/phases.h"
#include "../util/strbuf.h"

/* Appends the owner of the object at addr (e.g. "client stream 3 recv buffer") to out;
 * returns false, appending nothing, when no gRPC object owns it. */
typedef bool (*gs_owner_fn)(void *ctx, uint64_t addr, gs_strbuf *out);

typedef struct gs_goroutines_opts {
	bool json, stacks, group;
	const char *status; /* only goroutines in this status, or NULL */
	const char *reason; /* only goroutines whose wait reason contains this, or NULL */
	const uint64_t *ids; /* only these goroutines, or NULL */
	size_t nids;
	const char *const *labels; /* only goroutines with these pprof labels ("K" or "K=V") */
	size_t nlabels;
	const char *group_label;   /* --group label:KEY: grouped by that label's value */
	gs_owner_fn owner;
	void *owner_ctx;
	/* Optional: starts loading what owner(addr) will read (a hint, no result). */
	void (*owner_prefetch)(void *ctx, uint64_t addr);
	gs_phases *phases; /* optional: marks "unwind" and "waits" */
} gs_goroutines_opts;

/* Has the model compute what the report will show of each selected goroutine that needs no
 * gRPC model: top frames (and for JSON creators and start functions) here, waits on a
 * worker (gs_rt_waits_start) while the caller builds the model. gs_rt_waits_join the result
 * before gs_report_goroutines, which then only renders. */
gs_rt_waits_job *gs_report_goroutines_prepare(gs_rt *rt, const gs_goroutines_opts *o);
void gs_report_goroutines(gs_rt *rt, const gs_goroutines_opts *o, gs_strbuf *out);

/* "chan", "select", "semaphore", "netpoll", "sleep", ... */
const char *gs_wait_kind_name(enum gs_wait_kind k);
/* One-line description of a wait object ("receive on chan 0xc000123000"). */
void gs_describe_wait(const gs_waitobj *w, gs_strbuf *out);

#endif
