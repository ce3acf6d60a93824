/* Pairing streams of one connection seen from both ends in the same snapshot, and finding
 * the goroutines that act for a stream.
 *
 * A client transport's local address is its server transport's remote address and vice
 * versa; a stream keeps its id on both sides.
 */
#include <stdlib.h>
#include <string.h>

#include "../util/strbuf.h"
#include "diag_internal.h"

#define MAX_SCAN_BYTES (1u << 20)

/* Streams of a client transport in `a` and its server transport in `b`: the same socket pair
 * seen from both ends, stream ids equal. Records b's index in out[a's index]. */
static void pair_into(gs_grpc *ga, gs_grpc *gb, long *out, bool client_side)
{
	for (size_t i = 0; i < gs_grpc_ntransports(ga); i++) {
		const gs_transport *a = gs_grpc_transport(ga, i);
		if ((a->side == GS_CLIENT) != client_side || a->local[0] == '?')
			continue;
		for (size_t k = 0; k < gs_grpc_ntransports(gb); k++) {
			const gs_transport *b = gs_grpc_transport(gb, k);
			if (b->side == a->side || strcmp(a->local, b->remote) != 0 ||
			    strcmp(a->remote, b->local) != 0)
				continue;
			for (size_t x = 0; x < a->nstreams; x++)
				for (size_t y = 0; y < b->nstreams; y++)
					if (gs_grpc_stream(ga, a->first_stream + x)->id ==
					    gs_grpc_stream(gb, b->first_stream + y)->id)
						out[a->first_stream + x] = (long)(b->first_stream + y);
		}
	}
}

void gs_pair_remote(gs_diag *d, gs_diag *r)
{
	pair_into(d->g, r->g, d->rpeer, true);
	pair_into(d->g, r->g, d->rpeer, false);
	pair_into(r->g, d->g, r->rpeer, true);
	pair_into(r->g, d->g, r->rpeer, false);
}

/* Streams of transport t sorted by id, for pairing in O(n log n). */
typedef struct by_id {
	uint32_t id;
	size_t index;
} by_id;

static int cmp_by_id(const void *a, const void *b)
{
	const by_id *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static by_id *sorted_streams(gs_grpc *g, const gs_transport *t)
{
	by_id *v = gs_xcalloc(t->nstreams ? t->nstreams : 1, sizeof *v);
	for (size_t i = 0; i < t->nstreams; i++)
		v[i] = (by_id){gs_grpc_stream(g, t->first_stream + i)->id, t->first_stream + i};
	if (t->nstreams)
		qsort(v, t->nstreams, sizeof *v, cmp_by_id);
	return v;
}

void gs_pair_streams(gs_diag *d)
{
	size_t n = gs_grpc_nstreams(d->g);
	for (size_t i = 0; i < n; i++)
		d->peer[i] = -1;
	for (size_t i = 0; i < gs_grpc_ntransports(d->g); i++) {
		const gs_transport *a = gs_grpc_transport(d->g, i);
		if (a->side != GS_CLIENT || a->local[0] == '?')
			continue;
		for (size_t k = 0; k < gs_grpc_ntransports(d->g); k++) {
			const gs_transport *b = gs_grpc_transport(d->g, k);
			if (b->side != GS_SERVER || strcmp(a->local, b->remote) != 0 ||
			    strcmp(a->remote, b->local) != 0)
				continue;
			by_id *sb = sorted_streams(d->g, b);
			for (size_t x = 0; x < a->nstreams; x++) {
				size_t ai = a->first_stream + x;
				by_id key = {gs_grpc_stream(d->g, ai)->id, 0};
				by_id *hit = bsearch(&key, sb, b->nstreams, sizeof key, cmp_by_id);
				if (hit) {
					d->peer[ai] = (long)hit->index;
					d->peer[hit->index] = (long)ai;
				}
			}
			free(sb);
		}
	}
}

/* Goroutines whose live stack holds the stream, directly or through the grpc clientStream
 * whose current attempt uses it (the application's ClientStream value). */
static void scan_holders(gs_diag *d, long si)
{
	const gs_stream *s = gs_grpc_stream(d->g, (size_t)si);
	const gs_layout *l = gs_grpc_layout(d->g);
	int64_t ao = l->offsets[CLS_ATTEMPT], so = l->offsets[CSA_S];
	int64_t hio = gs_rt_off(d->rt, RT_G_STACK_HI);
	gs_target *t = gs_rt_target(d->rt);
	uint64_t *buf = gs_xmalloc(MAX_SCAN_BYTES);
	for (size_t i = 0; i < gs_rt_ngoroutines(d->rt); i++) {
		gs_goroutine *gr = gs_rt_goroutine(d->rt, i);
		uint64_t hi = 0, lo = gr->sched_sp;
		/* Goroutines grpc itself started (the stream watcher, transport workers) hold
		 * streams by design; only the application's holders explain a wait. */
		gs_func sf;
		if (gs_pclntab_find(gs_rt_pclntab(d->rt), gr->startpc - gs_rt_bias(d->rt), &sf) == 0 &&
		    strncmp(sf.name, "google.golang.org/grpc", 22) == 0)
			continue;
		if (gr->status != GS_G_WAITING || !lo || hio < 0 ||
		    gs_target_read_u64(t, gr->addr + (uint64_t)hio, &hi, NULL) < 0 || hi <= lo ||
		    hi - lo > MAX_SCAN_BYTES || gs_target_read_bulk(t, lo, buf, hi - lo, NULL) < 0)
			continue;
		bool found = false;
		for (size_t w = 0; w < (hi - lo) / 8 && !found; w++) {
			uint64_t p = buf[w], a = 0, x = 0;
			if (!p || (p & 7))
				continue;
			if (p == s->addr)
				found = true;
			else if (ao >= 0 && so >= 0 && s->side == GS_CLIENT &&
				 gs_target_read_u64(t, p + (uint64_t)ao, &a, NULL) == 0 && a && !(a & 7) &&
				 gs_target_read_u64(t, a + (uint64_t)so, &x, NULL) == 0 && x == s->addr)
				found = true;
		}
		if (found) {
			d->holders[si] = gs_xrealloc(d->holders[si], (d->nholders[si] + 1) * 8);
			d->holders[si][d->nholders[si]++] = gr->goid;
		}
	}
	free(buf);
}

static bool acts_on(gs_diag *d, gs_goroutine *gr, long si)
{
	size_t nw;
	const gs_waitobj *w = gs_rt_waits(d->rt, gr, &nw);
	for (size_t k = 0; k < nw; k++) {
		long s, t;
		gs_owner_role r;
		if (gs_grpc_owner_of(d->g, w[k].addr, &s, &t, &r) && s == si &&
		    (r == GS_OWN_RECV_BUFFER || r == GS_OWN_WRITE_QUOTA || r == GS_OWN_HEADER))
			return true;
	}
	return false;
}

size_t gs_stream_principals(gs_diag *d, long si, uint64_t *out, size_t max)
{
	if (si < 0)
		return 0;
	const gs_stream *s = gs_grpc_stream(d->g, (size_t)si);
	size_t n = 0;
	if (s->handler && n < max)
		out[n++] = s->handler;
	for (size_t i = 0; i < s->ngoroutines && n < max; i++) {
		if (s->goroutines[i] == s->handler)
			continue;
		gs_goroutine *gr = gs_rt_find_goroutine(d->rt, s->goroutines[i]);
		if (gr && acts_on(d, gr, si))
			out[n++] = gr->goid;
	}
	if (n)
		return n;
	if (!d->holders_done[si]) {
		d->holders_done[si] = true;
		scan_holders(d, si);
	}
	for (size_t i = 0; i < d->nholders[si] && n < max; i++)
		out[n++] = d->holders[si][i];
	return n;
}

static int cmp_parked(const void *a, const void *b)
{
	const struct gs_parked *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

size_t gs_parked_on(gs_diag *d, uint64_t addr, const struct gs_parked **first)
{
	if (!d->parked_built) {
		d->parked_built = true;
		size_t cap = 0;
		for (size_t i = 0; i < gs_rt_ngoroutines(d->rt); i++) {
			gs_goroutine *g = gs_rt_goroutine(d->rt, i);
			size_t nw;
			const gs_waitobj *w = gs_rt_waits(d->rt, g, &nw);
			for (size_t k = 0; k < nw; k++) {
				bool sema = w[k].kind == GS_WAIT_SEMA;
				if (!sema && w[k].kind != GS_WAIT_CHAN_RECV && w[k].kind != GS_WAIT_CHAN_SEND)
					continue;
				if (d->nparked == cap) {
					cap = cap ? cap * 2 : 256;
					d->parked = gs_xrealloc(d->parked, cap * sizeof *d->parked);
				}
				d->parked[d->nparked++] = (struct gs_parked){w[k].addr, g->goid, sema};
			}
		}
		if (d->nparked)
			qsort(d->parked, d->nparked, sizeof *d->parked, cmp_parked);
	}
	size_t lo = 0, hi = d->nparked;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->parked[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < d->nparked && d->parked[end].addr == addr)
		end++;
	*first = d->parked + lo;
	return end - lo;
}
