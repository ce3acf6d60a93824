/* Keepalive facts added to a verdict about a stream: is the peer maybe gone (keepalive off,
 * nothing read while the goroutine waited: a half-open connection nothing will notice), is
 * it alive by keepalive's account, did keepalive close the transport, and was a GOAWAY
 * about too many pings (the client's keepalive Time against the server's MinTime).
 *
 * Facts used (for tests from hand-built facts): the verdict's code and stream; the stream's
 * transport: side, state, keepalive_enabled / ka.time (on or off), ka.timeout, ka.last_read,
 * ka.min_time, ka.ping_strikes, goaway_received, goaway_reason, goaway_code, goaway_debug,
 * pollDesc and goroutines (the reader parked reading its socket); the waiting goroutine's and
 * the reader's waitsince; the snapshot's time (gs_grpc_snapshot_time); the stream's pairing
 * (d->peer, d->rpeer, d->how) and the paired stream's transport.
 */
#include <stdio.h>
#include <string.h>

#include "diag_internal.h"

#define MAX_PING_STRIKES 2 /* grpc-go: more than this and the server sends too_many_pings */
#define ERR_ENHANCE_YOUR_CALM 11

/* The goroutine parked reading the transport's socket (its reader), or NULL. */
static gs_goroutine *socket_reader(gs_diag *d, const gs_transport *t)
{
	for (size_t i = 0; t->pollDesc && i < t->ngoroutines; i++) {
		gs_goroutine *gr = gs_rt_find_goroutine(d->rt, t->goroutines[i]);
		size_t nw;
		const gs_waitobj *w = gr ? gs_rt_waits(d->rt, gr, &nw) : NULL;
		for (size_t k = 0; w && k < nw; k++)
			if (w[k].kind == GS_WAIT_NETPOLL_READ && w[k].addr == t->pollDesc)
				return gr;
	}
	return NULL;
}

/* The transport at the other end of stream si, in this snapshot or the peer's; NULL when
 * it is not known. */
static const gs_transport *peer_transport(gs_diag *d, long si)
{
	if (d->peer[si] >= 0) {
		const gs_stream *p = gs_grpc_stream(d->g, (size_t)d->peer[si]);
		return gs_grpc_transport(d->g, p->transport);
	}
	gs_diag *r = gs_remote(d, si);
	if (r) {
		const gs_stream *p = gs_grpc_stream(r->g, (size_t)d->rpeer[si]);
		return gs_grpc_transport(r->g, p->transport);
	}
	return NULL;
}

static bool peer_known(gs_diag *d, long si)
{
	return d->peer[si] >= 0 || (d->rpeer && d->rpeer[si] >= 0) || d->how[si] == GS_PAIR_AMBIGUOUS ||
	       (d->rhow && d->rhow[si] == GS_PAIR_AMBIGUOUS);
}

/* Seconds from the transport's last read to the snapshot; -1 when either is not known. */
static double idle_seconds(gs_diag *d, const gs_transport *t, const char **how)
{
	int64_t snap = gs_grpc_snapshot_time(d->g, how);
	if (!snap || t->ka.last_read <= 0)
		return -1;
	return (double)(snap - t->ka.last_read) / 1e9;
}

static void keepalive_params(const gs_transport *t, char *buf, size_t cap)
{
	char a[32], b[32];
	gs_fmt_duration(t->ka.time, a, sizeof a);
	gs_fmt_duration(t->ka.timeout, b, sizeof b);
	snprintf(buf, cap, "ping after %s without reads, ack within %s", a, b);
}

/* Keepalive off, the peer not in hand: has anything arrived since the goroutine began to
 * wait? The transport's reader parked on the socket before the goroutine was first seen
 * waiting (both clocks are the runtime's: waitsince, set at the first GC that saw each
 * parked) has read nothing since. */
static void keepalive_off(gs_diag *d, gs_goroutine *gr, const gs_transport *t, gs_verdict *v)
{
	gs_goroutine *r = socket_reader(d, t);
	if (r && r->waitsince > 0 && gr->waitsince > 0 && r->waitsince <= gr->waitsince) {
		int64_t mins = gs_rt_wait_minutes(d->rt, gr);
		char since[96];
		if (mins > 0)
			snprintf(since, sizeof since, " (at least %lld minute%s ago)", (long long)mins, mins == 1 ? "" : "s");
		else
			since[0] = 0;
		gs_verdict_evidence(v, "keepalive is off on this transport, and its reader (goroutine %llu) has been "
				       "parked on the socket since before this goroutine was first seen waiting%s: "
				       "nothing has arrived since — the peer may be gone (a half-open connection), and "
				       "without keepalive nothing will notice", (unsigned long long)r->goid, since);
		gs_verdict_add_summary(v, "%s", "; keepalive off and nothing read while it waits: the peer may be gone (half-open connection)");
	} else {
		gs_verdict_evidence(v, "keepalive is off on this transport: if the peer is gone, nothing will notice%s",
				    r ? " (how long the reader has been idle is not recorded)" : "");
	}
}

/* Keepalive on: the last read against Time and Timeout. */
static void keepalive_on(gs_diag *d, const gs_transport *t, gs_verdict *v, bool closing)
{
	char kp[128];
	keepalive_params(t, kp, sizeof kp);
	const char *how = "";
	double idle = idle_seconds(d, t, &how);
	if (idle < 0) {
		gs_verdict_evidence(v, "keepalive is on (%s); when the transport last read is %s", kp,
				    t->ka.last_read < 0 ? "not known" : "not known against the snapshot's time");
		return;
	}
	double limit = t->ka.time > 0 && t->ka.timeout > 0 && t->ka.time != GS_INFINITY
			       ? (double)(t->ka.time + t->ka.timeout) / 1e9 : -1;
	if (limit > 0 && idle >= limit)
		gs_verdict_evidence(v, "keepalive is on (%s) and nothing was read for %.1f s before the snapshot (%s), "
				       "more than Time + Timeout: %s", kp, idle, how,
				    closing ? "an unanswered keepalive ping closes the transport — the peer is gone or unreachable"
					    : "a keepalive ping went unanswered and the transport is about to close");
	else
		gs_verdict_evidence(v, "keepalive is on (%s): the last read was %.1f s before the snapshot (%s), within "
				       "Time + Timeout — by keepalive's account the peer is alive", kp, idle, how);
}

static bool too_many_pings_goaway(const gs_transport *t)
{
	return t->side == GS_CLIENT && t->goaway_received &&
	       (t->goaway_reason == GS_GOAWAY_TOO_MANY_PINGS ||
		(t->goaway_code == ERR_ENHANCE_YOUR_CALM && strstr(t->goaway_debug, "too_many_pings")));
}

/* GOAWAY ENHANCE_YOUR_CALM "too_many_pings": the client's Time against the server's MinTime,
 * from whichever transports of the connection are in hand. */
static void too_many_pings(gs_diag *d, long si, const gs_transport *t, gs_verdict *v)
{
	const gs_transport *c = NULL, *s = NULL, *p = peer_transport(d, si);
	if (too_many_pings_goaway(t)) {
		c = t;
		s = p && p->side == GS_SERVER ? p : NULL;
	} else if (t->side == GS_SERVER && t->ka.ping_strikes > MAX_PING_STRIKES) {
		s = t;
		c = p && p->side == GS_CLIENT ? p : NULL;
	} else {
		return;
	}
	char ct[32] = "?", mt[32] = "?", strikes[48] = "", sum[160];
	if (c) {
		if (gs_keepalive_on(c))
			gs_fmt_duration(c->ka.time, ct, sizeof ct);
		else
			snprintf(ct, sizeof ct, "off");
	}
	if (s) {
		gs_fmt_duration(s->ka.min_time, mt, sizeof mt);
		if (s->ka.ping_strikes >= 0)
			snprintf(strikes, sizeof strikes, " after %d ping strikes (more than %d)",
				 s->ka.ping_strikes, MAX_PING_STRIKES);
	}
	gs_verdict_evidence(v, "too_many_pings: the server sent GOAWAY ENHANCE_YOUR_CALM \"too_many_pings\"%s — "
			       "the client's keepalive Time is %s%s, the server's EnforcementPolicy MinTime %s%s: "
			       "the client must not ping more often than MinTime (raise its Time, or lower the "
			       "server's MinTime)",
			    strikes,
			    c ? ct : "not known", c ? "" : " (the client is not in this snapshot)",
			    s ? mt : "not known", s ? "" : " (the server is not in this snapshot; grpc-go's default is 5m0s)");
	if (t->side == GS_CLIENT) {
		snprintf(sum, sizeof sum, "; the GOAWAY was too_many_pings (client keepalive Time %s, server MinTime %s)",
			 c ? ct : "?", s ? mt : "?");
		gs_verdict_add_summary(v, "%s", sum);
	}
}

void gs_keepalive_rules(gs_diag *d, gs_goroutine *gr, gs_verdict *v)
{
	if (v->stream < 0 || !v->code)
		return;
	const gs_stream *s = gs_grpc_stream(d->g, (size_t)v->stream);
	const gs_transport *t = gs_grpc_transport(d->g, s->transport);
	if (t->implausible || t->unreadable)
		return;
	bool silent = strcmp(v->code, "peer-silent") == 0;
	bool closing = strcmp(v->code, "transport-closing") == 0 && t->state == GS_TR_CLOSING;
	if (silent && !peer_known(d, v->stream)) {
		if (gs_keepalive_on(t))
			keepalive_on(d, t, v, false);
		else
			keepalive_off(d, gr, t, v);
	} else if (closing && gs_keepalive_on(t)) {
		keepalive_on(d, t, v, true);
	}
	too_many_pings(d, v->stream, t, v);
}
