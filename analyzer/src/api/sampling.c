/* Live sampling: `streams|goroutines|why-blocked --pid PID --samples N --interval S`.
 *
 * N snapshots of one running process, each taken in a brief pause and analysed from its
 * copy while the process runs on (goruntime/capture.h), compared as `diff` compares two
 * cores: the first against the last, and every sample against the next, so that what moved
 * in between and came back counts as moved. A stream is `unchanged` (stuck) only when it
 * was unchanged from each sample to the next, a goroutine `parked` only when it stayed on
 * the same objects since the same moment in all of them; why-blocked gives verdicts only
 * to those, and lists the others as progressing.
 */
#include "sampling.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/alloc.h"
#include "../diagnose/diff.h"
#include "../diagnose/verdicts.h"
#include "../report/diff.h"
#include "../report/why_blocked.h"
#include "../util/strbuf.h"
#include "warnings.h"

typedef struct sample {
	gs_session *s;
	gs_grpc *g;
	uint64_t pause_ns, at_ns; /* its pause, and when it was taken (from the first) */
} sample;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	uint64_t n = now_ns();
	if (t <= n)
		return;
	struct timespec d = { (time_t)((t - n) / 1000000000u), (long)((t - n) % 1000000000u) };
	while (nanosleep(&d, &d) != 0 && errno == EINTR)
		;
}

static int fail(char **errmsg, const char *msg, int rc)
{
	*errmsg = gs_msg_dup(msg);
	return rc;
}

/* ---- joining the steps ---- */

/* Entry of d whose `before` index is i, through a map built per step. */
typedef struct step {
	gs_diff d;
	long *stream_at, *g_at; /* [index in the earlier model] -> entry in d, or -1 */
} step;

/* False when out of memory. */
static bool index_step(step *st, size_t nstreams, size_t ngs)
{
	st->stream_at = gs_calloc(nstreams, sizeof *st->stream_at, NULL);
	st->g_at = gs_calloc(ngs, sizeof *st->g_at, NULL);
	if (!st->stream_at || !st->g_at)
		return false;
	for (size_t i = 0; i < nstreams; i++)
		st->stream_at[i] = -1;
	for (size_t i = 0; i < ngs; i++)
		st->g_at[i] = -1;
	for (size_t k = 0; k < st->d.nstreams; k++)
		if (st->d.streams[k].before >= 0 && (size_t)st->d.streams[k].before < nstreams)
			st->stream_at[st->d.streams[k].before] = (long)k;
	for (size_t k = 0; k < st->d.ngoroutines; k++)
		if (st->d.goroutines[k].before >= 0 && (size_t)st->d.goroutines[k].before < ngs)
			st->g_at[st->d.goroutines[k].before] = (long)k;
	return true;
}

/* Follows stream i of the first sample through every step: the first step in which it
 * progressed (what moved), or NULL when it never did. */
static const char *stream_progress(const step *steps, size_t nsteps, long i)
{
	for (size_t k = 0; k < nsteps && i >= 0; k++) {
		long e = steps[k].stream_at[i];
		if (e < 0)
			return NULL;
		const gs_stream_diff *sd = &steps[k].d.streams[e];
		if (sd->change == GS_CH_PROGRESSED)
			return sd->moved;
		i = sd->after;
	}
	return NULL;
}

static bool goroutine_moved(const step *steps, size_t nsteps, long i)
{
	for (size_t k = 0; k < nsteps && i >= 0; k++) {
		long e = steps[k].g_at[i];
		if (e < 0)
			return false;
		const gs_goroutine_diff *gd = &steps[k].d.goroutines[e];
		if (gd->change == GS_CH_MOVED)
			return true;
		i = gd->after;
	}
	return false;
}

/* What stayed the same from first to last but moved in between is moved. */
static void join_steps(gs_diff *all, const step *steps, size_t nsteps)
{
	for (size_t i = 0; i < all->nstreams; i++) {
		gs_stream_diff *sd = &all->streams[i];
		const char *m;
		if (sd->change == GS_CH_UNCHANGED && (m = stream_progress(steps, nsteps, sd->before))) {
			sd->change = GS_CH_PROGRESSED;
			sd->moved = m;
		}
	}
	for (size_t i = 0; i < all->ngoroutines; i++) {
		gs_goroutine_diff *gd = &all->goroutines[i];
		if (gd->change == GS_CH_PARKED && goroutine_moved(steps, nsteps, gd->before))
			gd->change = GS_CH_MOVED;
	}
}

/* ---- output ---- */

static void samples_json(const sample *sm, size_t n, gs_strbuf *out)
{
	gs_strbuf_puts(out, ",\"samples\":[");
	for (size_t i = 0; i < n; i++)
		gs_strbuf_printf(out, "%s{\"at_s\":%.3f,\"pause_ms\":%.3f}", i ? "," : "",
				 sm[i].at_ns / 1e9, sm[i].pause_ns / 1e6);
	gs_strbuf_putc(out, ']');
}

static void samples_text(const sample *sm, size_t n, gs_strbuf *out)
{
	for (size_t i = 0; i < n; i++)
		gs_strbuf_printf(out, "sample %zu at %.3f s: paused %.3f ms\n", i + 1,
				 sm[i].at_ns / 1e9, sm[i].pause_ns / 1e6);
	gs_strbuf_putc(out, '\n');
}

/* A JSON object rendered into tmp goes to out with its "command" renamed and extra keys
 * (what extra appends, starting with a comma) before its closing brace. */
static void splice_json(const gs_strbuf *tmp, const char *from_cmd, const char *cmd,
			void (*extra)(void *, gs_strbuf *), void *ctx, gs_strbuf *out)
{
	const char *p = tmp->buf ? tmp->buf : "";
	size_t len = tmp->len;
	while (len && (p[len - 1] == '\n' || p[len - 1] == ' '))
		len--;
	if (len && p[len - 1] == '}')
		len--;
	char key[64];
	snprintf(key, sizeof key, "\"command\":\"%s\"", from_cmd);
	const char *at = strstr(p, key);
	if (at && (size_t)(at - p) < len) {
		gs_strbuf_put(out, p, (size_t)(at - p));
		gs_strbuf_printf(out, "\"command\":\"%s\"", cmd);
		size_t skip = (size_t)(at - p) + strlen(key);
		gs_strbuf_put(out, p + skip, len - skip);
	} else {
		gs_strbuf_put(out, p, len);
	}
	extra(ctx, out);
	gs_strbuf_puts(out, "}\n");
}

typedef struct extra_ctx {
	const sample *sm;
	size_t n;
	const uint64_t *progressing;
	size_t nprog;
	bool with_progressing;
} extra_ctx;

static void put_extra(void *arg, gs_strbuf *out)
{
	const extra_ctx *x = arg;
	samples_json(x->sm, x->n, out);
	if (!x->with_progressing)
		return;
	gs_strbuf_puts(out, ",\"progressing\":[");
	for (size_t i = 0; i < x->nprog; i++)
		gs_strbuf_printf(out, "%s%llu", i ? "," : "", (unsigned long long)x->progressing[i]);
	gs_strbuf_putc(out, ']');
}

static enum gs_change goroutine_change(const gs_diff *d, uint64_t goid, bool *found)
{
	for (size_t i = 0; i < d->ngoroutines; i++)
		if (d->goroutines[i].goid == goid) {
			*found = true;
			return d->goroutines[i].change;
		}
	*found = false;
	return GS_CH_NEW;
}

/* Verdicts of the last sample for the goroutines that stayed parked in all. */
static int render_why_blocked(sample *sm, size_t n, const gs_diff *all, const uint64_t *ids,
			      size_t nids, enum gs_format fmt, gs_strbuf *out, char **errmsg)
{
	sample *last = &sm[n - 1];
	gs_diagnosis dg, pdg;
	gs_err e = { 0 };
	if (gs_diagnose_pair(last->s->rt, last->g, NULL, NULL, ids, nids, &dg, &pdg, &e) < 0)
		return fail(errmsg, e.msg, e.code == GS_EINPUT ? 2 : 1);
	uint64_t *stay = gs_calloc(dg.n, sizeof *stay, NULL);
	uint64_t *prog = gs_calloc(dg.n, sizeof *prog, NULL);
	if (!stay || !prog) {
		free(stay);
		free(prog);
		gs_diagnosis_free(&dg);
		return fail(errmsg, "out of memory", 1);
	}
	size_t nstay = 0, nprog = 0;
	for (size_t i = 0; i < dg.n; i++) {
		bool found;
		enum gs_change c = goroutine_change(all, dg.v[i].goid, &found);
		if (found && c == GS_CH_PARKED)
			stay[nstay++] = dg.v[i].goid;
		else
			prog[nprog++] = dg.v[i].goid;
	}
	gs_diagnosis_free(&dg);
	gs_diagnosis kept = { 0 };
	if (nstay && gs_diagnose_pair(last->s->rt, last->g, NULL, NULL, stay, nstay, &kept, &pdg,
				      &e) < 0) {
		free(stay);
		free(prog);
		return fail(errmsg, e.msg, e.code == GS_EINPUT ? 2 : 1);
	}
	/* A chain step that moved is no end of a stuck chain: say so where it is named. */
	for (size_t i = 0; i < kept.n; i++) {
		bool found;
		enum gs_change c = goroutine_change(all, kept.v[i].goid, &found);
		kept.v[i].progressing = kept.v[i].reached && !(found && c == GS_CH_PARKED);
	}
	gs_strbuf tmp;
	gs_strbuf_init(&tmp);
	gs_report_why_blocked(last->s->rt, last->g, &kept, fmt, &tmp);
	extra_ctx x = { sm, n, prog, nprog, true };
	if (fmt == GS_FMT_JSON) {
		splice_json(&tmp, "why-blocked", "why-blocked", put_extra, &x, out);
	} else if (fmt == GS_FMT_DOT) {
		gs_strbuf_put(out, tmp.buf ? tmp.buf : "", tmp.len);
	} else {
		samples_text(sm, n, out);
		if (nstay)
			gs_strbuf_put(out, tmp.buf ? tmp.buf : "", tmp.len);
		else
			gs_strbuf_puts(out, "no goroutine stayed blocked across all samples\n");
		if (nprog) {
			gs_strbuf_printf(out, "\nprogressing (moved between samples, so no verdict): "
					      "%zu goroutine%s:", nprog, nprog == 1 ? "" : "s");
			for (size_t i = 0; i < nprog; i++)
				gs_strbuf_printf(out, " %llu", (unsigned long long)prog[i]);
			gs_strbuf_putc(out, '\n');
		}
	}
	gs_strbuf_free(&tmp);
	if (nstay)
		gs_diagnosis_free(&kept);
	free(stay);
	free(prog);
	return 0;
}

static void render_diff(sample *sm, size_t n, const gs_diff *all, const char *cmd, bool json,
			gs_strbuf *out)
{
	sample *a = &sm[0], *b = &sm[n - 1];
	gs_strbuf tmp;
	gs_strbuf_init(&tmp);
	gs_report_diff(a->s->rt, a->g, b->s->rt, b->g, all, json, &tmp);
	if (json) {
		extra_ctx x = { sm, n, NULL, 0, false };
		splice_json(&tmp, "diff", cmd, put_extra, &x, out);
	} else {
		samples_text(sm, n, out);
		gs_strbuf_put(out, tmp.buf ? tmp.buf : "", tmp.len);
	}
	gs_strbuf_free(&tmp);
}

/* ---- taking the samples ---- */

static gs_grpc *model(gs_session *s, bool why, gs_err *e)
{
	gs_session_grpc_begin(s);
	if (why)
		gs_diagnose_prepare(s->rt);
	return gs_session_grpc_linked(s, e);
}

/* The later samples' damage is the answer's too. */
static void sample_warning(void *ctx, const char *msg)
{
	char m[1200];
	snprintf(m, sizeof m, "later sample: %s", msg);
	gs_session_warn(ctx, m);
}

static void close_samples(sample *sm, size_t n)
{
	for (size_t i = 1; i < n; i++)
		gs_close(sm[i].s);
	free(sm);
}

int gs_cmd_sampled(gs_session *s, const gs_cmdline *cl, const sampling_req *rq, gs_strbuf *out,
		   char **errmsg)
{
	const gs_item *ns = gs_cmdline_get(cl, "--samples"), *iv = gs_cmdline_get(cl, "--interval");
	if (!ns)
		return fail(errmsg, "--interval goes with --samples N", 2);
	size_t n = (size_t)strtoul(ns->v1, NULL, 10);
	double interval = iv ? strtod(iv->v1, NULL) : 1.0;
	if (!s)
		return 0;
	if (gs_target_kind(s->target) != GS_TARGET_LIVE || s->opened.pid <= 0)
		return fail(errmsg, "--samples takes snapshots of a running process: give --pid PID", 2);
	uint64_t t0 = now_ns();
	sample *sm = gs_calloc(n, sizeof *sm, NULL);
	if (!sm)
		return fail(errmsg, "out of memory", 1);
	bool why = strcmp(rq->cmd, "why-blocked") == 0;
	gs_err e = { 0 };
	sm[0].s = s;
	sm[0].pause_ns = gs_target_pause_ns(s->target);
	if (!(sm[0].g = model(s, why && n == 1, &e))) {
		close_samples(sm, 1);
		return fail(errmsg, e.msg, 1);
	}
	gs_open_options lo = s->opened;
	lo.want_grpc = 1;
	for (size_t i = 1; i < n; i++) {
		sleep_until(t0 + (uint64_t)(interval * 1e9 * (double)i));
		char msg[1024];
		int st;
		sm[i].at_ns = now_ns() - t0;
		gs_session *si = gs_open(&lo, &st, msg, sizeof msg);
		if (!si) {
			close_samples(sm, i);
			char m[1200];
			snprintf(m, sizeof m, "sample %zu: %s", i + 1, msg);
			return fail(errmsg, m, st);
		}
		sm[i].s = si;
		sm[i].pause_ns = gs_target_pause_ns(si->target);
		if (!(sm[i].g = model(si, why && i == n - 1, &e))) {
			close_samples(sm, i + 1);
			return fail(errmsg, e.msg, 1);
		}
		gs_session_warnings(si, sample_warning, s);
	}
	gs_diff all;
	if (gs_diff_models(sm[0].s->rt, sm[0].g, sm[n - 1].s->rt, sm[n - 1].g, &all, &e) < 0) {
		close_samples(sm, n);
		return fail(errmsg, e.msg, e.code == GS_EINPUT ? 2 : 1);
	}
	step *steps = gs_calloc(n - 1, sizeof *steps, &e);
	size_t nsteps = 0;
	bool short_of = !steps;
	for (size_t i = 1; steps && i < n && n > 2; i++, nsteps++) {
		if (gs_diff_models(sm[i - 1].s->rt, sm[i - 1].g, sm[i].s->rt, sm[i].g,
				   &steps[nsteps].d, &e) < 0)
			break;
		if (!index_step(&steps[nsteps], gs_grpc_nstreams(sm[i - 1].g),
				gs_rt_ngoroutines(sm[i - 1].s->rt))) {
			gs_err_nomem(&e, gs_rt_ngoroutines(sm[i - 1].s->rt) * sizeof(long));
			short_of = true;
			nsteps++; /* freed below */
			break;
		}
	}
	int rc = 0;
	if (short_of || (n > 2 && nsteps < n - 1)) {
		rc = fail(errmsg, e.msg, e.code == GS_EINPUT ? 2 : 1);
	} else {
		join_steps(&all, steps, nsteps);
		if (why)
			rc = render_why_blocked(sm, n, &all, rq->ids, rq->nids, rq->fmt, out, errmsg);
		else
			render_diff(sm, n, &all, rq->cmd, rq->fmt == GS_FMT_JSON, out);
	}
	for (size_t i = 0; i < nsteps; i++) {
		gs_diff_free(&steps[i].d);
		free(steps[i].stream_at);
		free(steps[i].g_at);
	}
	free(steps);
	gs_diff_free(&all);
	close_samples(sm, n);
	return rc;
}
