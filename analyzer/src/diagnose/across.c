/* The path of each verdict through the other snapshots of a set (client -> gateway ->
 * backend ...): from the goroutine, each step takes the first goroutine it blames that is
 * not on the path yet — one in another process first, as the chain is about crossing them —
 * until a goroutine blames nothing new. The steps from the first one into another snapshot
 * on are the verdict's `across`. A goroutine is visited once per path, so a cycle across
 * processes (A -> B -> A) ends where it closes. */
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "diag_internal.h"

#define MAX_ACROSS 64 /* hops kept per verdict */
#define MAX_STEPS 256 /* steps walked per verdict, in-process ones included */

typedef struct vix {
	uint64_t goid;
	size_t v;
} vix;

static int cmp_vix(const void *a, const void *b)
{
	const vix *x = a, *y = b;
	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

/* NULL when out of memory. */
static vix *index_of(const gs_diagnosis *dg)
{
	vix *ix = gs_calloc(dg->n, sizeof *ix, NULL);
	if (!ix)
		return NULL;
	for (size_t i = 0; i < dg->n; i++)
		ix[i] = (vix){dg->v[i].goid, i};
	if (dg->n)
		qsort(ix, dg->n, sizeof *ix, cmp_vix);
	return ix;
}

static gs_verdict *lookup(gs_diagnosis *dg, vix *const *ix, size_t snap, uint64_t goid)
{
	vix key = {goid, 0};
	const vix *hit = dg[snap].n ? bsearch(&key, ix[snap], dg[snap].n, sizeof key, cmp_vix) : NULL;
	return hit ? &dg[snap].v[hit->v] : NULL;
}

typedef struct step {
	size_t snap;
	uint64_t goid;
} step;

static bool seen(const step *path, size_t n, size_t snap, uint64_t goid)
{
	for (size_t i = 0; i < n; i++)
		if (path[i].snap == snap && path[i].goid == goid)
			return true;
	return false;
}

/* The next step from verdict v of snapshot snap, or false when it blames nothing new. */
static bool next_step(const gs_verdict *v, size_t snap, const step *path, size_t n, step *out)
{
	for (size_t k = 0; k < v->npeer_chain; k++)
		if (!seen(path, n, v->peer_snap[k], v->peer_chain[k])) {
			*out = (step){v->peer_snap[k], v->peer_chain[k]};
			return true;
		}
	for (size_t k = 0; k < v->nchain; k++)
		if (!seen(path, n, snap, v->chain[k])) {
			*out = (step){snap, v->chain[k]};
			return true;
		}
	return false;
}

/* False when out of memory. */
static bool walk(gs_diagnosis *dg, vix *const *ix, size_t snap, gs_verdict *v)
{
	step path[MAX_STEPS + 1];
	gs_hop hops[MAX_ACROSS];
	size_t n = 0, nh = 0, cur_snap = snap;
	bool crossed = false;
	path[n++] = (step){snap, v->goid};
	const gs_verdict *cur = v;
	while (cur && n <= MAX_STEPS && nh < MAX_ACROSS) {
		step nx;
		if (!next_step(cur, cur_snap, path, n, &nx))
			break;
		crossed |= nx.snap != cur_snap;
		path[n++] = nx;
		cur = lookup(dg, ix, nx.snap, nx.goid);
		if (crossed)
			hops[nh++] = (gs_hop){nx.snap, nx.goid, cur ? cur->code : NULL,
					      cur ? cur->stream : -1};
		cur_snap = nx.snap;
	}
	if (!nh)
		return true;
	if (!(v->across = gs_calloc(nh, sizeof *v->across, NULL)))
		return false;
	memcpy(v->across, hops, nh * sizeof *hops);
	v->nacross = nh;
	return true;
}

bool gs_chains_across(gs_diagnosis *dg, size_t n)
{
	vix **ix = gs_calloc(n, sizeof *ix, NULL);
	if (!ix)
		return false;
	bool ok = true;
	for (size_t s = 0; s < n; s++)
		ok &= (ix[s] = index_of(&dg[s])) != NULL;
	for (size_t s = 0; ok && s < n; s++)
		for (size_t i = 0; ok && i < dg[s].n; i++)
			ok = walk(dg, ix, s, &dg[s].v[i]);
	for (size_t s = 0; s < n; s++)
		free(ix[s]);
	free(ix);
	return ok;
}
