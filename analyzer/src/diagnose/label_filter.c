/* why-blocked --label: the verdicts of goroutines that carry the given pprof labels, and
 * the verdicts their chains reach (the root cause stays in view when it is unlabelled).
 * Over a set of snapshots the filter is one: a chain is followed within a snapshot (chain)
 * and into the others (peer_chain/peer_snap, across), so a peer's verdict reached from a
 * labelled goroutine of another process stays, whatever its own labels. */
#include <stdlib.h>
#include <string.h>

#include "../goruntime/labels.h"
#include "label_filter.h"

/* Verdict indexes by goroutine id, sorted: chains are followed by binary search (tens of
 * thousands of verdicts, each with a chain). */
typedef struct byid {
	uint64_t goid;
	size_t i;
} byid;

static int cmp_byid(const void *a, const void *b)
{
	uint64_t x = ((const byid *)a)->goid, y = ((const byid *)b)->goid;
	return x < y ? -1 : x > y;
}

/* One snapshot's part of the walk: which verdicts stay, and its index. */
typedef struct snapkeep {
	bool *keep;
	byid *ix;
} snapkeep;

/* A verdict to follow: snapshot and index. */
typedef struct step {
	size_t snap, i;
} step;

typedef struct walk {
	gs_diagnosis *dg;
	size_t nsnap;
	snapkeep *k;
	step *todo;
	size_t ntodo;
} walk;

/* Keeps snapshot snap's verdict of goid (if it has one) and queues it once. Every verdict
 * is queued at most once, so todo never holds more than all the verdicts of the set. */
static void reach(walk *w, size_t snap, uint64_t goid)
{
	if (snap >= w->nsnap || !w->dg[snap].n)
		return;
	byid key = {goid, 0};
	const byid *h = bsearch(&key, w->k[snap].ix, w->dg[snap].n, sizeof key, cmp_byid);
	if (h && !w->k[snap].keep[h->i]) {
		w->k[snap].keep[h->i] = true;
		w->todo[w->ntodo++] = (step){snap, h->i};
	}
}

static void compact(gs_diagnosis *dg, const bool *keep)
{
	size_t m = 0;
	for (size_t i = 0; i < dg->n; i++) {
		if (keep[i])
			dg->v[m++] = dg->v[i];
		else
			gs_verdict_free(&dg->v[i]);
	}
	dg->n = m;
}

int gs_diagnosis_set_filter_labels(gs_rt *const *rt, gs_diagnosis *dg, size_t nsnap,
				   const char *const *filters, size_t n)
{
	if (!n || !nsnap)
		return 0;
	size_t total = 0;
	for (size_t s = 0; s < nsnap; s++)
		total += dg[s].n;
	walk w = {dg, nsnap, calloc(nsnap, sizeof *w.k), malloc((total + 1) * sizeof *w.todo), 0};
	bool ok = w.k && w.todo;
	for (size_t s = 0; ok && s < nsnap; s++) {
		size_t nv = dg[s].n;
		w.k[s].keep = calloc(nv + 1, sizeof *w.k[s].keep);
		w.k[s].ix = malloc((nv + 1) * sizeof *w.k[s].ix);
		if (!w.k[s].keep || !w.k[s].ix) {
			ok = false;
			break;
		}
		for (size_t i = 0; i < nv; i++)
			w.k[s].ix[i] = (byid){dg[s].v[i].goid, i};
		qsort(w.k[s].ix, nv, sizeof *w.k[s].ix, cmp_byid);
	}
	for (size_t s = 0; ok && s < nsnap; s++)
		for (size_t i = 0; i < dg[s].n; i++) {
			const gs_goroutine *g = gs_rt_find_goroutine(rt[s], dg[s].v[i].goid);
			if (g && gs_labels_match(gs_rt_labels(rt[s], g), filters, n))
				reach(&w, s, dg[s].v[i].goid);
		}
	while (ok && w.ntodo) {
		step st = w.todo[--w.ntodo];
		const gs_verdict *v = &dg[st.snap].v[st.i];
		for (size_t k = 0; k < v->nchain; k++)
			reach(&w, st.snap, v->chain[k]);
		for (size_t k = 0; k < v->npeer_chain; k++)
			reach(&w, v->peer_snap[k], v->peer_chain[k]);
		for (size_t k = 0; k < v->nacross; k++) /* what the text's chain line names */
			reach(&w, v->across[k].snap, v->across[k].goid);
	}
	for (size_t s = 0; w.k && s < nsnap; s++) {
		if (ok) /* out of memory leaves the set whole: the command fails anyway */
			compact(&dg[s], w.k[s].keep);
		free(w.k[s].keep);
		free(w.k[s].ix);
	}
	free(w.k);
	free(w.todo);
	return ok ? 0 : -1;
}

int gs_diagnosis_filter_labels(gs_rt *rt, gs_diagnosis *dg, const char *const *filters,
			       size_t n)
{
	return gs_diagnosis_set_filter_labels(&rt, dg, 1, filters, n);
}
