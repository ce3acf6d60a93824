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

/* The lines of a plain listing rendered elsewhere (api/ renders them in parts with
 * gs_report_goroutine_lines, on more than one thread): lines(ctx, out) appends the selected
 * goroutines' lines (JSON items comma-separated, no leading comma) to out, which may
 * stream, and returns how many it rendered. */
typedef struct gs_goroutines_parts {
	size_t (*lines)(void *ctx, gs_strbuf *out);
	void *ctx;
} gs_goroutines_parts;

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
	const gs_goroutines_parts *parts; /* optional: see gs_goroutines_parts */
} gs_goroutines_opts;

/* Whether the listing's filters (status, reason, ids) let g through. */
bool gs_goroutines_selected(gs_rt *rt, gs_goroutine *g, const gs_goroutines_opts *o);
/* Whether the listing can be rendered in parts: a plain one (no stacks, no groups) whose
 * selected goroutines have everything it shows computed (top frames, waits, origins). */
bool gs_report_goroutines_splittable(gs_rt *rt, const gs_goroutines_opts *o);
/* Renders the selected goroutines of [from, to) of a splittable listing into out (text
 * lines, or JSON items each after a comma but the first unless lead_comma); reads the model
 * only, so parts may be rendered on different threads. Returns how many were rendered. */
size_t gs_report_goroutine_lines(gs_rt *rt, const gs_goroutines_opts *o, size_t from, size_t to,
				 bool lead_comma, gs_strbuf *out);
/* Renders the listing; computes nothing (see gs_rt_prepare, gs_rt_waits_start). */
void gs_report_goroutines(gs_rt *rt, const gs_goroutines_opts *o, gs_strbuf *out);

/* "chan", "select", "semaphore", "netpoll", "sleep", ... */
const char *gs_wait_kind_name(enum gs_wait_kind k);
/* One-line description of a wait object ("receive on chan 0xc000123000"). */
void gs_describe_wait(const gs_waitobj *w, gs_strbuf *out);

#endif
