/* Which goroutines get a verdict: the ones asked for (or every goroutine blocked in or on
 * gRPC), then every goroutine their chains blame, once each — in this snapshot and, with a
 * peer snapshot, across the connections the two share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/strbuf.h"
#include "../util/strpool.h"
#include "../util/u64set.h"
#include "diag_internal.h"
#include "groups.h"

#define MAX_VERDICTS 100000

static int cmp_handler(const void *a, const void *b)
{
	const struct gs_handler_ix *x = a, *y = b;
	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

long gs_handled_stream(gs_diag *d, uint64_t goid)
{
	struct gs_handler_ix key = {goid, 0};
	struct gs_handler_ix *hit = d->nhandlers ? bsearch(&key, d->handlers, d->nhandlers, sizeof key, cmp_handler) : NULL;
	return hit ? hit->stream : -1;
}

/* One snapshot's share of the work. */
typedef struct run {
	gs_diag d;
	uint64_t *todo;
	size_t len, cap, next, asked;
	gs_u64set seen; /* goroutine ids already judged */
	gs_diagnosis *out;
	size_t vcap;
} run;

static void push(run *r, uint64_t goid)
{
	if (r->len == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->todo = gs_xrealloc(r->todo, r->cap * sizeof *r->todo);
	}
	r->todo[r->len++] = goid;
}

static void run_init(run *r, gs_rt *rt, gs_grpc *g, gs_diagnosis *out)
{
	memset(r, 0, sizeof *r);
	memset(out, 0, sizeof *out);
	size_t ns = gs_grpc_nstreams(g), n1 = ns ? ns : 1;
	r->d.rt = rt;
	r->d.g = g;
	r->d.peer = gs_xcalloc(n1, sizeof(long));
	r->d.holders = gs_xcalloc(n1, sizeof(uint64_t *));
	r->d.nholders = gs_xcalloc(n1, sizeof(size_t));
	r->d.holders_done = gs_xcalloc(n1, sizeof(bool));
	r->d.rpeer = gs_xcalloc(n1, sizeof(long));
	r->d.rsnap = gs_xcalloc(n1, sizeof(int32_t));
	for (size_t i = 0; i < ns; i++) {
		r->d.rpeer[i] = -1;
		r->d.rsnap[i] = -1;
	}
	r->d.how = gs_xcalloc(n1, 1);
	r->d.rhow = gs_xcalloc(n1, 1);
	r->d.nalike = gs_xcalloc(n1, sizeof(uint16_t));
	r->d.rnalike = gs_xcalloc(n1, sizeof(uint16_t));
	r->d.handlers = gs_xcalloc(n1, sizeof *r->d.handlers);
	for (size_t i = 0; i < ns; i++)
		if (gs_grpc_stream(g, i)->handler)
			r->d.handlers[r->d.nhandlers++] =
				(struct gs_handler_ix){gs_grpc_stream(g, i)->handler, (long)i};
	if (r->d.nhandlers)
		qsort(r->d.handlers, r->d.nhandlers, sizeof *r->d.handlers, cmp_handler);
	gs_pair_streams(&r->d);
	r->out = out;
}

static void run_free(run *r)
{
	size_t ns = gs_grpc_nstreams(r->d.g);
	r->out->peer = r->d.peer;
	r->out->rpeer = r->d.rpeer;
	r->out->rsnap = r->d.rsnap;
	for (size_t k = 0; k < ns; k++)
		free(r->d.holders[k]);
	free(r->d.holders);
	free(r->d.nholders);
	free(r->d.holders_done);
	free(r->d.handlers);
	free(r->d.how);
	free(r->d.rhow);
	free(r->d.nalike);
	free(r->d.rnalike);
	free(r->d.parked);
	free(r->d.fn_memo);
	free(r->todo);
	gs_u64set_free(&r->seen);
}

static void seed_default(run *r)
{
	for (size_t i = 0; i < gs_rt_ngoroutines(r->d.rt); i++) {
		gs_goroutine *gr = gs_rt_goroutine(r->d.rt, i);
		if (gs_is_grpc_blocked(&r->d, gr) || gr->status == GS_G_LEAKED)
			push(r, gr->goid);
	}
}

/* Tens of thousands of verdicts repeat the same few summaries and evidence lines ("no
 * deadline on the call", the same window, the same transport): one copy each, kept by the
 * diagnosis. */
static void intern_evidence(gs_diagnosis *dg, gs_verdict *v)
{
	if (!v->summary_pooled) {
		const char *p = gs_strpool_intern(&dg->evidence_pool, v->summary ? v->summary : "");
		free(v->summary);
		v->summary = (char *)p;
		v->summary_pooled = true;
	}
	for (size_t k = v->npooled; k < v->nevidence; k++) {
		const char *p = gs_strpool_intern(&dg->evidence_pool, v->evidence[k]);
		free(v->evidence[k]);
		v->evidence[k] = (char *)p;
	}
	v->npooled = v->nevidence;
}

/* Judges what is queued; chains into other snapshots are queued there (runs: the whole
 * set, indexed like the diagnosis states). */
static bool step(run *r, run *runs)
{
	bool did = false;
	while (r->next < r->len && r->out->n < MAX_VERDICTS) {
		size_t i = r->next++;
		if (!gs_u64set_add(&r->seen, r->todo[i]))
			continue;
		gs_goroutine *gr = gs_rt_find_goroutine(r->d.rt, r->todo[i]);
		if (!gr)
			continue;
		if (r->out->n == r->vcap) {
			r->vcap = r->vcap ? r->vcap * 2 : 16;
			r->out->v = gs_xrealloc(r->out->v, r->vcap * sizeof *r->out->v);
		}
		gs_verdict *v = &r->out->v[r->out->n++];
		gs_judge(&r->d, gr, v, i >= r->asked);
		intern_evidence(r->out, v);
		for (size_t k = 0; k < v->nchain; k++)
			push(r, v->chain[k]);
		for (size_t k = 0; runs && k < v->npeer_chain; k++)
			push(&runs[v->peer_snap[k]], v->peer_chain[k]);
		did = true;
	}
	return did;
}

void gs_diagnose_prepare(gs_rt *rt)
{
	gs_rt_prepare(rt, NULL, GS_PREP_FULL);
	for (size_t i = 0; i < gs_rt_ngoroutines(rt); i++) {
		size_t n;
		gs_rt_waits(rt, gs_rt_goroutine(rt, i), &n);
	}
}

static void free_verdict(gs_verdict *v)
{
	for (size_t k = v->npooled; k < v->nevidence; k++)
		free(v->evidence[k]);
	if (!v->summary_pooled)
		free(v->summary);
	free(v->evidence);
	free(v->chain);
	free(v->co);
	free(v->peer_chain);
	free(v->peer_snap);
	free(v->across);
}

/* The grouped text prints the words of each group's first member only: those are judged
 * again, in full (the rules read the same models and lazy indexes, so the code, stream and
 * chain come out as before). */
static void group_and_speak(run *r)
{
	gs_vgroups *gr = gs_xcalloc(1, sizeof *gr);
	gs_group_verdicts(r->d.rt, r->d.g, r->out, gr);
	r->out->groups = gr;
	r->d.brief = false;
	for (size_t j = 0; j < gr->n; j++) {
		gs_verdict *v = &r->out->v[gr->g[j].members[0]];
		gs_goroutine *g = gs_rt_find_goroutine(r->d.rt, v->goid);
		gs_verdict full;
		gs_judge(&r->d, g, &full, v->reached);
		intern_evidence(r->out, &full);
		free_verdict(v);
		*v = full;
	}
}

static int diagnose_set(gs_rt *const *rt, gs_grpc *const *g, size_t n, const uint64_t *goids,
			size_t ngoids, gs_diagnosis *out, bool brief, gs_err *err)
{
	for (size_t i = 0; i < ngoids; i++)
		if (!gs_rt_find_goroutine(rt[0], goids[i]))
			return gs_errf(err, GS_EINPUT, "why-blocked: no goroutine %llu",
				       (unsigned long long)goids[i]);
	run *runs = gs_xcalloc(n, sizeof *runs);
	gs_diag *set = NULL;
	for (size_t i = 0; i < n; i++)
		run_init(&runs[i], rt[i], g[i], &out[i]);
	if (n > 1) {
		/* The states are copied into one array that every state points into. */
		set = gs_xcalloc(n, sizeof *set);
		for (size_t i = 0; i < n; i++) {
			runs[i].d.set = set;
			runs[i].d.nset = n;
			runs[i].d.self = i;
		}
		for (size_t i = 0; i < n; i++)
			set[i] = runs[i].d;
		gs_pair_set(set, n);
	}
	for (size_t i = 0; i < ngoids; i++)
		push(&runs[0], goids[i]);
	for (size_t i = 0; !ngoids && i < n; i++)
		seed_default(&runs[i]);
	for (size_t i = 0; i < n; i++) {
		runs[i].asked = runs[i].len;
		runs[i].d.brief = brief;
		if (set)
			set[i].brief = brief;
	}
	/* A run steps on its state as the set holds it (where the other runs' rules find it and
	 * may build its lazy indexes), and puts it back. */
	for (bool did = true; did;) {
		did = false;
		for (size_t i = 0; i < n; i++) {
			if (set)
				runs[i].d = set[i];
			did |= step(&runs[i], n > 1 ? runs : NULL);
			if (set)
				set[i] = runs[i].d;
		}
	}
	for (size_t i = 0; set && i < n; i++)
		runs[i].d = set[i];
	for (size_t i = 0; i < n; i++)
		gs_hang_findings(&runs[i].d, &out[i]);
	for (size_t i = 0; brief && i < n; i++)
		group_and_speak(&runs[i]);
	for (size_t i = 0; i < n; i++)
		run_free(&runs[i]);
	if (n > 1)
		gs_chains_across(out, n);
	free(set);
	free(runs);
	return 0;
}

int gs_diagnose_set(gs_rt *const *rt, gs_grpc *const *g, size_t n, const uint64_t *goids,
		    size_t ngoids, gs_diagnosis *out, gs_err *err)
{
	return diagnose_set(rt, g, n, goids, ngoids, out, false, err);
}

int gs_diagnose_set_grouped(gs_rt *const *rt, gs_grpc *const *g, size_t n,
			    const uint64_t *goids, size_t ngoids, gs_diagnosis *out, gs_err *err)
{
	return diagnose_set(rt, g, n, goids, ngoids, out, true, err);
}

int gs_diagnose_pair(gs_rt *rt, gs_grpc *g, gs_rt *prt, gs_grpc *pg, const uint64_t *goids,
		     size_t n, gs_diagnosis *out, gs_diagnosis *peer_out, gs_err *err)
{
	gs_rt *rts[2] = {rt, prt};
	gs_grpc *gs[2] = {g, pg};
	if (!prt)
		return gs_diagnose_set(rts, gs, 1, goids, n, out, err);
	gs_diagnosis both[2];
	int rc = gs_diagnose_set(rts, gs, 2, goids, n, both, err);
	if (rc == 0) {
		*out = both[0];
		*peer_out = both[1];
	}
	return rc;
}

int gs_diagnose(gs_rt *rt, gs_grpc *g, const uint64_t *goids, size_t n, gs_diagnosis *out,
		gs_err *err)
{
	return gs_diagnose_pair(rt, g, NULL, NULL, goids, n, out, NULL, err);
}

void gs_diagnosis_free(gs_diagnosis *dg)
{
	for (size_t i = 0; i < dg->n; i++)
		free_verdict(&dg->v[i]);
	free(dg->v);
	if (dg->groups)
		gs_vgroups_free(dg->groups);
	free(dg->groups);
	for (size_t i = 0; i < dg->nfindings; i++) {
		for (size_t k = dg->findings[i].npooled; k < dg->findings[i].nevidence; k++)
			free(dg->findings[i].evidence[k]);
		if (!dg->findings[i].summary_pooled)
			free(dg->findings[i].summary);
		free(dg->findings[i].evidence);
		free(dg->findings[i].chain);
	}
	free(dg->findings);
	free(dg->peer);
	free(dg->rpeer);
	free(dg->rsnap);
	gs_strpool_free(&dg->evidence_pool);
	memset(dg, 0, sizeof *dg);
}
