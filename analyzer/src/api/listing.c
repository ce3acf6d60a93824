#include "listing.h"

#include <stdlib.h>

#include "../util/executor.h"

/* Below this many goroutines a second thread costs more than it saves. */
#define SPLIT_MIN 512

gs_rt_waits_job *gs_listing_prepare(gs_rt *rt, const gs_goroutines_opts *o)
{
	size_t total = gs_rt_ngoroutines(rt);
	bool *which = gs_xcalloc(total ? total : 1, sizeof *which);
	for (size_t i = 0; i < total; i++)
		which[i] = gs_goroutines_selected(rt, gs_rt_goroutine(rt, i), o);
	/* Top frames only: full stacks are unwound as they are printed, and let go after. JSON
	 * names every goroutine's creator and start function: looked up here too. */
	gs_rt_prepare(rt, which, o->json ? GS_PREP_ORIGINS : GS_PREP_TOP);
	gs_phases_mark(o->phases, "unwind");
	gs_rt_waits_job *j = gs_rt_waits_start(rt, which);
	free(which);
	return j;
}

typedef struct second_half {
	gs_rt *rt;
	const gs_goroutines_opts *o;
	gs_goroutines_rest rest;
} second_half;

static void render_second(void *arg)
{
	second_half *h = arg;
	h->rest.shown = gs_report_goroutine_lines(h->rt, h->o, h->rest.from, gs_rt_ngoroutines(h->rt),
						  true, &h->rest.text);
}

static void join(void *job) { gs_exec_join(job); }

/* The job only reads the model (see ARCHITECTURE.md, Threads), so it runs on any target;
 * refused, the caller renders it all. */
void gs_listing_render(gs_rt *rt, const gs_goroutines_opts *o, gs_strbuf *out)
{
	size_t total = gs_rt_ngoroutines(rt);
	if (o->rest || total < SPLIT_MIN || !gs_report_goroutines_splittable(rt, o)) {
		gs_report_goroutines(rt, o, out);
		return;
	}
	second_half h = {rt, o, {total / 2, 0, {0}, join, NULL}};
	gs_strbuf_init(&h.rest.text);
	gs_job job;
	if (!gs_exec_submit(gs_rt_exec(rt), &job, render_second, &h)) {
		gs_strbuf_free(&h.rest.text);
		gs_report_goroutines(rt, o, out);
		return;
	}
	h.rest.ready_ctx = &job;
	gs_goroutines_opts with_rest = *o;
	with_rest.rest = &h.rest;
	gs_report_goroutines(rt, &with_rest, out); /* joins the job after the first half */
	gs_strbuf_free(&h.rest.text);
}
