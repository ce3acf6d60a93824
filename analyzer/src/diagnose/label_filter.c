/* why-blocked --label: the verdicts of goroutines that carry the given pprof labels, and
 * the verdicts their chains reach (the root cause stays in view when it is unlabelled). */
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

static long index_of(const byid *ix, size_t n, uint64_t goid)
{
	byid key = {goid, 0};
	const byid *h = bsearch(&key, ix, n, sizeof key, cmp_byid);
	return h ? (long)h->i : -1;
}

/* What the diagnosis' evidence_pool holds stays there. */
static void drop(gs_verdict *v)
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

int gs_diagnosis_filter_labels(gs_rt *rt, gs_diagnosis *dg, const char *const *filters,
			       size_t n)
{
	if (!n || !dg->n)
		return 0;
	bool *keep = calloc(dg->n, sizeof *keep);
	size_t *todo = malloc(dg->n * sizeof *todo), ntodo = 0;
	if (!keep || !todo) {
		free(keep);
		free(todo);
		return -1;
	}
	for (size_t i = 0; i < dg->n; i++) {
		const gs_goroutine *g = gs_rt_find_goroutine(rt, dg->v[i].goid);
		if (g && gs_labels_match(gs_rt_labels(rt, g), filters, n)) {
			keep[i] = true;
			todo[ntodo++] = i;
		}
	}
	byid *ix = malloc(dg->n * sizeof *ix);
	if (!ix) {
		free(keep);
		free(todo);
		return -1;
	}
	for (size_t i = 0; i < dg->n; i++)
		ix[i] = (byid){dg->v[i].goid, i};
	qsort(ix, dg->n, sizeof *ix, cmp_byid);
	while (ntodo) {
		const gs_verdict *v = &dg->v[todo[--ntodo]];
		for (size_t k = 0; k < v->nchain; k++) {
			long w = index_of(ix, dg->n, v->chain[k]);
			if (w >= 0 && !keep[w]) {
				keep[w] = true;
				todo[ntodo++] = (size_t)w;
			}
		}
	}
	size_t m = 0;
	for (size_t i = 0; i < dg->n; i++) {
		if (keep[i])
			dg->v[m++] = dg->v[i];
		else
			drop(&dg->v[i]);
	}
	dg->n = m;
	free(ix);
	free(keep);
	free(todo);
	return 0;
}
