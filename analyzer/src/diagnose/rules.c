/* The verdict rules, one goroutine at a time. Facts come from the runtime and gRPC models;
 * every verdict carries the evidence it rests on. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "diag_internal.h"

#define MAX_CHAIN 64
#define MAX_CO_WAITERS 16 /* named per verdict; the rest are counted */

void gs_verdict_evidence(gs_verdict *v, const char *fmt, ...)
{
	if (v->brief)
		return;
	char buf[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char **e = gs_reallocarray(v->evidence, v->nevidence + 1, sizeof *e, NULL);
	char *s = e ? strdup(buf) : NULL;
	if (e)
		v->evidence = e;
	if (!s) {
		v->nomem = true;
		return;
	}
	v->evidence[v->nevidence++] = s;
}

void gs_verdict_blame(gs_verdict *v, uint64_t goid)
{
	if (goid == v->goid)
		return;
	for (size_t i = 0; i < v->nchain; i++)
		if (v->chain[i] == goid)
			return;
	uint64_t *c = gs_reallocarray(v->chain, v->nchain + 1, sizeof *c, NULL);
	if (!c) {
		v->nomem = true;
		return;
	}
	v->chain = c;
	v->chain[v->nchain++] = goid;
	if (v->co) {
		bool *co = gs_reallocarray(v->co, v->nchain, sizeof *co, NULL);
		if (!co) { /* the chain's marks lost: the diagnosis fails */
			free(v->co);
			v->co = NULL;
			v->nomem = true;
			return;
		}
		v->co = co;
		v->co[v->nchain - 1] = false;
	}
}

void gs_verdict_blame_co(gs_verdict *v, uint64_t goid)
{
	size_t before = v->nchain;
	gs_verdict_blame(v, goid);
	if (v->nchain == before)
		return;
	if (!v->co && !(v->co = calloc(v->nchain, sizeof *v->co))) {
		v->nomem = true;
		return;
	}
	v->co[v->nchain - 1] = true;
}

void gs_verdict_blame_peer(gs_verdict *v, const gs_diag *r, uint64_t goid)
{
	for (size_t i = 0; i < v->npeer_chain; i++)
		if (v->peer_chain[i] == goid && v->peer_snap[i] == r->self)
			return;
	uint64_t *c = gs_reallocarray(v->peer_chain, v->npeer_chain + 1, sizeof *c, NULL);
	if (c)
		v->peer_chain = c;
	size_t *ps = c ? gs_reallocarray(v->peer_snap, v->npeer_chain + 1, sizeof *ps, NULL) : NULL;
	if (!ps) {
		v->nomem = true;
		return;
	}
	v->peer_snap = ps;
	v->peer_snap[v->npeer_chain] = r->self;
	v->peer_chain[v->npeer_chain++] = goid;
}

/* Summaries are built with vsnprintf: a long method name truncates, never overruns. */
static void put_summary(gs_verdict *v, size_t keep, const char *fmt, va_list ap)
{
	if (v->brief)
		return;
	char buf[GS_SUMMARY_MAX];
	size_t n = v->summary ? strlen(v->summary) : 0;
	n = n < keep ? n : keep;
	memcpy(buf, v->summary ? v->summary : "", n);
	vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	free(v->summary);
	v->summary = gs_strdup(buf, NULL);
	v->nomem |= !v->summary; /* the diagnosis fails */
}

void gs_verdict_set_summary(gs_verdict *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put_summary(v, 0, fmt, ap);
	va_end(ap);
}

void gs_verdict_add_summary(gs_verdict *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put_summary(v, GS_SUMMARY_MAX - 1, fmt, ap);
	va_end(ap);
}

/* What a goroutine waits on, in gRPC terms. */
typedef struct grpc_waits {
	long recv, send, header, ctx;    /* stream indexes or -1 */
	long quota, closing;             /* transport indexes or -1 */
	bool any_grpc;
} grpc_waits;

static grpc_waits classify(gs_diag *d, gs_goroutine *gr)
{
	grpc_waits r = {-1, -1, -1, -1, -1, -1, false};
	size_t nw;
	const gs_waitobj *w = gs_rt_waits(d->rt, gr, &nw);
	for (size_t k = 0; k < nw; k++) {
		long s, t;
		gs_owner_role role;
		if (!gs_grpc_owner_of(d->g, w[k].addr, &s, &t, &role))
			continue;
		r.any_grpc = true;
		switch (role) {
		case GS_OWN_RECV_BUFFER: r.recv = s; break;
		case GS_OWN_WRITE_QUOTA: r.send = s; break;
		case GS_OWN_HEADER: r.header = s; break;
		case GS_OWN_STREAM_CTX: r.ctx = s; break;
		case GS_OWN_STREAM_QUOTA: r.quota = t; break;
		case GS_OWN_GOAWAY: r.closing = t; break;
		default: break;
		}
	}
	return r;
}

#define FN_MEMO_BITS 12

/* strstr(fn, needle), remembered by the two pointers (names live as long as the model). */
static bool fn_has(gs_diag *d, const char *fn, const char *needle)
{
	if (!d->fn_memo) /* no memory: every name is searched */
		d->fn_memo = calloc((size_t)1 << FN_MEMO_BITS, sizeof *d->fn_memo);
	if (!d->fn_memo)
		return strstr(fn, needle) != NULL;
	uint64_t h = ((uint64_t)(uintptr_t)fn ^ ((uint64_t)(uintptr_t)needle << 7)) *
		     0x9E3779B97F4A7C15ull;
	struct gs_fn_memo *e = &d->fn_memo[h >> (64 - FN_MEMO_BITS)];
	if (e->fn != fn || e->needle != needle)
		*e = (struct gs_fn_memo){fn, needle, strstr(fn, needle) != NULL};
	return e->has;
}

static bool stack_has(gs_diag *d, gs_goroutine *gr, const char *needle)
{
	size_t n;
	const gs_frame *f = gs_rt_stack(d->rt, gr, &n);
	for (size_t i = 0; i < n; i++)
		if (fn_has(d, f[i].function, needle))
			return true;
	return false;
}

static long handled_stream(gs_diag *d, uint64_t goid)
{
	return gs_handled_stream(d, goid);
}

static const char *side(const gs_stream *s)
{
	return s->side == GS_CLIENT ? "client" : "server";
}

static int64_t window_left(const gs_stream *s)
{
	return (int64_t)s->in.limit + s->in.delta - s->in.pending_data - s->in.pending_update;
}

static bool transport_unhealthy(const gs_transport *t)
{
	return t->state != GS_TR_REACHABLE || t->goaway_received || t->goaway_sent;
}

/* Really going down: closing, or a client stream the peer's GOAWAY refused (its id above
 * the GOAWAY's last stream id). A draining transport (GOAWAY sent or received) is not: its
 * open streams run on until they end by themselves. */
static bool stream_going_down(const gs_stream *s, const gs_transport *t)
{
	if (t->state == GS_TR_CLOSING)
		return true;
	return s->side == GS_CLIENT && t->goaway_received && s->id > t->goaway_last_id;
}

/* The draining, as evidence for a verdict about the stream itself. */
static void evidence_draining(gs_verdict *v, const gs_stream *s, const gs_transport *t)
{
	if (!transport_unhealthy(t))
		return;
	if (s->side == GS_CLIENT && t->goaway_received)
		gs_verdict_evidence(v, "the transport drains after a GOAWAY from the peer (last stream id %u%s%s): "
				       "stream %u is below it and keeps running — draining ends no open stream",
				    t->goaway_last_id, t->goaway_debug[0] ? "; " : "", t->goaway_debug, s->id);
	else if (s->side == GS_SERVER && t->goaway_sent)
		gs_verdict_evidence(v, "the transport drains after sending GOAWAY (streams up to %u run on): "
				       "stream %u keeps running — draining ends no open stream",
				    t->max_stream_id, s->id);
	else
		gs_verdict_evidence(v, "the transport is draining: open streams run on");
}

static void evidence_transport(gs_verdict *v, const gs_transport *t)
{
	gs_verdict_evidence(v, "%s transport 0x%llx %s -> %s is %s%s%s", t->side == GS_CLIENT ? "client" : "server",
			    (unsigned long long)t->addr, t->local, t->remote,
			    t->state == GS_TR_REACHABLE ? "reachable" : t->state == GS_TR_CLOSING ? "closing" : "draining",
			    t->goaway_received ? ", GOAWAY received" : "",
			    t->goaway_sent ? ", GOAWAY sent" : "");
}

static void evidence_context(gs_verdict *v, const gs_stream *s)
{
	if (!s->ctx_known)
		gs_verdict_evidence(v, "stream context: unreadable");
	else if (s->ctx.done)
		gs_verdict_evidence(v, "stream context is done: %s", s->ctx.err);
	else if (!s->ctx.has_deadline)
		gs_verdict_evidence(v, "no deadline on the call: it will wait forever");
	else
		gs_verdict_evidence(v, "deadline at unix time %lld", (long long)(s->ctx.deadline_unix_ns / 1000000000));
}

static void blame_stream(gs_diag *d, gs_verdict *v, long si)
{
	uint64_t ids[MAX_CHAIN];
	size_t n = gs_stream_principals(d, si, ids, MAX_CHAIN);
	for (size_t i = 0; i < n; i++)
		gs_verdict_blame(v, ids[i]);
}

/* How a pairing was made, when addresses alone did not make it. */
static const char *how_note(uint8_t how)
{
	switch (how) {
	case GS_PAIR_PIPE: return ", the other end of the same in-memory pipe";
	case GS_PAIR_STATE:
		return ", paired among the transports on the same socket address by stream ids, "
		       "methods and windows (the only one that agrees)";
	default: return "";
	}
}

static void blame_peer(gs_diag *d, gs_verdict *v, long si)
{
	long p = d->peer[si];
	long rp = d->rpeer ? d->rpeer[si] : -1;
	const gs_stream *s = gs_grpc_stream(d->g, (size_t)si);
	const gs_transport *t = gs_grpc_transport(d->g, s->transport);
	if (p < 0 && rp >= 0) {
		gs_diag *r = gs_remote(d, si);
		const gs_stream *ps = gs_grpc_stream(r->g, (size_t)rp);
		gs_verdict_evidence(v, "peer: %s stream %u in the peer snapshot (0x%llx)%s", side(ps), ps->id,
				    (unsigned long long)ps->addr, how_note(d->rhow[si]));
		uint64_t ids[MAX_CHAIN];
		size_t n = gs_stream_principals(r, rp, ids, MAX_CHAIN);
		for (size_t i = 0; i < n; i++)
			gs_verdict_blame_peer(v, r, ids[i]);
		return;
	}
	if (p < 0 && (d->how[si] == GS_PAIR_AMBIGUOUS || (d->rhow && d->rhow[si] == GS_PAIR_AMBIGUOUS))) {
		bool here = d->how[si] == GS_PAIR_AMBIGUOUS;
		gs_verdict_evidence(v, "peer: ambiguous — %u %s transports %s on %s look alike (same "
				       "socket address, stream ids, methods and windows): not followed",
				    here ? d->nalike[si] : d->rnalike[si],
				    s->side == GS_CLIENT ? "server" : "client",
				    here ? "in this process" : "in the peer snapshot",
				    s->side == GS_CLIENT ? t->remote : t->local);
		return;
	}
	if (p < 0) {
		gs_verdict_evidence(v, "the peer of this stream is not in this snapshot (another process: "
				       "give its core with --peer)");
		return;
	}
	const gs_stream *ps = gs_grpc_stream(d->g, (size_t)p);
	gs_verdict_evidence(v, "peer: %s stream %u in this process (0x%llx)%s", side(ps), ps->id,
			    (unsigned long long)ps->addr, how_note(d->how[si]));
	gs_evidence_abandoned(d, v, p);
	blame_stream(d, v, p);
}

static void describe_stream(gs_verdict *v, const gs_stream *s, const char *what)
{
	gs_verdict_add_summary(v, "%s %s stream %u %s", what, side(s), s->id, s->method);
}

/* Never judge on memory that could not be read: name the object and the address instead. */
static bool unreadable_rule(gs_verdict *v, const gs_stream *s, const gs_transport *t,
			    const char *what)
{
	if (!s->unreadable && !t->unreadable)
		return false;
	v->code = "unknown";
	describe_stream(v, s, what);
	gs_verdict_add_summary(v, "%s", ", but memory its verdict rests on is unreadable");
	if (s->unreadable)
		gs_verdict_evidence(v, "stream 0x%llx: unreadable at 0x%llx", (unsigned long long)s->addr,
				    (unsigned long long)s->unreadable);
	if (t->unreadable)
		gs_verdict_evidence(v, "transport 0x%llx: unreadable at 0x%llx",
				    (unsigned long long)t->addr, (unsigned long long)t->unreadable);
	return true;
}

/* header: the goroutine waits for the response headers (waitOnHeader: watch and subscribe
 * servers often send none until the first event), not for a message. */
static bool receive_rule(gs_diag *d, gs_goroutine *gr, long si, bool header, gs_verdict *v)
{
	const gs_stream *s = gs_grpc_stream(d->g, (size_t)si);
	const gs_transport *t = gs_grpc_transport(d->g, s->transport);
	v->stream = si;
	evidence_transport(v, t);
	if (unreadable_rule(v, s, t, "waits to receive on"))
		return true;
	gs_verdict_evidence(v, "recv buffer: %llu message%s queued, %u bytes unread%s",
			    (unsigned long long)s->queued_messages, s->queued_messages == 1 ? "" : "s",
			    s->in.pending_data, s->recv_err ? ", end of stream queued" : "");
	if (s->in.known)
		gs_verdict_evidence(v, "inbound window: %lld of %u bytes free", (long long)window_left(s),
				    s->in.limit + s->in.delta);
	evidence_context(v, s);
	if (stream_going_down(s, t)) {
		v->code = "transport-closing";
		describe_stream(v, s, "waits to receive on");
		gs_verdict_add_summary(v, "%s", " while its transport is going away");
		blame_peer(d, v, si);
		return true;
	}
	evidence_draining(v, s, t);
	if (s->ctx_known && s->ctx.done) {
		v->code = "context-done";
		describe_stream(v, s, "still waits on");
		gs_verdict_add_summary(v, "%s", " although its context is done");
		return true;
	}
	if (t->throttled) {
		v->code = "reader-throttled";
		describe_stream(v, s, "waits on");
		gs_verdict_add_summary(v, "%s", ": the transport reader is throttled by the control buffer");
		gs_verdict_evidence(v, "control buffer: %llu items, %lld transport response frames queued",
				    (unsigned long long)t->cbuf_items, (long long)t->cbuf_response_frames);
		for (size_t i = 0; i < t->ngoroutines; i++)
			gs_verdict_blame(v, t->goroutines[i]);
		return true;
	}
	if (s->queued_messages > 0 || (s->in.known && window_left(s) <= 0)) {
		v->code = "unknown";
		describe_stream(v, s, "waits to receive on");
		gs_verdict_add_summary(v, "%s", " although data is queued or the window is closed");
		return true;
	}
	v->code = "peer-silent";
	if (header) {
		gs_verdict_evidence(v, "no response headers yet: the call waits for the server's "
				       "first reply");
		describe_stream(v, s, "waits for the response headers of");
		gs_verdict_add_summary(v, "%s", transport_unhealthy(t)
				? ": none received, transport draining but the stream alive — the peer has not answered"
				: ": none received, transport healthy — the peer has not answered");
	} else {
		/* Headers or a message: a client's first receive waits in waitOnHeader (above);
		 * once headers came, it waits in the recv buffer for the next message. */
		if (s->side == GS_CLIENT)
			gs_verdict_evidence(v, "%s", s->header_received
					? "response headers received: the call waits for a message, not for the headers"
					: "no response headers yet: the call waits for the server's first reply");
		describe_stream(v, s, "waits to receive on");
		gs_verdict_add_summary(v, "%s", transport_unhealthy(t)
				? ": nothing queued, window open, transport draining but the stream alive — the peer has not sent"
				: ": nothing queued, window open, transport healthy — the peer has not sent");
	}
	blame_peer(d, v, si);
	(void)gr;
	return true;
}

/* The loopy writer of a transport parked writing to its socket: TCP send buffer full. */
static uint64_t loopy_in_write(gs_diag *d, const gs_transport *t)
{
	for (size_t i = 0; i < t->ngoroutines; i++) {
		gs_goroutine *gr = gs_rt_find_goroutine(d->rt, t->goroutines[i]);
		size_t nw;
		const gs_waitobj *w = gr ? gs_rt_waits(d->rt, gr, &nw) : NULL;
		for (size_t k = 0; w && k < nw; k++)
			if (w[k].kind == GS_WAIT_NETPOLL_WRITE && w[k].addr == t->pollDesc)
				return gr->goid;
	}
	return 0;
}

static bool send_rule(gs_diag *d, long si, gs_verdict *v)
{
	const gs_stream *s = gs_grpc_stream(d->g, (size_t)si);
	const gs_transport *t = gs_grpc_transport(d->g, s->transport);
	v->stream = si;
	evidence_transport(v, t);
	if (unreadable_rule(v, s, t, "waits to send on"))
		return true;
	if (s->wq_known)
		gs_verdict_evidence(v, "write quota: %d bytes (Send blocks at <= 0)", s->wq_quota);
	if (s->out.known)
		gs_verdict_evidence(v, "loopy writer: stream %s, %lld bytes outstanding of the peer's %u window, %llu frames queued",
				    s->out.state == GS_OS_WAITING_QUOTA ? "waits for the peer's WINDOW_UPDATE"
				    : s->out.state == GS_OS_ACTIVE ? "active" : "empty",
				    (long long)s->out.bytes_outstanding, t->oiws,
				    (unsigned long long)s->out.queued_items);
	if (t->loopy_known)
		gs_verdict_evidence(v, "connection send quota: %u bytes", t->send_quota);
	evidence_context(v, s);
	if (stream_going_down(s, t)) {
		v->code = "transport-closing";
		describe_stream(v, s, "waits to send on");
		gs_verdict_add_summary(v, "%s", " while its transport is going away");
		return true;
	}
	evidence_draining(v, s, t);
	if (s->ctx_known && s->ctx.done) {
		v->code = "context-done";
		describe_stream(v, s, "still waits to send on");
		gs_verdict_add_summary(v, "%s", " although its context is done");
		return true;
	}
	uint64_t writer = loopy_in_write(d, t);
	if (writer) {
		v->code = "writer-blocked";
		describe_stream(v, s, "waits to send on");
		gs_verdict_add_summary(v, "%s", ": the loopy writer is blocked writing to the socket (TCP send buffer full)");
		gs_verdict_blame(v, writer);
		return true;
	}
	bool quota_out = s->wq_known && s->wq_quota <= 0;
	bool stream_window = s->out.known && s->out.state == GS_OS_WAITING_QUOTA;
	bool conn_window = t->loopy_known && t->send_quota == 0;
	if (!quota_out && !stream_window && !conn_window) {
		v->code = "unknown";
		describe_stream(v, s, "waits to send on");
		gs_verdict_add_summary(v, "%s", " but its write quota and windows are open");
		return true;
	}
	v->code = "send-flow-control";
	describe_stream(v, s, "waits to send on");
	gs_verdict_add_summary(v, "%s", stream_window || conn_window
				    ? ": the peer's flow-control window is exhausted — the peer is not reading"
				    : ": the write quota is used up and the loopy writer cannot drain it — the peer is not reading");
	blame_peer(d, v, si);
	return true;
}

static bool quota_rule(gs_diag *d, long ti, gs_verdict *v)
{
	const gs_transport *t = gs_grpc_transport(d->g, (size_t)ti);
	evidence_transport(v, t);
	gs_verdict_evidence(v, "peer's MAX_CONCURRENT_STREAMS %u, stream quota left %lld, %u NewStream call%s waiting",
			    t->max_concurrent, (long long)t->stream_quota, t->waiting_streams,
			    t->waiting_streams == 1 ? "" : "s");
	gs_verdict_evidence(v, "%zu streams hold the quota on this transport", t->nstreams);
	if (t->unreadable) {
		v->code = "unknown";
		gs_verdict_set_summary(v, "opening a stream to %s waits on its transport, but the transport's state is unreadable",
			    t->remote);
		gs_verdict_evidence(v, "transport 0x%llx: unreadable at 0x%llx", (unsigned long long)t->addr,
				    (unsigned long long)t->unreadable);
		return true;
	}
	v->code = transport_unhealthy(t) ? "transport-closing" : "stream-quota";
	gs_verdict_set_summary(v,
		 "opening a stream to %s waits for the peer's MAX_CONCURRENT_STREAMS (%u streams open, none free)",
		 t->remote, t->max_concurrent);
	for (size_t i = 0; i < t->nstreams; i++)
		gs_evidence_abandoned(d, v, (long)(t->first_stream + i));
	for (size_t i = 0; i < t->nstreams; i++) {
		uint64_t ids[4];
		size_t n = gs_stream_principals(d, (long)(t->first_stream + i), ids, 4);
		for (size_t k = 0; k < n; k++)
			gs_verdict_blame(v, ids[k]);
	}
	return true;
}

static bool picker_rule(gs_diag *d, gs_goroutine *gr, gs_verdict *v)
{
	v->code = "no-ready-transport";
	size_t nclient = 0;
	for (size_t i = 0; i < gs_grpc_ntransports(d->g); i++)
		nclient += gs_grpc_transport(d->g, i)->side == GS_CLIENT;
	gs_verdict_set_summary(v,
		 "waits in the picker for a READY subchannel (wait-for-ready call): no connection is ready");
	const gs_frame *top = gs_rt_user_frame(d->rt, gr);
	gs_verdict_evidence(v, "parked in grpc.(*pickerWrapper).pick, called from %s", top ? top->function : "?");
	gs_verdict_evidence(v, "%zu client transport%s in this process", nclient, nclient == 1 ? "" : "s");
	gs_cc_info cc;
	if (gs_grpc_find_clientconn(d->g, gr, &cc)) {
		gs_verdict_evidence(v, "ClientConn 0x%llx target %s, state %s", (unsigned long long)cc.addr,
				    cc.target, cc.state);
		gs_verdict_evidence(v, "subchannels: %s", cc.subchannels);
		if (cc.last_error[0])
			gs_verdict_evidence(v, "last connection error: %s", cc.last_error);
		gs_verdict_add_summary(v, " (target %s, %s)", cc.target, cc.state);
	}
	return true;
}

static const char *primitive(gs_diag *d, gs_goroutine *gr, char *buf, size_t cap)
{
	size_t nw;
	const gs_waitobj *w = gs_rt_waits(d->rt, gr, &nw);
	const char *r = gs_rt_wait_reason(d->rt, gr);
	if (nw && w[0].kind == GS_WAIT_SEMA)
		snprintf(buf, cap, "%s on 0x%llx", strncmp(r, "sync.", 5) == 0 ? r : "semaphore",
			 (unsigned long long)w[0].addr);
	else if (nw && (w[0].kind == GS_WAIT_CHAN_RECV || w[0].kind == GS_WAIT_CHAN_SEND))
		snprintf(buf, cap, "%s on channel 0x%llx", w[0].kind == GS_WAIT_CHAN_RECV ? "receive" : "send",
			 (unsigned long long)w[0].addr);
	else if (nw && (w[0].kind == GS_WAIT_SELECT_RECV || w[0].kind == GS_WAIT_SELECT_SEND))
		snprintf(buf, cap, "select on %zu channel%s (first 0x%llx)", nw, nw == 1 ? "" : "s",
			 (unsigned long long)w[0].addr);
	else if (nw && (w[0].kind == GS_WAIT_NETPOLL_READ || w[0].kind == GS_WAIT_NETPOLL_WRITE))
		snprintf(buf, cap, "IO %s on fd %lld", w[0].kind == GS_WAIT_NETPOLL_READ ? "read" : "write",
			 (long long)w[0].fd);
	else if (*r)
		snprintf(buf, cap, "%s", r);
	else
		snprintf(buf, cap, "%s", gs_rt_status_name(gr->status));
	return buf;
}

/* A goroutine a gRPC wait depends on, blocked outside gRPC (a handler, an application
 * goroutine holding a stream). */
static void outside_rule(gs_diag *d, gs_goroutine *gr, long si, gs_verdict *v)
{
	char prim[160];
	const gs_frame *top = gs_rt_user_frame(d->rt, gr);
	v->stream = si;
	if (si >= 0) {
		const gs_stream *s = gs_grpc_stream(d->g, (size_t)si);
		/* Is the other end of this stream blocked sending into it? */
		long p = d->peer[si];
		gs_diag *pd = d;
		if (p < 0 && d->rpeer && d->rpeer[si] >= 0) {
			p = d->rpeer[si];
			pd = gs_remote(d, si);
		}
		bool peer_sending = false;
		if (p >= 0) {
			uint64_t ids[MAX_CHAIN];
			size_t n = gs_stream_principals(pd, p, ids, MAX_CHAIN);
			for (size_t i = 0; i < n && !peer_sending; i++) {
				gs_goroutine *pg = gs_rt_find_goroutine(pd->rt, ids[i]);
				grpc_waits pw = pg ? classify(pd, pg) : (grpc_waits){-1, -1, -1, -1, -1, -1, false};
				peer_sending = pw.send == p;
			}
		}
		bool unread = s->queued_messages > 0 || s->in.pending_data > 0;
		gs_verdict_evidence(v, "%s stream %u %s: %llu message%s queued, %u bytes unread, inbound window %lld free",
				    side(s), s->id, s->method, (unsigned long long)s->queued_messages,
				    s->queued_messages == 1 ? "" : "s", s->in.pending_data,
				    (long long)window_left(s));
		if (unread && (window_left(s) <= 0 || peer_sending)) {
			v->code = "app-not-reading";
			gs_verdict_set_summary(v,
				 "%s stream %u %s holds %u received bytes that no goroutine reads; this goroutine (%s) "
				 "is elsewhere: %s — so the peer's send is blocked by flow control",
				 side(s), s->id, s->method, s->in.pending_data, top ? top->function : "?",
				 primitive(d, gr, prim, sizeof prim));
			return;
		}
		if (s->ctx_known && s->ctx.done) {
			v->code = "context-done";
			gs_verdict_set_summary(v,
				 "the handler of %s stream %u %s still runs although the stream's context is done (%s); "
				 "it waits on %s in %s", side(s), s->id, s->method, s->ctx.err,
				 primitive(d, gr, prim, sizeof prim), top ? top->function : "?");
			return;
		}
	}
	v->code = "handler-blocked";
	primitive(d, gr, prim, sizeof prim);
	if (si >= 0) {
		const gs_stream *s = gs_grpc_stream(d->g, (size_t)si);
		gs_verdict_set_summary(v, "%s %s stream %u %s is blocked outside gRPC: %s in %s",
			 s->side == GS_SERVER && s->handler == gr->goid ? "the handler of" : "a goroutine holding",
			 side(s), s->id, s->method, prim, top ? top->function : "?");
	} else {
		gs_verdict_set_summary(v, "blocked outside gRPC: %s in %s", prim,
			 top ? top->function : "?");
	}
	if (top) {
		/* The user's own line: the physical frame's position, not that of the library
		 * code inlined into it (which the user location shows, as delve does). */
		size_t n;
		const gs_frame *f = gs_rt_stack(d->rt, gr, &n), *site = top;
		for (size_t i = 0; i < n; i++)
			if (!f[i].inlined && strcmp(f[i].function, top->function) == 0) {
				site = &f[i];
				break;
			}
		gs_verdict_evidence(v, "at %s (%s:%d)", site->function, site->file, site->line);
	}
	size_t nw;
	const gs_waitobj *w = gs_rt_waits(d->rt, gr, &nw);
	bool sema = nw && w[0].kind == GS_WAIT_SEMA;
	bool chan = nw && (w[0].kind == GS_WAIT_CHAN_RECV || w[0].kind == GS_WAIT_CHAN_SEND);
	if (sema || chan) {
		/* Go records no mutex owner and no channel's would-be sender: name the other
		 * goroutines parked on the same object, which the runtime does show. */
		const struct gs_parked *p;
		size_t np = gs_parked_on(d, w[0].addr, &p);
		size_t named = 0, more = 0;
		for (size_t i = 0; i < np; i++) {
			if (p[i].goid == gr->goid || p[i].sema != sema)
				continue;
			if (named == MAX_CO_WAITERS) {
				more++;
				continue;
			}
			named++;
			gs_verdict_evidence(v, "goroutine %llu waits on the same %s",
					    (unsigned long long)p[i].goid, sema ? "object" : "channel");
			gs_verdict_blame_co(v, p[i].goid);
		}
		if (more)
			gs_verdict_evidence(v, "... and %zu more goroutines wait on it", more);
	}
	if (sema) {
		gs_verdict_evidence(v, "the runtime does not record which goroutine holds it");
	}
}

/* Parked in the transport's own receive, send or stream-opening code: a gRPC wait even when
 * the object it waits on could not be tied to a stream (a corrupt map, an unreadable stream). */
static bool in_transport_wait(gs_diag *d, gs_goroutine *gr)
{
	const gs_frame *top = gs_rt_user_frame(d->rt, gr);
	if (!top)
		return false;
	static const char *const fns[] = {
		"transport.(*recvBufferReader).read", "transport.(*http2Client).Write",
		"transport.(*http2Client).write", "transport.(*http2Server).Write",
		"transport.(*http2Server).write", "transport.(*http2Client).NewStream",
		"transport.(*ClientStream).waitOnHeader", "transport.(*Stream).waitOnHeader",
	};
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
		if (fn_has(d, top->function, fns[i]))
			return true;
	return false;
}

bool gs_is_grpc_blocked(gs_diag *d, gs_goroutine *gr)
{
	if (!gs_g_parked(gr))
		return false;
	grpc_waits w = classify(d, gr);
	if (w.recv >= 0 || w.send >= 0 || w.header >= 0 || w.quota >= 0)
		return true;
	if (handled_stream(d, gr->goid) >= 0 || in_transport_wait(d, gr) || gs_hang_blocked(d, gr))
		return true;
	return stack_has(d, gr, "grpc.(*pickerWrapper).pick") ||
	       stack_has(d, gr, "grpc.(*Server).GracefulStop") ||
	       stack_has(d, gr, "grpc.(*Server).Stop");
}

void gs_judge(gs_diag *d, gs_goroutine *gr, gs_verdict *v, bool reached)
{
	memset(v, 0, sizeof *v);
	v->goid = gr->goid;
	v->stream = -1;
	v->reached = reached;
	v->brief = d->brief;
	int64_t mins = gs_rt_wait_minutes(d->rt, gr);
	grpc_waits w = classify(d, gr);
	if (w.quota >= 0)
		quota_rule(d, w.quota, v);
	else if (stack_has(d, gr, "grpc.(*pickerWrapper).pick"))
		picker_rule(d, gr, v);
	else if (w.recv >= 0 || w.header >= 0)
		receive_rule(d, gr, w.recv >= 0 ? w.recv : w.header, w.recv < 0, v);
	else if (w.send >= 0)
		send_rule(d, w.send, v);
	else if (gs_hang_rule(d, gr, v))
		;
	else if (stack_has(d, gr, "grpc.(*Server).GracefulStop") || stack_has(d, gr, "grpc.(*Server).Stop"))
		gs_stop_rule(d, gr, v);
	else if (gs_g_parked(gr) || reached) {
		long si = handled_stream(d, gr->goid);
		if (si < 0) /* an application goroutine reached through a chain: which stream? */
			for (size_t i = 0; i < gs_grpc_nstreams(d->g) && si < 0; i++)
				for (size_t k = 0; k < d->nholders[i] && si < 0; k++)
					if (d->holders[i][k] == gr->goid)
						si = (long)i;
		if (si < 0 && in_transport_wait(d, gr)) {
			/* Never guess: say what was seen and what could not be read. */
			const gs_frame *top = gs_rt_user_frame(d->rt, gr);
			v->code = "unknown";
			gs_verdict_set_summary(v, "waits in gRPC (%s) on an object no readable stream or transport owns",
				    top->function);
			size_t nw;
			const gs_waitobj *wo = gs_rt_waits(d->rt, gr, &nw);
			for (size_t k = 0; k < nw; k++)
				gs_verdict_evidence(v, "waits on %s at 0x%llx, owner unknown",
						    wo[k].kind == GS_WAIT_SEMA ? "a semaphore" : "channel",
						    (unsigned long long)wo[k].addr);
			for (size_t i = 0; i < gs_grpc_ntransports(d->g); i++) {
				const gs_transport *t = gs_grpc_transport(d->g, i);
				if (t->problem[0])
					gs_verdict_evidence(v, "transport 0x%llx: %s", (unsigned long long)t->addr,
							    t->problem);
			}
			const gs_unreadable_transport *ut;
			size_t nut = gs_grpc_unreadable_transports(d->g, &ut);
			for (size_t i = 0; i < nut; i++)
				gs_verdict_evidence(v, "possible %s transport 0x%llx: unreadable at 0x%llx",
						    ut[i].server ? "server" : "client",
						    (unsigned long long)ut[i].addr, (unsigned long long)ut[i].at);
			for (size_t i = 0, k = 0; i < gs_grpc_nstreams(d->g) && k < 8; i++) {
				const gs_stream *s = gs_grpc_stream(d->g, i);
				if (s->unreadable && ++k)
					gs_verdict_evidence(v, "stream 0x%llx: unreadable at 0x%llx",
							    (unsigned long long)s->addr,
							    (unsigned long long)s->unreadable);
			}
			if (gs_target_missing_bytes(gs_rt_target(d->rt)))
				gs_verdict_evidence(v, "the core is truncated: %llu bytes of memory are missing",
						    (unsigned long long)gs_target_missing_bytes(gs_rt_target(d->rt)));
		} else if (si >= 0 || reached || w.any_grpc)
			outside_rule(d, gr, si, v);
		else {
			v->code = "unknown";
			gs_verdict_set_summary(v, "not waiting in gRPC or on a gRPC object (%s)",
				 gs_rt_wait_reason(d->rt, gr));
		}
	} else {
		v->code = "unknown";
		gs_verdict_set_summary(v, "not blocked: %s", gs_rt_status_name(gr->status));
	}
	gs_keepalive_rules(d, gr, v);
	if (mins > 0)
		gs_verdict_evidence(v, "waiting for %lld minutes", (long long)mins);
	if (gr->status == GS_G_LEAKED)
		gs_leaked_rule(d, gr, v);
}
