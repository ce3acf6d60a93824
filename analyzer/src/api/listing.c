#include "listing.h"

#include <stdlib.h>

#include "../util/executor.h"

/* Below this many goroutines a second thread costs more than it saves. */
#define SPLIT_MIN 512

gs_rt_waits_job *gs_listing_prepare(gs_rt *rt, const gs_goroutines_opts *o)
{
	size_t total = gs_rt_ngoroutines(rt);
	bool *which = calloc(total ? total : 1, sizeof *which); /* NULL: all, the same output */
	for (size_t i = 0; which && i < total; i++)
		which[i] = gs_goroutines_selected(rt, gs_rt_goroutine(rt, i), o);
	/* Top frames only: full stacks are unwound as they are printed, and let go after. JSON
	 * names every goroutine's creator and start function: looked up here too. */
	gs_rt_prepare(rt, which, o->json ? GS_PREP_ORIGINS : GS_PREP_TOP);
	gs_phases_mark(o->phases, "unwind");
	gs_rt_waits_job *j = gs_rt_waits_start(rt, which);
	free(which);
	return j;
}

/* Slices of the listing, in pairs: the caller renders one into the output (which may
 * stream) while a job renders the next into a buffer of its own, which follows it out.
 * Slices, not halves: the job's buffer holds one slice (megabytes), not half of a listing
 * that runs to 100 MB as JSON. */
#define SLICE 2048

typedef struct slices {
	gs_rt *rt;
	const gs_goroutines_opts *o; /* without parts: what the slices render */
	size_t from, to, shown;      /* the job's slice, and how many it rendered */
	gs_strbuf text;              /* the job's lines */
} slices;

static void render_slice(void *arg)
{
	slices *s = arg;
	s->shown = gs_report_goroutine_lines(s->rt, s->o, s->from, s->to, true, &s->text);
}

/* gs_goroutines_parts.lines: every selected line, slice by slice. */
static size_t render_lines(void *ctx, gs_strbuf *out)
{
	slices *s = ctx;
	size_t total = gs_rt_ngoroutines(s->rt), shown = 0;
	/* A shorter listing is cut in two halves, so that both threads get work. */
	size_t slice = total < 2 * SLICE ? (total + 1) / 2 : SLICE;
	for (size_t at = 0; at < total; at += 2 * slice) {
		s->from = at + slice < total ? at + slice : total;
		s->to = at + 2 * slice < total ? at + 2 * slice : total;
		s->shown = 0;
		s->text.len = 0;
		gs_job job;
		bool threaded = s->from < s->to && gs_exec_submit(gs_rt_exec(s->rt), &job, render_slice, s);
		shown += gs_report_goroutine_lines(s->rt, s->o, at, s->from, shown > 0, out);
		if (threaded)
			gs_exec_join(&job);
		else if (s->from < s->to)
			render_slice(s);
		if (gs_strbuf_failed(&s->text)) { /* the job ran out of memory: no listing */
			gs_strbuf_fail(out);
			return shown;
		}
		/* The job's first JSON item came with a comma: not wanted if it is the first. */
		const char *p = s->text.buf;
		size_t n = s->text.len;
		if (s->o->json && shown == 0 && n) {
			p++;
			n--;
		}
		if (n && out->sink) { /* streamed: no copy into out */
			gs_strbuf_flush(out);
			out->sink(out->sink_ctx, p, n);
		} else if (n) {
			gs_strbuf_put(out, p, n);
		}
		shown += s->shown;
	}
	return shown;
}

/* The job only reads the model (see ARCHITECTURE.md, Threads), so it runs on any target;
 * a refused job's slice is rendered by the caller. */
void gs_listing_render(gs_rt *rt, const gs_goroutines_opts *o, gs_strbuf *out)
{
	size_t total = gs_rt_ngoroutines(rt);
	if (o->parts || total < SPLIT_MIN || !gs_report_goroutines_splittable(rt, o)) {
		gs_report_goroutines(rt, o, out);
		return;
	}
	slices s = {rt, o, 0, 0, 0, {0}};
	gs_strbuf_init(&s.text);
	gs_goroutines_parts parts = {render_lines, &s};
	gs_goroutines_opts with_parts = *o;
	with_parts.parts = &parts;
	gs_report_goroutines(rt, &with_parts, out);
	gs_strbuf_free(&s.text);
}
