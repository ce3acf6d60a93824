/* Which goroutines get a verdict: the ones asked for (or every goroutine blocked in or on
 * gRPC), then every goroutine their chains blame, once each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/strbuf.h"
#include "diag_internal.h"

#define MAX_VERDICTS 100000

/* Goroutine ids already judged: open addressing, grown at half load. */
typedef struct id_set {
	uint64_t *slot; /* 0 = empty; goids are never 0 */
	size_t cap, n;
} id_set;

static bool id_set_add(id_set *s, uint64_t id)
{
	if (2 * (s->n + 1) > s->cap) {
		id_set big = {gs_xcalloc(s->cap ? s->cap * 2 : 64, 8), s->cap ? s->cap * 2 : 64, 0};
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i])
				id_set_add(&big, s->slot[i]);
		free(s->slot);
		*s = big;
	}
	size_t h = (size_t)(id * 0x9e3779b97f4a7c15ull) & (s->cap - 1);
	while (s->slot[h]) {
		if (s->slot[h] == id)
			return false;
		h = (h + 1) & (s->cap - 1);
	}
	s->slot[h] = id;
	s->n++;
	return true;
}

static int cmp_handler(const void *a, const void *b)
{
	const struct gs_handler_ix *x = a, *y = b;
	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

long gs_handled_stream(gs_diag *d, uint64_t goid)
{
	struct gs_handler_ix key = {goid, 0};
	struct gs_handler_ix *hit = bsearch(&key, d->handlers, d->nhandlers, sizeof key, cmp_handler);
	return hit ? hit->stream : -1;
}

static void index_handlers(gs_diag *d)
{
	size_t ns = gs_grpc_nstreams(d->g);
	d->handlers = gs_xcalloc(ns ? ns : 1, sizeof *d->handlers);
	for (size_t i = 0; i < ns; i++)
		if (gs_grpc_stream(d->g, i)->handler)
			d->handlers[d->nhandlers++] =
				(struct gs_handler_ix){gs_grpc_stream(d->g, i)->handler, (long)i};
	qsort(d->handlers, d->nhandlers, sizeof *d->handlers, cmp_handler);
}

int gs_diagnose(gs_rt *rt, gs_grpc *g, const uint64_t *goids, size_t n, gs_diagnosis *out,
		gs_err *err)
{
	memset(out, 0, sizeof *out);
	size_t ns = gs_grpc_nstreams(g);
	gs_diag d = {rt, g, gs_xcalloc(ns ? ns : 1, sizeof(long)),
		     gs_xcalloc(ns ? ns : 1, sizeof(uint64_t *)), gs_xcalloc(ns ? ns : 1, sizeof(size_t)),
		     gs_xcalloc(ns ? ns : 1, sizeof(bool)), NULL, 0};
	gs_pair_streams(&d);
	index_handlers(&d);
	id_set seen = {0};
	/* The work list: goroutine ids, the asked-for ones first. */
	size_t cap = 64, len = 0, asked;
	uint64_t *todo = gs_xmalloc(cap * sizeof *todo);
	if (n) {
		for (size_t i = 0; i < n; i++) {
			if (!gs_rt_find_goroutine(rt, goids[i])) {
				free(todo);
				out->peer = d.peer;
				for (size_t k = 0; k < ns; k++)
					free(d.holders[k]);
				free(d.holders);
				free(d.nholders);
				free(d.holders_done);
				free(d.handlers);
				free(seen.slot);
				return gs_errf(err, GS_EINPUT, "why-blocked: no goroutine %llu",
					       (unsigned long long)goids[i]);
			}
			if (len == cap)
				todo = gs_xrealloc(todo, (cap *= 2) * sizeof *todo);
			todo[len++] = goids[i];
		}
	} else {
		for (size_t i = 0; i < gs_rt_ngoroutines(rt); i++) {
			gs_goroutine *gr = gs_rt_goroutine(rt, i);
			if (!gs_is_grpc_blocked(&d, gr))
				continue;
			if (len == cap)
				todo = gs_xrealloc(todo, (cap *= 2) * sizeof *todo);
			todo[len++] = gr->goid;
		}
	}
	asked = len;
	size_t vcap = 0;
	for (size_t i = 0; i < len && out->n < MAX_VERDICTS; i++) {
		if (!id_set_add(&seen, todo[i]))
			continue;
		gs_goroutine *gr = gs_rt_find_goroutine(rt, todo[i]);
		if (!gr)
			continue;
		if (out->n == vcap) {
			vcap = vcap ? vcap * 2 : 16;
			out->v = gs_xrealloc(out->v, vcap * sizeof *out->v);
		}
		gs_verdict *v = &out->v[out->n++];
		gs_judge(&d, gr, v, i >= asked);
		for (size_t k = 0; k < v->nchain; k++) {
			if (len == cap)
				todo = gs_xrealloc(todo, (cap *= 2) * sizeof *todo);
			todo[len++] = v->chain[k];
		}
	}
	free(todo);
	free(seen.slot);
	out->peer = d.peer;
	for (size_t k = 0; k < ns; k++)
		free(d.holders[k]);
	free(d.holders);
	free(d.nholders);
	free(d.holders_done);
	free(d.handlers);
	return 0;
}

void gs_diagnosis_free(gs_diagnosis *dg)
{
	for (size_t i = 0; i < dg->n; i++) {
		for (size_t k = 0; k < dg->v[i].nevidence; k++)
			free(dg->v[i].evidence[k]);
		free(dg->v[i].evidence);
		free(dg->v[i].chain);
	}
	free(dg->v);
	free(dg->peer);
	memset(dg, 0, sizeof *dg);
}
