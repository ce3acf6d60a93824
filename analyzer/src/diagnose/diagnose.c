/* Which goroutines get a verdict: the ones asked for (or every goroutine blocked in or on
 * gRPC), then every goroutine their chains blame, once each — in this snapshot and, with a
 * peer snapshot, across the connections the two share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
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
		uint64_t *v = gs_reallocarray(r->todo, r->cap ? r->cap * 2 : 64, sizeof *v, NULL);
		if (!v) {
			r->d.nomem = true;
			return;
		}
		r->todo = v;
		r->cap = r->cap ? r->cap * 2 : 64;
	}
	r->todo[r->len++] = goid;
}

/* False when out of memory (run_free still frees what was made). */
static bool run_init(run *r, gs_rt *rt, gs_grpc *g, gs_diagnosis *out)
{
	memset(r, 0, sizeof *r);
	memset(out, 0, sizeof *out);
	r->out = out;
	size_t ns = gs_grpc_nstreams(g), n1 = ns ? ns : 1;
	r->d.rt = rt;
	r->d.g = g;
	r->d.peer = gs_calloc(n1, sizeof(long), NULL);
	r->d.holders = gs_calloc(n1, sizeof(uint64_t *), NULL);
	r->d.nholders = gs_calloc(n1, sizeof(size_t), NULL);
	r->d.holders_done = gs_calloc(n1, sizeof(bool), NULL);
	r->d.rpeer = gs_calloc(n1, sizeof(long), NULL);
	r->d.rsnap = gs_calloc(n1, sizeof(int32_t), NULL);
	r->d.how = gs_calloc(n1, 1, NULL);
	r->d.rhow = gs_calloc(n1, 1, NULL);
	r->d.nalike = gs_calloc(n1, sizeof(uint16_t), NULL);
	r->d.rnalike = gs_calloc(n1, sizeof(uint16_t), NULL);
	r->d.handlers = gs_calloc(n1, sizeof *r->d.handlers, NULL);
	if (!r->d.peer || !r->d.holders || !r->d.nholders || !r->d.holders_done || !r->d.rpeer ||
	    !r->d.rsnap || !r->d.how || !r->d.rhow || !r->d.nalike || !r->d.rnalike ||
	    !r->d.handlers) {
		r->d.nomem = true;
		return false;
	}
	for (size_t i = 0; i < ns; i++) {
		r->d.rpeer[i] = -1;
		r->d.rsnap[i] = -1;
	}
	for (size_t i = 0; i < ns; i++)
		if (gs_grpc_stream(g, i)->handler)
			r->d.handlers[r->d.nhandlers++] =
				(struct gs_handler_ix){gs_grpc_stream(g, i)->handler, (long)i};
	if (r->d.nhandlers)
		qsort(r->d.handlers, r->d.nhandlers, sizeof *r->d.handlers, cmp_handler);
	gs_pair_streams(&r->d);
	return true;
}

static void run_free(run *r)
{
	size_t ns = gs_grpc_nstreams(r->d.g);
	r->out->peer = r->d.peer;
	r->out->rpeer = r->d.rpeer;
	r->out->rsnap = r->d.rsnap;
	for (size_t k = 0; r->d.holders && k < ns; k++)
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
/* False when out of memory: what was not interned stays the verdict's own. */
static bool intern_evidence(gs_diagnosis *dg, gs_verdict *v)
{
	if (!v->summary_pooled) {
		const char *p = gs_strpool_intern(&dg->evidence_pool, v->summary ? v->summary : "");
		if (!p)
			return false;
		free(v->summary);
		v->summary = (char *)p;
		v->summary_pooled = true;
	}
	for (; v->npooled < v->nevidence; v->npooled++) {
		const char *p = gs_strpool_intern(&dg->evidence_pool, v->evidence[v->npooled]);
		if (!p)
			return false;
		free(v->evidence[v->npooled]);
		v->evidence[v->npooled] = (char *)p;
	}
	return true;
}

/* Judges what is queued; chains into other snapshots are queued there (runs: the whole
 * set, indexed like the diagnosis states). */
static bool step(run *r, run *runs)
{
	bool did = false;
	while (r->next < r->len && r->out->n < MAX_VERDICTS) {
		size_t i = r->next++;
		if (!gs_u64set_add(&r->seen, r->todo[i])) {
			r->d.nomem |= r->seen.failed;
			continue;
		}
		gs_goroutine *gr = gs_rt_find_goroutine(r->d.rt, r->todo[i]);
		if (!gr)
			continue;
		if (r->out->n == r->vcap) {
			gs_verdict *nv = gs_reallocarray(r->out->v, r->vcap ? r->vcap * 2 : 16, sizeof *nv, NULL);
			if (!nv) {
				r->d.nomem = true;
				return false;
			}
			r->out->v = nv;
			r->vcap = r->vcap ? r->vcap * 2 : 16;
		}
		gs_verdict *v = &r->out->v[r->out->n++];
		gs_judge(&r->d, gr, v, i >= r->asked);
		r->d.nomem |= v->nomem;
		r->d.nomem |= !intern_evidence(r->out, v);
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

void gs_verdict_free(gs_verdict *v)
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
 * chain come out as before). False when out of memory. */
static bool group_and_speak(run *r)
{
	gs_vgroups *gr = gs_calloc(1, sizeof *gr, NULL);
	if (!gr)
		return false;
	r->out->groups = gr; /* freed with the diagnosis, whole or not */
	if (gs_group_verdicts(r->d.rt, r->d.g, r->out, gr) < 0)
		return false;
	r->d.brief = false;
	for (size_t j = 0; j < gr->n; j++) {
		gs_verdict *v = &r->out->v[gr->g[j].members[0]];
		gs_goroutine *g = gs_rt_find_goroutine(r->d.rt, v->goid);
		gs_verdict full;
		gs_judge(&r->d, g, &full, v->reached);
		bool ok = !full.nomem && intern_evidence(r->out, &full);
		gs_verdict_free(v);
		*v = full;
		if (!ok)
			return false;
	}
	return !r->d.nomem; /* an index the re-judging built may have fallen short too */
}

static int diagnose_set(gs_rt *const *rt, gs_grpc *const *g, size_t n, const uint64_t *goids,
			size_t ngoids, gs_diagnosis *out, bool brief, gs_err *err)
{
	for (size_t i = 0; i < ngoids; i++)
		if (!gs_rt_find_goroutine(rt[0], goids[i]))
			return gs_errf(err, GS_EINPUT, "why-blocked: no goroutine %llu",
				       (unsigned long long)goids[i]);
	run *runs = gs_calloc(n, sizeof *runs, err);
	if (!runs)
		return -1;
	gs_diag *set = NULL;
	bool made = true;
	for (size_t i = 0; i < n; i++)
		made &= run_init(&runs[i], rt[i], g[i], &out[i]);
	/* The states are copied into one array that every state points into. */
	if (made && n > 1 && !(set = gs_calloc(n, sizeof *set, NULL)))
		made = false;
	if (!made) {
		for (size_t i = 0; i < n; i++)
			run_free(&runs[i]);
		for (size_t i = 0; i < n; i++)
			gs_diagnosis_free(&out[i]);
		free(runs);
		return gs_errf(err, GS_EINTERNAL, "why-blocked: out of memory");
	}
	if (n > 1) {
		for (size_t i = 0; i < n; i++) {
			runs[i].d.set = set;
			runs[i].d.nset = n;
			runs[i].d.self = i;
		}
		for (size_t i = 0; i < n; i++)
			set[i] = runs[i].d;
		gs_pair_set(set, n);
	}
	/* Queueing reads the state too (lazy indexes, the name memo, out-of-memory marks): on the
	 * set's copy, as the steps below do, or what it builds is lost and leaks. */
	for (size_t i = 0; i < n; i++) {
		if (set)
			runs[i].d = set[i];
		for (size_t k = 0; i == 0 && k < ngoids; k++)
			push(&runs[0], goids[k]);
		if (!ngoids)
			seed_default(&runs[i]);
		runs[i].asked = runs[i].len;
		runs[i].d.brief = brief;
		if (set)
			set[i] = runs[i].d;
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
	bool nomem = false; /* a verdict, chain or index short of memory: no partial answer */
	for (size_t i = 0; i < n; i++)
		nomem |= runs[i].d.nomem;
	for (size_t i = 0; brief && !nomem && i < n; i++)
		nomem = !group_and_speak(&runs[i]);
	for (size_t i = 0; i < n; i++)
		run_free(&runs[i]);
	if (n > 1 && !nomem)
		nomem = !gs_chains_across(out, n);
	free(set);
	free(runs);
	if (nomem) {
		for (size_t i = 0; i < n; i++)
			gs_diagnosis_free(&out[i]);
		return gs_errf(err, GS_EINTERNAL, "why-blocked: out of memory");
	}
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
		gs_verdict_free(&dg->v[i]);
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
