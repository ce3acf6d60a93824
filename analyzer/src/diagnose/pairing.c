/* Pairing streams of one connection seen from both ends (in one snapshot, or across two),
 * and finding the goroutines that act for a stream.
 *
 * A client transport's local address is its server transport's remote address and vice
 * versa; a stream keeps its id on both sides. Over TCP the address pair names one
 * connection. Over a unix socket every connection to one path has the same pair (the path
 * and an unnamed client end), so among transports on the same path the one whose state
 * agrees is taken — same stream ids with the same methods, the client's last stream id the
 * server's highest, each side's connection send quota what the other's window left — and
 * only when exactly one does, both ways; otherwise the streams are marked ambiguous and not
 * paired. In-memory pipes pair by the pipe objects themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "diag_internal.h"

#define MAX_SCAN_BYTES (1u << 20)

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
	by_id *v = calloc(t->nstreams ? t->nstreams : 1, sizeof *v);
	if (!v) /* out of memory: the callers search without it */
		return NULL;
	for (size_t i = 0; i < t->nstreams; i++)
		v[i] = (by_id){gs_grpc_stream(g, t->first_stream + i)->id, t->first_stream + i};
	if (t->nstreams)
		qsort(v, t->nstreams, sizeof *v, cmp_by_id);
	return v;
}

/* One snapshot's side of a pairing. */
typedef struct ends_ix ends_ix;
typedef struct side_out {
	gs_grpc *g;
	const ends_ix *ix;
	long *peer;
	uint8_t *how;
	uint16_t *nalike;
} side_out;

static bool in_memory(const gs_transport *t)
{
	return t->pipe_in && t->pipe_out;
}

/* Whether b could be the other end of a: opposite sides, mirrored addresses (or the same
 * pipe, crossed). */
static bool ends_match(const gs_transport *a, const gs_transport *b)
{
	if (a->side == b->side)
		return false;
	if (in_memory(a) || in_memory(b))
		return a->pipe_in == b->pipe_out && a->pipe_out == b->pipe_in;
	return a->local[0] != '?' && a->remote[0] != '?' && strcmp(a->local, b->remote) == 0 &&
	       strcmp(a->remote, b->local) == 0;
}

/* How well the state of client c and server s agrees; -1 when it cannot be one connection
 * (a stream id both have, with different methods). */
/* The index of t's stream with this id, or SIZE_MAX; through sorted (when not NULL). */
static size_t stream_by_id(gs_grpc *g, const gs_transport *t, const by_id *sorted, uint32_t id)
{
	by_id key = {id, 0};
	if (sorted) {
		const by_id *hit = t->nstreams ? bsearch(&key, sorted, t->nstreams, sizeof key, cmp_by_id) : NULL;
		return hit ? hit->index : SIZE_MAX;
	}
	for (size_t i = 0; i < t->nstreams; i++) /* out of memory: the same answer, slower */
		if (gs_grpc_stream(g, t->first_stream + i)->id == id)
			return t->first_stream + i;
	return SIZE_MAX;
}

static int agreement(gs_grpc *gc, const gs_transport *c, gs_grpc *gsv, const gs_transport *s)
{
	by_id *x = sorted_streams(gc, c), *y = sorted_streams(gsv, s);
	size_t i = 0, k = 0, shared = 0;
	int score = 0;
	if (!x || !y) { /* out of memory: each of c's streams looked for in s */
		for (i = 0; i < c->nstreams && score == 0; i++) {
			const gs_stream *a = gs_grpc_stream(gc, c->first_stream + i);
			size_t bi = stream_by_id(gsv, s, NULL, a->id);
			if (bi == SIZE_MAX)
				continue;
			const char *m2 = gs_grpc_stream(gsv, bi)->method;
			if (strcmp(a->method, "?") && strcmp(m2, "?") && strcmp(a->method, m2))
				score = -1;
			else
				shared++;
		}
		i = k = c->nstreams + s->nstreams; /* skips the merge below */
	}
	while (i < c->nstreams && k < s->nstreams) {
		if (x[i].id < y[k].id) {
			i++;
		} else if (x[i].id > y[k].id) {
			k++;
		} else {
			const char *m1 = gs_grpc_stream(gc, x[i].index)->method;
			const char *m2 = gs_grpc_stream(gsv, y[k].index)->method;
			if (strcmp(m1, "?") && strcmp(m2, "?") && strcmp(m1, m2)) {
				score = -1;
				break;
			}
			shared++;
			i++;
			k++;
		}
	}
	free(x);
	free(y);
	if (score < 0)
		return -1;
	score += (int)shared;
	if (shared == c->nstreams && shared == s->nstreams)
		score++;
	if (c->next_id >= 3 && c->next_id - 2 == s->max_stream_id)
		score++;
	if (c->conn_in_known && s->loopy_known && c->conn_in_limit - c->conn_in_unacked == s->send_quota)
		score++;
	if (s->conn_in_known && c->loopy_known && s->conn_in_limit - s->conn_in_unacked == c->send_quota)
		score++;
	return score;
}

static int agreement_any(gs_grpc *ga, const gs_transport *a, gs_grpc *gb, const gs_transport *b)
{
	return a->side == GS_CLIENT ? agreement(ga, a, gb, b) : agreement(gb, b, ga, a);
}

/* The transports of one snapshot sorted by their address pair and by their pipe objects, so
 * that a transport's possible other ends are found by binary search, not by a scan. */
typedef struct end_key {
	const char *local, *remote;
	uint64_t pin, pout;
	size_t idx;
} end_key;

typedef struct ends_ix {
	gs_grpc *g;
	end_key *by_addr, *by_pipe;
	size_t n;
} ends_ix;

static int cmp_addr(const void *x, const void *y)
{
	const end_key *a = x, *b = y;
	int c = strcmp(a->local, b->local);
	return c ? c : strcmp(a->remote, b->remote);
}

static int cmp_pipe(const void *x, const void *y)
{
	const end_key *a = x, *b = y;
	return a->pout < b->pout ? -1 : a->pout > b->pout;
}

/* False when out of memory (the index is then empty: nothing pairs). */
static bool ix_build(ends_ix *ix, gs_grpc *g)
{
	ix->g = g;
	ix->n = gs_grpc_ntransports(g);
	ix->by_addr = calloc(ix->n ? ix->n : 1, sizeof *ix->by_addr);
	ix->by_pipe = calloc(ix->n ? ix->n : 1, sizeof *ix->by_pipe);
	if (!ix->by_addr || !ix->by_pipe) {
		ix->n = 0;
		return false;
	}
	for (size_t i = 0; i < ix->n; i++) {
		const gs_transport *t = gs_grpc_transport(g, i);
		ix->by_addr[i] = (end_key){t->local, t->remote, t->pipe_in, t->pipe_out, i};
	}
	memcpy(ix->by_pipe, ix->by_addr, ix->n * sizeof *ix->by_addr);
	if (ix->n) {
		qsort(ix->by_addr, ix->n, sizeof *ix->by_addr, cmp_addr);
		qsort(ix->by_pipe, ix->n, sizeof *ix->by_pipe, cmp_pipe);
	}
	return true;
}

static void ix_free(ends_ix *ix)
{
	free(ix->by_addr);
	free(ix->by_pipe);
}

/* The run of ix's keys that may hold a's other ends: [*first, return value). */
static size_t ix_range(const ends_ix *ix, const gs_transport *a, const end_key **v, size_t *first)
{
	end_key key = {a->remote, a->local, 0, a->pipe_in, 0};
	int (*cmp)(const void *, const void *) = in_memory(a) ? cmp_pipe : cmp_addr;
	*v = in_memory(a) ? ix->by_pipe : ix->by_addr;
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cmp(&(*v)[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < ix->n && cmp(&(*v)[hi], &key) == 0)
		hi++;
	return hi;
}

/* The transport of ib that is a's other end: its index, with *nalike the number of
 * candidates that agree best (1: found; more: ambiguous, -1 returned; 0: none). *by_state
 * says whether addresses alone did not decide. */
static long best_end(gs_grpc *ga, const gs_transport *a, const ends_ix *ib, size_t *nalike,
		     bool *by_state)
{
	gs_grpc *gb = ib->g;
	const end_key *v;
	size_t first, end = ix_range(ib, a, &v, &first), n = 0;
	long only = -1;
	for (size_t i = first; i < end; i++)
		if (ends_match(a, gs_grpc_transport(gb, v[i].idx)) && n++ == 0)
			only = (long)v[i].idx;
	*by_state = n > 1;
	*nalike = n;
	if (n <= 1)
		return only;
	int best = -1;
	long at = -1;
	size_t nbest = 0;
	for (size_t i = first; i < end; i++) {
		const gs_transport *b = gs_grpc_transport(gb, v[i].idx);
		if (!ends_match(a, b))
			continue;
		int sc = agreement_any(ga, a, gb, b);
		if (sc > best) {
			best = sc;
			at = (long)v[i].idx;
			nbest = 1;
		} else if (sc == best) {
			nbest++;
		}
	}
	*nalike = best < 0 ? 0 : nbest;
	return nbest == 1 ? at : -1;
}

static void mark_ambiguous(side_out *a, const gs_transport *t, size_t nalike)
{
	for (size_t x = 0; nalike > 1 && x < t->nstreams; x++) {
		a->how[t->first_stream + x] = GS_PAIR_AMBIGUOUS;
		a->nalike[t->first_stream + x] = (uint16_t)(nalike > 65535 ? 65535 : nalike);
	}
}

/* Server transports left unpaired because several client transports looked alike. */
static void mark_ambiguous_servers(side_out *a, const ends_ix *ib)
{
	for (size_t i = 0; i < gs_grpc_ntransports(a->g); i++) {
		const gs_transport *t = gs_grpc_transport(a->g, i);
		size_t nalike;
		bool by_state;
		if (t->side != GS_SERVER || !t->nstreams || a->peer[t->first_stream] >= 0 ||
		    a->how[t->first_stream] == GS_PAIR_AMBIGUOUS)
			continue;
		if (best_end(a->g, t, ib, &nalike, &by_state) < 0 || nalike > 1)
			mark_ambiguous(a, t, nalike);
	}
}

/* Pairs the client (or server, !client_side) transports of a with their ends in b. */
static void pair_side(side_out *a, side_out *b, bool client_side)
{
	for (size_t i = 0; i < gs_grpc_ntransports(a->g); i++) {
		const gs_transport *ta = gs_grpc_transport(a->g, i);
		if ((ta->side == GS_CLIENT) != client_side)
			continue;
		size_t nalike, back_alike = 0;
		bool by_state, back_state = false;
		long k = best_end(a->g, ta, b->ix, &nalike, &by_state);
		/* The choice must hold both ways: a's best end has a as its own best end. */
		if (k >= 0 &&
		    best_end(b->g, gs_grpc_transport(b->g, (size_t)k), a->ix, &back_alike, &back_state) !=
			    (long)i) {
			nalike = back_alike > nalike ? back_alike : nalike;
			k = -1;
		}
		by_state = by_state || back_state;
		if (k < 0) {
			mark_ambiguous(a, ta, nalike);
			continue;
		}
		const gs_transport *tb = gs_grpc_transport(b->g, (size_t)k);
		uint8_t how = in_memory(ta) ? GS_PAIR_PIPE : by_state ? GS_PAIR_STATE : GS_PAIR_ADDRESS;
		by_id *sb = sorted_streams(b->g, tb);
		for (size_t x = 0; x < ta->nstreams; x++) {
			size_t ai = ta->first_stream + x;
			size_t hit = stream_by_id(b->g, tb, sb, gs_grpc_stream(a->g, ai)->id);
			if (hit == SIZE_MAX)
				continue;
			a->peer[ai] = (long)hit;
			a->how[ai] = how;
			b->peer[hit] = (long)ai;
			b->how[hit] = how;
		}
		free(sb);
	}
}

/* One snapshot's pairing with one other, before it is merged into its set-wide arrays. */
typedef struct pair_tmp {
	long *peer;
	uint8_t *how;
	uint16_t *nalike;
} pair_tmp;

/* False when out of memory (tmp_free still frees what was made). */
static bool tmp_init(pair_tmp *t, size_t ns)
{
	t->peer = gs_calloc(ns, sizeof *t->peer, NULL);
	t->how = gs_calloc(ns, 1, NULL);
	t->nalike = gs_calloc(ns, sizeof *t->nalike, NULL);
	if (!t->peer || !t->how || !t->nalike)
		return false;
	for (size_t i = 0; i < ns; i++)
		t->peer[i] = -1;
	return true;
}

static void tmp_free(pair_tmp *t)
{
	free(t->peer);
	free(t->how);
	free(t->nalike);
}

static void ambiguous(gs_diag *d, size_t si, unsigned nalike)
{
	unsigned n = d->rnalike[si] + nalike;
	d->rpeer[si] = -1;
	d->rsnap[si] = -1;
	d->rhow[si] = GS_PAIR_AMBIGUOUS;
	d->rnalike[si] = (uint16_t)(n > 65535 ? 65535 : n < 2 ? 2 : n);
}

/* What snapshot `other` said of d's streams: a pairing is kept while it is the only one;
 * a second snapshot that could hold the same stream's other end makes it ambiguous. */
static void merge(gs_diag *d, const pair_tmp *t, size_t other)
{
	for (size_t si = 0; si < gs_grpc_nstreams(d->g); si++) {
		if (t->peer[si] >= 0) {
			if (d->rsnap[si] >= 0 || d->rhow[si] == GS_PAIR_AMBIGUOUS) {
				ambiguous(d, si, d->rsnap[si] >= 0 ? 2 : 1);
			} else {
				d->rpeer[si] = t->peer[si];
				d->rsnap[si] = (int32_t)other;
				d->rhow[si] = t->how[si];
			}
		} else if (t->how[si] == GS_PAIR_AMBIGUOUS) {
			ambiguous(d, si, d->rsnap[si] >= 0 ? 1u + t->nalike[si] : t->nalike[si]);
		}
	}
}

/* A pairing holds only when both ends name each other (a stream made ambiguous by a third
 * snapshot leaves its former partner unpaired too). */
static void keep_mutual(gs_diag *set, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		gs_diag *d = &set[i];
		for (size_t si = 0; si < gs_grpc_nstreams(d->g); si++) {
			if (d->rsnap[si] < 0)
				continue;
			gs_diag *r = &set[d->rsnap[si]];
			long p = d->rpeer[si];
			if (r->rsnap[p] != (int32_t)i || r->rpeer[p] != (long)si)
				ambiguous(d, si, 2);
		}
	}
}

void gs_pair_set(gs_diag *set, size_t n)
{
	ends_ix *ix = gs_calloc(n, sizeof *ix, NULL);
	if (!ix) { /* the diagnosis fails (gs_diagnose_set) */
		set[0].nomem = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		set[i].nomem |= !ix_build(&ix[i], set[i].g);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			pair_tmp ti, tj;
			bool oki = tmp_init(&ti, gs_grpc_nstreams(set[i].g));
			bool okj = tmp_init(&tj, gs_grpc_nstreams(set[j].g));
			if (!oki || !okj) {
				set[i].nomem = true;
				tmp_free(&ti);
				tmp_free(&tj);
				continue;
			}
			side_out a = {set[i].g, &ix[i], ti.peer, ti.how, ti.nalike};
			side_out b = {set[j].g, &ix[j], tj.peer, tj.how, tj.nalike};
			pair_side(&a, &b, true);
			pair_side(&b, &a, true);
			mark_ambiguous_servers(&a, &ix[j]);
			mark_ambiguous_servers(&b, &ix[i]);
			merge(&set[i], &ti, j);
			merge(&set[j], &tj, i);
			tmp_free(&ti);
			tmp_free(&tj);
		}
	keep_mutual(set, n);
	for (size_t i = 0; i < n; i++)
		ix_free(&ix[i]);
	free(ix);
}

void gs_pair_streams(gs_diag *d)
{
	size_t n = gs_grpc_nstreams(d->g);
	for (size_t i = 0; i < n; i++)
		d->peer[i] = -1;
	ends_ix ix;
	d->nomem |= !ix_build(&ix, d->g);
	side_out a = {d->g, &ix, d->peer, d->how, d->nalike};
	pair_side(&a, &a, true);
	mark_ambiguous_servers(&a, &ix);
	ix_free(&ix);
}

/* Goroutines whose live stack holds the stream, directly or through the grpc clientStream
 * whose current attempt uses it (the application's ClientStream value). */
static void scan_holders(gs_diag *d, long si)
{
	const gs_stream *s = gs_grpc_stream(d->g, (size_t)si);
	const gs_layout *l = gs_grpc_layout(d->g);
	gs_target *t = gs_rt_target(d->rt);
	uint64_t *buf = malloc(MAX_SCAN_BYTES);
	if (!buf) {
		d->nomem = true;
		return;
	}
	for (size_t i = 0; i < gs_rt_ngoroutines(d->rt); i++) {
		gs_goroutine *gr = gs_rt_goroutine(d->rt, i);
		uint64_t hi = 0, lo = gr->sched_sp;
		/* Goroutines grpc itself started (the stream watcher, transport workers) hold
		 * streams by design; only the application's holders explain a wait. */
		gs_func sf;
		if (gs_pclntab_find(gs_rt_pclntab(d->rt), gr->startpc - gs_rt_bias(d->rt), &sf) == 0 &&
		    strncmp(sf.name, "google.golang.org/grpc", 22) == 0)
			continue;
		if (!gs_g_parked(gr) || !lo || gs_rt_field(d->rt, gr->addr, RT_G_STACK_HI, &hi) < 0 || hi <= lo ||
		    hi - lo > MAX_SCAN_BYTES || gs_target_read_bulk(t, lo, buf, hi - lo, NULL) < 0)
			continue;
		bool found = false;
		for (size_t w = 0; w < (hi - lo) / 8 && !found; w++) {
			uint64_t p = buf[w], a = 0, x = 0;
			if (!p || (p & 7))
				continue;
			if (p == s->addr)
				found = true;
			else if (s->side == GS_CLIENT &&
				 gs_layout_read(l, CLS_ATTEMPT, t, p, 0, &a) == 0 && a && !(a & 7) &&
				 gs_layout_read(l, CSA_S, t, a, 0, &x) == 0 && x == s->addr)
				found = true;
		}
		if (found) {
			uint64_t *v = gs_reallocarray(d->holders[si], d->nholders[si] + 1, 8, NULL);
			if (!v) {
				d->nomem = true;
				break;
			}
			d->holders[si] = v;
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
					void *v = gs_reallocarray(d->parked, cap ? cap * 2 : 256, sizeof *d->parked, NULL);
					if (!v) {
						d->nomem = true;
						break;
					}
					d->parked = v;
					cap = cap ? cap * 2 : 256;
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
