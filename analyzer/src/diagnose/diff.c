/* Two snapshots of one process compared (see diff.h). */
#include "diff.h"

#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"

const char *gs_change_name(enum gs_change c)
{
	static const char *const names[] = {"progressed", "unchanged", "new", "gone", "parked",
					    "moved"};
	return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "?";
}

/* Same process: one executable (the session checked both cores against it) and threads in
 * common; thread ids are unique on a system while their process lives. */
static bool same_process(gs_rt *r1, gs_rt *r2)
{
	gs_target *t1 = gs_rt_target(r1), *t2 = gs_rt_target(r2);
	if (!gs_target_nthreads(t1) || !gs_target_nthreads(t2))
		return false;
	for (size_t i = 0; i < gs_target_nthreads(t1); i++)
		for (size_t k = 0; k < gs_target_nthreads(t2); k++)
			if (gs_target_thread(t1, i)->tid == gs_target_thread(t2, k)->tid)
				return true;
	return false;
}

#define MAX_STACK_COMPARE (256u << 10)

/* The live part of a parked goroutine's stack, [sched.sp, stack.hi), byte for byte: a
 * goroutine that woke, did work and parked again at the same place (a reader in a loop)
 * leaves other locals behind, where the wait start is not recorded finely enough to tell. */
static bool same_stack(gs_rt *r1, const gs_goroutine *a, gs_rt *r2, const gs_goroutine *b)
{
	if (a->stack_hi != b->stack_hi || !a->sched_sp || a->sched_sp >= a->stack_hi ||
	    a->stack_hi - a->sched_sp > MAX_STACK_COMPARE)
		return false;
	size_t n = (size_t)(a->stack_hi - a->sched_sp);
	uint8_t x[4096], y[4096]; /* piece by piece: nothing to allocate */
	for (size_t off = 0; off < n; off += sizeof x) {
		size_t k = n - off < sizeof x ? n - off : sizeof x;
		if (gs_target_read(gs_rt_target(r1), a->sched_sp + off, x, k, NULL) < 0 ||
		    gs_target_read(gs_rt_target(r2), b->sched_sp + off, y, k, NULL) < 0 ||
		    memcmp(x, y, k) != 0)
			return false;
	}
	return true;
}

/* Parked on the same objects since the same moment: the same park, not a new one. */
static bool same_park(gs_rt *r1, gs_goroutine *a, gs_rt *r2, gs_goroutine *b)
{
	if (a->status != b->status || !gs_g_parked(a) || a->waitsince != b->waitsince ||
	    a->sched_pc != b->sched_pc || a->sched_sp != b->sched_sp)
		return false;
	size_t na, nb;
	const gs_waitobj *wa = gs_rt_waits(r1, a, &na), *wb = gs_rt_waits(r2, b, &nb);
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (wa[i].kind != wb[i].kind || wa[i].addr != wb[i].addr)
			return false;
	return same_stack(r1, a, r2, b);
}

/* The first counter that moved, or NULL: everything that changes with traffic. */
static const char *what_moved(const gs_stream *a, const gs_stream *b)
{
	if (a->state != b->state)
		return "state";
	if (a->queued_messages != b->queued_messages)
		return "recv queue";
	if (a->in.known && b->in.known &&
	    (a->in.pending_data != b->in.pending_data ||
	     a->in.pending_update != b->in.pending_update || a->in.limit != b->in.limit ||
	     a->in.delta != b->in.delta))
		return "inbound window";
	if (a->wq_known && b->wq_known && a->wq_quota != b->wq_quota)
		return "write quota";
	if (a->out.known && b->out.known &&
	    (a->out.bytes_outstanding != b->out.bytes_outstanding ||
	     a->out.queued_items != b->out.queued_items || a->out.state != b->out.state))
		return "outbound (loopy writer)";
	if (a->header_received != b->header_received || a->header_sent != b->header_sent)
		return "headers";
	if (a->has_status != b->has_status || a->recv_err != b->recv_err)
		return "end of stream";
	return NULL;
}

/* Whether every goroutine of the stream (the union of both moments) keeps one park. */
static bool goroutines_parked(gs_rt *r1, const gs_stream *a, gs_rt *r2, const gs_stream *b)
{
	size_t n = a->ngoroutines + b->ngoroutines;
	bool parked = true;
	for (size_t i = 0; i < n && parked; i++) { /* a goroutine of both is asked twice */
		uint64_t id = i < a->ngoroutines ? a->goroutines[i] : b->goroutines[i - a->ngoroutines];
		gs_goroutine *x = gs_rt_find_goroutine(r1, id);
		gs_goroutine *y = gs_rt_find_goroutine(r2, id);
		parked = x && y && same_park(r1, x, r2, y);
	}
	return parked;
}

static long find_stream(gs_grpc *g, const gs_transport *t, const gs_stream *s)
{
	for (size_t i = 0; i < gs_grpc_nstreams(g); i++) {
		const gs_stream *c = gs_grpc_stream(g, i);
		if (c->id == s->id && c->side == s->side &&
		    gs_grpc_transport(g, c->transport)->addr == t->addr)
			return (long)i;
	}
	return -1;
}

static void add_stream(gs_diff *d, gs_stream_diff sd)
{
	if ((d->nstreams & (d->nstreams - 1)) == 0) {
		void *v = gs_reallocarray(d->streams, d->nstreams ? 2 * d->nstreams : 8, sizeof sd, NULL);
		if (!v) {
			d->nomem = true;
			return;
		}
		d->streams = v;
	}
	d->streams[d->nstreams++] = sd;
}

static void add_goroutine(gs_diff *d, gs_goroutine_diff gd)
{
	if ((d->ngoroutines & (d->ngoroutines - 1)) == 0) {
		void *v = gs_reallocarray(d->goroutines, d->ngoroutines ? 2 * d->ngoroutines : 8,
					  sizeof gd, NULL);
		if (!v) {
			d->nomem = true;
			return;
		}
		d->goroutines = v;
	}
	d->goroutines[d->ngoroutines++] = gd;
}

int gs_diff_models(gs_rt *r1, gs_grpc *g1, gs_rt *r2, gs_grpc *g2, gs_diff *out, gs_err *err)
{
	memset(out, 0, sizeof *out);
	if (!same_process(r1, r2))
		return gs_errf(err, GS_EINPUT, "%s and %s are not snapshots of one process (no "
			       "thread in common)", gs_target_name(gs_rt_target(r1)),
			       gs_target_name(gs_rt_target(r2)));
	for (size_t i = 0; i < gs_grpc_nstreams(g1); i++) {
		const gs_stream *a = gs_grpc_stream(g1, i);
		long k = find_stream(g2, gs_grpc_transport(g1, a->transport), a);
		if (k < 0) {
			add_stream(out, (gs_stream_diff){GS_CH_GONE, (long)i, -1, ""});
			continue;
		}
		const gs_stream *b = gs_grpc_stream(g2, (size_t)k);
		const char *moved = what_moved(a, b);
		if (!moved && !goroutines_parked(r1, a, r2, b))
			moved = "its goroutines parked anew";
		add_stream(out, (gs_stream_diff){moved ? GS_CH_PROGRESSED : GS_CH_UNCHANGED, (long)i, k,
						 moved ? moved : ""});
	}
	for (size_t k = 0; k < gs_grpc_nstreams(g2); k++) {
		const gs_stream *b = gs_grpc_stream(g2, k);
		if (find_stream(g1, gs_grpc_transport(g2, b->transport), b) < 0)
			add_stream(out, (gs_stream_diff){GS_CH_NEW, -1, (long)k, ""});
	}
	for (size_t i = 0; i < gs_rt_ngoroutines(r1); i++) {
		gs_goroutine *a = gs_rt_goroutine(r1, i);
		gs_goroutine *b = gs_rt_find_goroutine(r2, a->goid);
		long k = -1;
		for (size_t j = 0; b && j < gs_rt_ngoroutines(r2) && k < 0; j++)
			if (gs_rt_goroutine(r2, j) == b)
				k = (long)j;
		enum gs_change c = !b ? GS_CH_GONE : same_park(r1, a, r2, b) ? GS_CH_PARKED : GS_CH_MOVED;
		add_goroutine(out, (gs_goroutine_diff){a->goid, c, (long)i, k});
	}
	for (size_t k = 0; k < gs_rt_ngoroutines(r2); k++) {
		gs_goroutine *b = gs_rt_goroutine(r2, k);
		if (!gs_rt_find_goroutine(r1, b->goid))
			add_goroutine(out, (gs_goroutine_diff){b->goid, GS_CH_NEW, -1, (long)k});
	}
	if (out->nomem) {
		gs_diff_free(out);
		return gs_errf(err, GS_EINTERNAL, "diff: out of memory");
	}
	return 0;
}

void gs_diff_free(gs_diff *d)
{
	free(d->streams);
	free(d->goroutines);
	memset(d, 0, sizeof *d);
}
