/* Rules for three production hangs that involve no application wait on a stream:
 *  - a transport reader throttled by its control buffer while the loopy writer is parked
 *    writing to a socket the peer does not read (reader-throttled, writer-blocked);
 *  - a server in GracefulStop (or Stop) waiting for handlers that do not return;
 *  - abandoned client streams (grpc/abandoned.c), which block nothing by a goroutine of their
 *    own: they are findings, and evidence in the verdicts they explain (stream quota, a
 *    handler waiting for its client).
 *
 * Facts used, all from the runtime and gRPC models: a goroutine's wait objects and their
 * owners (GS_OWN_THROTTLE: the transport's trfChan; GS_OWN_SOCKET: its pollDesc, waited on
 * for writing), its wait reason and stack functions; per transport side, addresses, fd,
 * state, GOAWAY flags, control-buffer item count, queued transport response frames,
 * throttled flag, stream slice, MAX_CONCURRENT_STREAMS and waiting NewStream count; per
 * stream side, id, method, state, handler, context, header_received, abandoned. */
#include <stdio.h>
#include <string.h>

#include "../util/alloc.h"
#include "diag_internal.h"

/* grpc-go's maxQueuedTransportResponseFrames: 50 in every version read (1.33 to 1.81). */
#define MAX_QUEUED_RESPONSE_FRAMES 50

/* The transport whose object of this role gr waits on, or -1. */
static long waits_on(gs_diag *d, gs_goroutine *gr, gs_owner_role want, int kind)
{
	size_t nw;
	const gs_waitobj *w = gs_rt_waits(d->rt, gr, &nw);
	for (size_t k = 0; k < nw; k++) {
		long s, t;
		gs_owner_role role;
		if (kind >= 0 && w[k].kind != (enum gs_wait_kind)kind)
			continue;
		if (gs_grpc_owner_of(d->g, w[k].addr, &s, &t, &role) && role == want)
			return t;
	}
	return -1;
}

static bool has_frame(gs_diag *d, gs_goroutine *gr, const char *needle)
{
	size_t n;
	const gs_frame *f = gs_rt_stack(d->rt, gr, &n);
	for (size_t i = 0; i < n; i++)
		if (strstr(f[i].function, needle))
			return true;
	return false;
}

static const char *tside(const gs_transport *t)
{
	return t->side == GS_CLIENT ? "client" : "server";
}

/* The goroutine of transport t parked writing to its socket, or 0. */
static uint64_t socket_writer(gs_diag *d, const gs_transport *t, int64_t *fd)
{
	for (size_t i = 0; i < t->ngoroutines; i++) {
		gs_goroutine *gr = gs_rt_find_goroutine(d->rt, t->goroutines[i]);
		size_t nw;
		const gs_waitobj *w = gr ? gs_rt_waits(d->rt, gr, &nw) : NULL;
		for (size_t k = 0; w && k < nw; k++)
			if (w[k].kind == GS_WAIT_NETPOLL_WRITE && w[k].addr == t->pollDesc) {
				*fd = w[k].fd;
				return gr->goid;
			}
	}
	return 0;
}

static void evidence_cbuf(gs_verdict *v, const gs_transport *t)
{
	gs_verdict_evidence(v, "control buffer: %llu items queued, %lld of them transport response frames "
			       "(SETTINGS and PING acknowledgements, RST_STREAM); at %d the reader "
			       "stops reading the connection until the writer drains them%s",
			    (unsigned long long)t->cbuf_items, (long long)t->cbuf_response_frames,
			    MAX_QUEUED_RESPONSE_FRAMES, t->throttled ? " — it has stopped" : "");
}

/* The transport at the other end of t's socket in this process, or -1. */
static long mirror(gs_diag *d, const gs_transport *t)
{
	if (!strcmp(t->local, "?") || !strcmp(t->remote, "?"))
		return -1;
	for (size_t i = 0; i < gs_grpc_ntransports(d->g); i++) {
		const gs_transport *o = gs_grpc_transport(d->g, i);
		if (o != t && !strcmp(o->local, t->remote) && !strcmp(o->remote, t->local))
			return (long)i;
	}
	return -1;
}

static void evidence_peer_socket(gs_diag *d, gs_verdict *v, const gs_transport *t)
{
	long m = mirror(d, t);
	if (m >= 0)
		gs_verdict_evidence(v, "the other end is %s transport 0x%llx in this process: its reader "
				       "does not take what this socket sends",
				    tside(gs_grpc_transport(d->g, (size_t)m)),
				    (unsigned long long)gs_grpc_transport(d->g, (size_t)m)->addr);
	else
		gs_verdict_evidence(v, "the other end (%s) is not a gRPC transport of this process: "
				       "a peer that stopped reading TCP, or one in another process",
				    t->remote);
}

/* The reader parked on the throttle channel of its transport's control buffer. */
static void throttle_rule(gs_diag *d, gs_goroutine *gr, long ti, gs_verdict *v)
{
	const gs_transport *t = gs_grpc_transport(d->g, (size_t)ti);
	int64_t fd = t->fd;
	uint64_t writer = socket_writer(d, t, &fd);
	v->code = "reader-throttled";
	gs_verdict_set_summary(v, "the reader of %s transport %s -> %s is throttled by its control buffer (%lld transport "
		 "response frames queued; it throttles at %d)%s",
		 tside(t), t->local, t->remote, (long long)t->cbuf_response_frames,
		 MAX_QUEUED_RESPONSE_FRAMES,
		 writer ? ": the loopy writer is blocked writing to the socket — the peer does not read TCP"
			: ": the loopy writer has not drained them");
	gs_verdict_evidence(v, "%s transport 0x%llx %s -> %s, fd %lld", tside(t), (unsigned long long)t->addr,
			    t->local, t->remote, (long long)t->fd);
	evidence_cbuf(v, t);
	const gs_frame *top = gs_rt_user_frame(d->rt, gr);
	gs_verdict_evidence(v, "parked in (*controlBuffer).throttle, called from %s: reads nothing more "
			       "from the connection (no frame, no stream data) until the queue drains",
			    top ? top->function : "?");
	if (writer) {
		gs_verdict_evidence(v, "loopy writer: goroutine %llu, parked writing to socket fd %lld (IO wait): "
				       "the TCP send buffer is full",
				    (unsigned long long)writer, (long long)fd);
		evidence_peer_socket(d, v, t);
		gs_verdict_blame(v, writer);
	} else {
		for (size_t i = 0; i < t->ngoroutines; i++)
			if (t->goroutines[i] != gr->goid)
				gs_verdict_blame(v, t->goroutines[i]);
	}
}

/* The loopy writer parked in a socket write. */
static void socket_write_rule(gs_diag *d, long ti, int64_t fd, gs_verdict *v)
{
	const gs_transport *t = gs_grpc_transport(d->g, (size_t)ti);
	v->code = "writer-blocked";
	gs_verdict_set_summary(v, "the loopy writer of %s transport %s -> %s is blocked writing to the socket (fd %lld): "
		 "the TCP send buffer is full — the peer at %s does not read",
		 tside(t), t->local, t->remote, (long long)fd, t->remote);
	gs_verdict_evidence(v, "%s transport 0x%llx %s -> %s, fd %lld", tside(t), (unsigned long long)t->addr,
			    t->local, t->remote, (long long)t->fd);
	evidence_cbuf(v, t);
	if (t->throttled)
		for (size_t i = 0; i < t->ngoroutines; i++) {
			gs_goroutine *o = gs_rt_find_goroutine(d->rt, t->goroutines[i]);
			if (o && waits_on(d, o, GS_OWN_THROTTLE, -1) >= 0)
				gs_verdict_evidence(v, "its reader, goroutine %llu, is throttled: it waits for this "
						       "writer", (unsigned long long)o->goid);
		}
	if (t->loopy_known)
		gs_verdict_evidence(v, "connection send quota: %u bytes (flow control is not what stops it)",
				    t->send_quota);
	evidence_peer_socket(d, v, t);
	long m = mirror(d, t);
	if (m >= 0) {
		const gs_transport *o = gs_grpc_transport(d->g, (size_t)m);
		for (size_t i = 0; i < o->ngoroutines; i++)
			gs_verdict_blame(v, o->goroutines[i]);
	}
}

bool gs_hang_blocked(gs_diag *d, gs_goroutine *gr)
{
	return waits_on(d, gr, GS_OWN_THROTTLE, -1) >= 0;
}

bool gs_hang_rule(gs_diag *d, gs_goroutine *gr, gs_verdict *v)
{
	long ti = waits_on(d, gr, GS_OWN_THROTTLE, -1);
	if (ti >= 0) {
		throttle_rule(d, gr, ti, v);
		return true;
	}
	ti = waits_on(d, gr, GS_OWN_SOCKET, GS_WAIT_NETPOLL_WRITE);
	if (ti >= 0 && has_frame(d, gr, "(*loopyWriter)")) {
		int64_t fd = gs_grpc_transport(d->g, (size_t)ti)->fd;
		socket_writer(d, gs_grpc_transport(d->g, (size_t)ti), &fd);
		socket_write_rule(d, ti, fd, v);
		return true;
	}
	return false;
}

/* GracefulStop and Stop wait for every connection to close (sync.Cond), for Serve to return
 * or, with WaitForHandlers, for the handlers (sync.WaitGroup); a draining connection closes
 * when its last stream ends, so the handlers still running are what it waits for. */
void gs_stop_rule(gs_diag *d, gs_goroutine *gr, gs_verdict *v)
{
	bool graceful = has_frame(d, gr, "grpc.(*Server).GracefulStop");
	const char *reason = gs_rt_wait_reason(d->rt, gr);
	size_t nconn = 0, nhandlers = 0, nstreams = 0;
	v->code = "transport-closing";
	if (strstr(reason, "Cond"))
		gs_verdict_evidence(v, "%s waits in sync.Cond.Wait for every server connection to close; a "
				       "draining connection closes when its last stream ends",
				    graceful ? "GracefulStop" : "Stop");
	else
		gs_verdict_evidence(v, "%s waits (%s) for Serve to return or, with WaitForHandlers, for "
				       "every handler to return",
				    graceful ? "GracefulStop" : "Stop", *reason ? reason : "parked");
	for (size_t i = 0; i < gs_grpc_ntransports(d->g); i++) {
		const gs_transport *t = gs_grpc_transport(d->g, i);
		if (t->side != GS_SERVER)
			continue;
		nconn++;
		nstreams += t->nstreams;
		gs_verdict_evidence(v, "server transport 0x%llx %s -> %s is %s%s: %zu stream%s open",
				    (unsigned long long)t->addr, t->local, t->remote,
				    t->state == GS_TR_CLOSING ? "closing" : t->state == GS_TR_DRAINING || t->goaway_sent ? "draining" : "reachable",
				    t->goaway_sent ? ", GOAWAY sent" : "", t->nstreams, t->nstreams == 1 ? "" : "s");
	}
	for (size_t i = 0; i < gs_grpc_nstreams(d->g); i++) {
		const gs_stream *s = gs_grpc_stream(d->g, i);
		if (s->side != GS_SERVER)
			continue;
		if (!s->handler) {
			gs_verdict_evidence(v, "server stream %u %s: open, no handler goroutine found", s->id,
					    s->method);
			continue;
		}
		nhandlers++;
		gs_verdict_evidence(v, "server stream %u %s: handler goroutine %llu has not returned%s",
				    s->id, s->method, (unsigned long long)s->handler,
				    s->ctx_known && !s->ctx.done
					    ? "; its context is not done (draining cancels no stream)"
					    : "");
		gs_verdict_blame(v, s->handler);
	}
	gs_verdict_set_summary(v, "the server is in %s and waits for %zu handler%s that %s not returned (%zu stream%s open on "
		 "%zu connection%s): it ends only when they do",
		 graceful ? "GracefulStop" : "Stop", nhandlers, nhandlers == 1 ? "" : "s",
		 nhandlers == 1 ? "has" : "have", nstreams, nstreams == 1 ? "" : "s", nconn,
		 nconn == 1 ? "" : "s");
}

static void evidence_abandoned_basis(gs_verdict *v)
{
	gs_verdict_evidence(v, "no goroutine refers to it: none waits on it (grpc's own stream watcher "
			       "aside) and no goroutine's stack holds the stream, its ClientStream or its "
			       "attempt (references kept only in heap objects or globals are not seen)");
}

void gs_evidence_abandoned(gs_diag *d, gs_verdict *v, long si)
{
	const gs_stream *s = gs_grpc_stream(d->g, (size_t)si);
	if (!s->abandoned)
		return;
	gs_verdict_evidence(v, "client stream %u %s is abandoned: open, its context never cancelled%s, "
			       "no goroutine refers to it — nothing will end it",
			    s->id, s->method, s->ctx.has_deadline ? " (it has a deadline)" : " and without deadline");
}

/* The goroutines waiting for stream quota on transport t. */
static void blame_quota_waiters(gs_diag *d, const gs_transport *t, gs_verdict *v)
{
	for (size_t i = 0; i < t->ngoroutines; i++) {
		gs_goroutine *gr = gs_rt_find_goroutine(d->rt, t->goroutines[i]);
		if (gr && waits_on(d, gr, GS_OWN_STREAM_QUOTA, -1) >= 0)
			gs_verdict_blame(v, gr->goid);
	}
}

/* NULL when out of memory. */
static gs_verdict *new_finding(gs_diagnosis *out)
{
	gs_verdict *v = gs_reallocarray(out->findings, out->nfindings + 1, sizeof *v, NULL);
	if (!v)
		return NULL;
	out->findings = v;
	gs_verdict *f = &out->findings[out->nfindings++];
	memset(f, 0, sizeof *f);
	return f;
}

void gs_hang_findings(gs_diag *d, gs_diagnosis *out)
{
	/* The linked model has each stream's context and its abandoned mark. */
	for (size_t i = 0; i < gs_grpc_nstreams(d->g); i++) {
		const gs_stream *s = gs_grpc_stream(d->g, i);
		if (!s->abandoned)
			continue;
		const gs_transport *t = gs_grpc_transport(d->g, s->transport);
		gs_verdict *f = new_finding(out);
		if (!f) {
			d->nomem = true;
			return;
		}
		f->code = "abandoned-stream";
		f->stream = (long)i;
		gs_verdict_set_summary(f, "client stream %u %s to %s is abandoned: open, counted against the peer's "
			 "MAX_CONCURRENT_STREAMS, its context never cancelled, and no goroutine refers to it",
			 s->id, s->method, t->remote);
		gs_verdict_evidence(f, "client transport 0x%llx %s -> %s: %zu stream%s open of the peer's "
				       "MAX_CONCURRENT_STREAMS %u, %u NewStream call%s waiting for quota",
				    (unsigned long long)t->addr, t->local, t->remote, t->nstreams,
				    t->nstreams == 1 ? "" : "s", t->max_concurrent, t->waiting_streams,
				    t->waiting_streams == 1 ? "" : "s");
		gs_verdict_evidence(f, "stream state %s, %llu message%s queued, response headers %s",
				    s->state == GS_STREAM_ACTIVE ? "active" : s->state == GS_STREAM_WRITE_DONE ? "write-done" : "read-done",
				    (unsigned long long)s->queued_messages, s->queued_messages == 1 ? "" : "s",
				    s->header_received ? "received" : "not received");
		if (s->ctx.has_deadline)
			gs_verdict_evidence(f, "context not done; deadline at unix time %lld ends it then",
					    (long long)(s->ctx.deadline_unix_ns / 1000000000));
		else
			gs_verdict_evidence(f, "context not done and without deadline: only a cancel, CloseSend "
					       "with a read to the end, or the connection's end would free it");
		evidence_abandoned_basis(f);
		long p = d->peer[i];
		if (p >= 0) {
			const gs_stream *ps = gs_grpc_stream(d->g, (size_t)p);
			gs_verdict_evidence(f, "peer: server stream %u in this process (0x%llx)%s", ps->id,
					    (unsigned long long)ps->addr, ps->handler ? ", its handler still runs" : "");
			if (ps->handler)
				gs_verdict_blame(f, ps->handler);
		}
		blame_quota_waiters(d, t, f);
		d->nomem |= f->nomem;
	}
}
