#include "streams.h"
#include "liveness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *side_name(enum gs_side s)
{
	return s == GS_CLIENT ? "client" : "server";
}

static void json_ids(gs_strbuf *out, const uint64_t *v, size_t n)
{
	gs_strbuf_putc(out, '[');
	for (size_t i = 0; i < n; i++)
		gs_strbuf_printf(out, "%s%llu", i ? "," : "", (unsigned long long)v[i]);
	gs_strbuf_putc(out, ']');
}

/* Bytes the peer may still send on the stream before it must wait for us. */
static int64_t inbound_window_left(const gs_flow_in *in)
{
	return (int64_t)in->limit + in->delta - in->pending_data - in->pending_update;
}

static void json_stream(const gs_grpc *g, const gs_stream *s, gs_strbuf *out)
{
	(void)g;
	gs_strbuf_printf(out, "{\"id\":%u,\"method\":", s->id);
	gs_strbuf_json_str(out, s->method);
	gs_strbuf_printf(out, ",\"side\":\"%s\",\"state\":\"%s\",\"address\":\"0x%llx\","
			      "\"detached\":%s",
			 side_name(s->side), gs_stream_state_name(s->state),
			 (unsigned long long)s->addr, s->detached ? "true" : "false");
	gs_strbuf_printf(out, ",\"recv\":{\"queued_messages\":%llu,\"queued_bytes\":%u,"
			      "\"error_queued\":%s,\"chan\":\"0x%llx\"}",
			 (unsigned long long)s->queued_messages, s->in.pending_data,
			 s->recv_err ? "true" : "false", (unsigned long long)s->recv_chan);
	if (s->in.known)
		gs_strbuf_printf(out, ",\"inbound\":{\"limit\":%u,\"pending_data\":%u,"
				      "\"pending_update\":%u,\"delta\":%u,\"window_left\":%lld}",
				 s->in.limit, s->in.pending_data, s->in.pending_update, s->in.delta,
				 (long long)inbound_window_left(&s->in));
	else
		gs_strbuf_puts(out, ",\"inbound\":null");
	gs_strbuf_puts(out, ",\"outbound\":{");
	if (s->wq_known)
		gs_strbuf_printf(out, "\"write_quota\":%d,\"write_quota_chan\":\"0x%llx\"", s->wq_quota,
				 (unsigned long long)s->wq_chan);
	else
		gs_strbuf_puts(out, "\"write_quota\":null");
	if (s->out.known)
		gs_strbuf_printf(out, ",\"loopy_state\":\"%s\",\"bytes_outstanding\":%lld,"
				      "\"queued_frames\":%llu",
				 gs_outstream_state_name(s->out.state), (long long)s->out.bytes_outstanding,
				 (unsigned long long)s->out.queued_items);
	gs_strbuf_puts(out, "}");
	if (s->ctx_known) {
		gs_strbuf_printf(out, ",\"context\":{\"done\":%s,\"err\":",
				 s->ctx.done ? "true" : "false");
		gs_strbuf_json_str(out, s->ctx.err);
		if (s->ctx.has_deadline)
			gs_strbuf_printf(out, ",\"deadline_unix_ns\":%lld",
					 (long long)s->ctx.deadline_unix_ns);
		else
			gs_strbuf_puts(out, ",\"deadline_unix_ns\":null");
		gs_strbuf_puts(out, "}");
	} else {
		gs_strbuf_puts(out, ",\"context\":null");
	}
	if (s->side == GS_CLIENT) {
		gs_strbuf_printf(out, ",\"header_received\":%s,\"abandoned\":%s",
				 s->header_received ? "true" : "false", s->abandoned ? "true" : "false");
		if (s->has_status) {
			gs_strbuf_printf(out, ",\"status\":{\"code\":%d,\"message\":", s->status_code);
			gs_strbuf_json_str(out, s->status_message);
			gs_strbuf_puts(out, "}");
		} else {
			gs_strbuf_puts(out, ",\"status\":null");
		}
	} else {
		gs_strbuf_printf(out, ",\"header_sent\":%s", s->header_sent ? "true" : "false");
	}
	gs_strbuf_puts(out, ",\"goroutines\":");
	json_ids(out, s->goroutines, s->ngoroutines);
	if (s->handler)
		gs_strbuf_printf(out, ",\"handler\":%llu", (unsigned long long)s->handler);
	else
		gs_strbuf_puts(out, ",\"handler\":null");
	if (s->problem[0]) {
		gs_strbuf_puts(out, ",\"problem\":");
		gs_strbuf_json_str(out, s->problem);
	}
	gs_strbuf_puts(out, "}");
}

/* Only what plain TCP does not say: wrappers crossed, a non-TCP kind, where the descent
 * stopped. */
static void json_conn(const gs_transport *t, gs_strbuf *out)
{
	bool plain = strcmp(t->conn_kind, "tcp") == 0 && !t->via[0] && !t->opaque[0];
	if (plain)
		return;
	gs_strbuf_puts(out, ",\"connection\":{\"kind\":");
	gs_strbuf_json_str(out, t->conn_kind[0] ? t->conn_kind : "unknown");
	gs_strbuf_puts(out, ",\"via\":");
	gs_strbuf_json_str(out, t->via);
	if (t->opaque[0]) {
		gs_strbuf_puts(out, ",\"not_followed\":");
		gs_strbuf_json_str(out, t->opaque);
	}
	gs_strbuf_puts(out, "}");
}

static void json_goaway(const gs_transport *t, gs_strbuf *out)
{
	if (!t->goaway_received && !t->goaway_sent)
		return;
	if (t->side == GS_CLIENT) {
		gs_strbuf_printf(out, ",\"goaway\":{\"last_stream_id\":%u,\"reason\":\"%s\"",
				 t->goaway_last_id, gs_goaway_reason_name(t->goaway_reason));
		if (t->goaway_code >= 0)
			gs_strbuf_printf(out, ",\"code\":%lld", (long long)t->goaway_code);
		gs_strbuf_puts(out, ",\"debug\":");
		gs_strbuf_json_str(out, t->goaway_debug);
		gs_strbuf_puts(out, "}");
	} else {
		gs_strbuf_printf(out, ",\"goaway\":{\"max_stream_id\":%u}", t->max_stream_id);
	}
}

/* The text lines of a transport's GOAWAY state, when it has one. */
static void text_goaway(const gs_transport *t, gs_strbuf *out)
{
	if (t->side == GS_CLIENT && t->goaway_received) {
		gs_strbuf_printf(out, "  GOAWAY received: last stream id %u (%s), reason %s",
				 t->goaway_last_id, t->state == GS_TR_CLOSING ? "the transport is closing"
								  : "streams up to it run on",
				 gs_goaway_reason_name(t->goaway_reason));
		if (t->goaway_debug[0]) {
			gs_strbuf_puts(out, "; ");
			gs_strbuf_puts(out, t->goaway_debug);
		}
		gs_strbuf_putc(out, '\n');
	} else if (t->side == GS_SERVER && t->goaway_sent) {
		if (t->state == GS_TR_CLOSING)
			gs_strbuf_puts(out, "  GOAWAY sent; the transport is closing\n");
		else
			gs_strbuf_printf(out, "  GOAWAY sent: draining; streams up to %u run on, no new "
					      "ones accepted\n", t->max_stream_id);
	}
}

static void json_transport(const gs_grpc *g, const gs_transport *t, gs_strbuf *out)
{
	gs_strbuf_printf(out, "{\"address\":\"0x%llx\",\"side\":\"%s\",\"local\":",
			 (unsigned long long)t->addr, side_name(t->side));
	gs_strbuf_json_str(out, t->local);
	gs_strbuf_puts(out, ",\"remote\":");
	gs_strbuf_json_str(out, t->remote);
	gs_strbuf_printf(out, ",\"fd\":%lld,\"state\":\"%s\",\"goaway_received\":%s,"
			      "\"goaway_sent\":%s,\"goaway_reason\":%u",
			 (long long)t->fd, gs_transport_state_name(t->state),
			 t->goaway_received ? "true" : "false", t->goaway_sent ? "true" : "false",
			 t->goaway_reason);
	json_conn(t, out);
	json_goaway(t, out);
	if (t->implausible)
		gs_strbuf_puts(out, ",\"implausible\":true");
	else if (t->side == GS_CLIENT)
		gs_strbuf_printf(out, ",\"max_concurrent_streams\":%u,\"stream_quota\":%lld,"
				      "\"waiting_for_quota\":%u,\"next_stream_id\":%u",
				 t->max_concurrent, (long long)t->stream_quota, t->waiting_streams,
				 t->next_id);
	else
		gs_strbuf_printf(out, ",\"max_concurrent_streams\":%u", t->max_concurrent);
	if (t->conn_in_known && !t->implausible)
		gs_strbuf_printf(out, ",\"conn_inbound\":{\"limit\":%u,\"unacked\":%u}",
				 t->conn_in_limit, t->conn_in_unacked);
	if (t->loopy_known && !t->implausible)
		gs_strbuf_printf(out, ",\"conn_outbound\":{\"send_quota\":%u,\"initial_window\":%u}",
				 t->send_quota, t->oiws);
	if (!t->implausible)
		gs_strbuf_printf(out, ",\"control_buffer\":{\"items\":%llu,\"response_frames\":%lld,"
				      "\"reader_throttled\":%s,\"writer_waiting\":%s}",
				 (unsigned long long)t->cbuf_items, (long long)t->cbuf_response_frames,
				 t->throttled ? "true" : "false", t->consumer_waiting ? "true" : "false");
	if (t->problem[0]) { /* what could not be read, or why its values are not shown */
		gs_strbuf_puts(out, ",\"problem\":");
		gs_strbuf_json_str(out, t->problem);
	}
	if (!t->implausible)
		gs_liveness_json(g, t, out);
	gs_strbuf_printf(out, ",\"keepalive\":%s,\"goroutines\":",
			 t->keepalive_enabled ? "true" : "false");
	json_ids(out, t->goroutines, t->ngoroutines);
	gs_strbuf_puts(out, ",\"streams\":[");
	for (size_t i = 0; i < t->nstreams; i++) {
		if (i)
			gs_strbuf_putc(out, ',');
		json_stream(g, gs_grpc_stream(g, t->first_stream + i), out);
	}
	gs_strbuf_puts(out, "]}");
}

static void text_transport(const gs_grpc *g, const gs_transport *t, gs_strbuf *out)
{
	char e1[256], e2[256];
	gs_strbuf_printf(out, "%s transport 0x%llx  %s -> %s  fd %lld  %s", side_name(t->side),
			 (unsigned long long)t->addr, GS_SAFE(t->local, e1), GS_SAFE(t->remote, e2),
			 (long long)t->fd,
			 gs_transport_state_name(t->state));
	if (t->goaway_received)
		gs_strbuf_puts(out, "  GOAWAY received");
	if (t->goaway_sent)
		gs_strbuf_puts(out, "  GOAWAY sent");
	if (strcmp(t->conn_kind, "pipe") == 0 || strcmp(t->conn_kind, "bufconn") == 0)
		gs_strbuf_printf(out, "  in memory (%s)",
				 t->conn_kind[0] == 'p' ? "net.Pipe" : "grpc test/bufconn");
	if (t->via[0] && !t->opaque[0])
		gs_strbuf_printf(out, "  via %s", t->via);
	if (t->opaque[0])
		gs_strbuf_printf(out, "  via %s%s%s (not followed)", t->via, t->via[0] ? " > " : "",
				 t->opaque);
	gs_strbuf_putc(out, '\n');
	text_goaway(t, out);
	if (t->implausible)
		gs_strbuf_printf(out, "  %zu streams; its other values are not shown\n", t->nstreams);
	else if (t->side == GS_CLIENT)
		gs_strbuf_printf(out, "  %zu streams; peer allows %u concurrent, quota left %lld, "
				      "%u waiting for quota; next id %u\n",
				 t->nstreams, t->max_concurrent, (long long)t->stream_quota,
				 t->waiting_streams, t->next_id);
	else
		gs_strbuf_printf(out, "  %zu streams; max concurrent %u\n", t->nstreams,
				 t->max_concurrent);
	if ((t->conn_in_known || t->loopy_known) && !t->implausible)
		gs_strbuf_printf(out, "  connection window: in %u limit, %u unacked; out %u send quota\n",
				 t->conn_in_limit, t->conn_in_unacked, t->send_quota);
	if (!t->implausible)
		gs_strbuf_printf(out, "  control buffer: %llu items%s%s\n",
				 (unsigned long long)t->cbuf_items,
				 t->throttled ? ", READER THROTTLED" : "",
				 t->consumer_waiting ? ", writer idle" : "");
	if (!t->implausible)
		gs_liveness_text(g, t, out);
	if (t->ngoroutines) {
		gs_strbuf_puts(out, "  goroutines:");
		for (size_t i = 0; i < t->ngoroutines; i++)
			gs_strbuf_printf(out, " %llu", (unsigned long long)t->goroutines[i]);
		gs_strbuf_putc(out, '\n');
	}
	if (t->problem[0])
		gs_strbuf_printf(out, "  problem: %s\n", t->problem);
	if (!t->nstreams)
		return;
	gs_strbuf_printf(out, "  %-6s %-40s %-10s %8s %10s %10s %10s  %s\n", "ID", "METHOD", "STATE",
			 "RECV-MSG", "RECV-BYTES", "IN-WINDOW", "WRITE-QUO", "GOROUTINES");
	for (size_t i = 0; i < t->nstreams; i++) {
		const gs_stream *s = gs_grpc_stream(g, t->first_stream + i);
		char e1[512];
		gs_strbuf_printf(out, "  %-6u %-40s %-10s %8llu %10u %10lld %10d  ", s->id,
				 GS_SAFE(s->method, e1),
				 gs_stream_state_name(s->state), (unsigned long long)s->queued_messages,
				 s->in.pending_data, (long long)inbound_window_left(&s->in),
				 s->wq_quota);
		for (size_t k = 0; k < s->ngoroutines; k++)
			gs_strbuf_printf(out, "%s%llu", k ? "," : "", (unsigned long long)s->goroutines[k]);
		if (s->ctx_known && s->ctx.done)
			gs_strbuf_printf(out, "  ctx: %s", GS_SAFE(s->ctx.err, e1));
		if (s->detached)
			gs_strbuf_puts(out, s->side == GS_SERVER
						    ? "  (dropped by the transport, handler still running)"
						    : "  (dropped by the closing transport, not yet told)");
		if (s->abandoned)
			gs_strbuf_puts(out, "  ABANDONED (no goroutine refers to it, context not done)");
		gs_strbuf_putc(out, '\n');
	}
}

void gs_report_streams(const gs_grpc *g, bool json, gs_strbuf *out)
{
	size_t n = gs_grpc_ntransports(g), ncc = gs_grpc_nclientconns(g);
	if (json) {
		gs_strbuf_puts(out, "{\"schema\":\"grpcscope/1\",\"command\":\"streams\",\"transports\":[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				gs_strbuf_putc(out, ',');
			json_transport(g, gs_grpc_transport(g, i), out);
		}
		gs_strbuf_puts(out, "],\"clientconns\":[");
		for (size_t i = 0; i < ncc; i++) {
			const gs_cc_info *c = gs_grpc_clientconn(g, i);
			gs_strbuf_printf(out, "%s{\"address\":\"0x%llx\",\"target\":", i ? "," : "",
					 (unsigned long long)c->addr);
			gs_strbuf_json_str(out, c->target);
			gs_strbuf_puts(out, ",\"state\":");
			gs_strbuf_json_str(out, c->state);
			gs_strbuf_puts(out, ",\"subchannels\":");
			gs_strbuf_json_str(out, c->subchannels);
			gs_strbuf_puts(out, ",\"last_error\":");
			gs_strbuf_json_str(out, c->last_error);
			gs_strbuf_puts(out, "}");
		}
		gs_strbuf_puts(out, "]}\n");
		return;
	}
	for (size_t i = 0; i < ncc; i++) {
		const gs_cc_info *c = gs_grpc_clientconn(g, i);
		gs_strbuf_printf(out, "client connection 0x%llx  target %s  %s  subchannels: %s%s%s\n",
				 (unsigned long long)c->addr, c->target, c->state, c->subchannels,
				 c->last_error[0] ? "  last error: " : "", c->last_error);
	}
	if (ncc)
		gs_strbuf_putc(out, '\n');
	for (size_t i = 0; i < n; i++) {
		if (i)
			gs_strbuf_putc(out, '\n');
		text_transport(g, gs_grpc_transport(g, i), out);
	}
	gs_strbuf_printf(out, "%zu transport%s, %zu stream%s\n", n, n == 1 ? "" : "s",
			 gs_grpc_nstreams(g), gs_grpc_nstreams(g) == 1 ? "" : "s");
}

static void fmt_num(char *buf, size_t cap, long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof tmp, "%lld", v < 0 ? -v : v);
	size_t len = strlen(tmp), o = 0;
	if (v < 0 && o + 1 < cap)
		buf[o++] = '-';
	for (size_t i = 0; i < len && o + 1 < cap; i++) {
		if (i && (len - i) % 3 == 0 && o + 1 < cap)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
}

void gs_report_stream_state(const gs_grpc *g, gs_rt *rt, size_t idx, bool json, gs_strbuf *out)
{
	const gs_stream *s = gs_grpc_stream(g, idx);
	const gs_transport *t = gs_grpc_transport(g, s->transport);
	if (json) {
		gs_strbuf_puts(out, "{\"schema\":\"grpcscope/1\",\"command\":\"stream-state\",\"transport\":");
		gs_strbuf_printf(out, "{\"address\":\"0x%llx\",\"side\":\"%s\",\"local\":",
				 (unsigned long long)t->addr, side_name(t->side));
		gs_strbuf_json_str(out, t->local);
		gs_strbuf_puts(out, ",\"remote\":");
		gs_strbuf_json_str(out, t->remote);
		gs_strbuf_printf(out, ",\"state\":\"%s\"},\"stream\":", gs_transport_state_name(t->state));
		json_stream(g, s, out);
		gs_strbuf_puts(out, "}\n");
		return;
	}
	char a[32], b[32];
	char e1[512], e2[256], e3[256];
	gs_strbuf_printf(out, "%s stream %u  %s  (0x%llx)\n", side_name(s->side), s->id,
			 GS_SAFE(s->method, e1), (unsigned long long)s->addr);
	gs_strbuf_printf(out, "  transport:  0x%llx  %s -> %s  %s%s\n", (unsigned long long)t->addr,
			 GS_SAFE(t->local, e2), GS_SAFE(t->remote, e3), gs_transport_state_name(t->state),
			 t->goaway_received ? ", GOAWAY received" : t->goaway_sent ? ", GOAWAY sent" : "");
	gs_strbuf_printf(out, "  state:      %s", gs_stream_state_name(s->state));
	if (gs_stream_state_meaning(s->state))
		gs_strbuf_printf(out, " (%s)", gs_stream_state_meaning(s->state));
	gs_strbuf_putc(out, '\n');
	if (s->ctx_known) {
		gs_strbuf_printf(out, "  context:    %s", s->ctx.done ? GS_SAFE(s->ctx.err, e1) : "not done");
		if (s->ctx.has_deadline)
			gs_strbuf_printf(out, ", deadline at unix %lld.%09lld",
					 (long long)(s->ctx.deadline_unix_ns / 1000000000),
					 (long long)(s->ctx.deadline_unix_ns % 1000000000));
		else
			gs_strbuf_puts(out, ", no deadline (waits forever)");
		gs_strbuf_putc(out, '\n');
	}
	gs_strbuf_printf(out, "  receive:    %llu message%s queued, %u bytes received and not read%s\n",
			 (unsigned long long)s->queued_messages, s->queued_messages == 1 ? "" : "s",
			 s->in.pending_data, s->recv_err ? "; end of stream / error queued" : "");
	if (s->in.known) {
		long long left = inbound_window_left(&s->in);
		fmt_num(a, sizeof a, left);
		fmt_num(b, sizeof b, (long long)s->in.limit + s->in.delta);
		gs_strbuf_printf(out, "  inbound:    window %s of %s bytes free%s  (limit %u, pending "
				      "data %u, pending update %u, delta %u)\n",
				 a, b, left <= 0 ? " — peer cannot send" : "", s->in.limit,
				 s->in.pending_data, s->in.pending_update, s->in.delta);
	}
	if (s->wq_known) {
		fmt_num(a, sizeof a, s->wq_quota);
		gs_strbuf_printf(out, "  outbound:   write quota %s bytes%s\n", a,
				 s->wq_quota <= 0 ? " — Send blocks until the loopy writer drains"
						  : "");
	}
	if (s->out.known) {
		fmt_num(a, sizeof a, s->out.bytes_outstanding);
		gs_strbuf_printf(out, "  loopy:      %s (%s), %s bytes outstanding of a %u window, "
				      "%llu frames queued\n",
				 gs_outstream_state_name(s->out.state),
				 gs_outstream_state_meaning(s->out.state), a,
				 t->oiws, (unsigned long long)s->out.queued_items);
	}
	if (t->loopy_known)
		gs_strbuf_printf(out, "  connection: send quota %u%s, inbound %u limit / %u unacked%s\n",
				 t->send_quota, t->send_quota == 0 ? " — no DATA can go out" : "",
				 t->conn_in_limit, t->conn_in_unacked,
				 t->throttled ? "; reader THROTTLED by the control buffer" : "");
	if (s->side == GS_CLIENT)
		gs_strbuf_printf(out, "  headers:    %s\n",
				 s->header_received ? "received" : "not received yet");
	else
		gs_strbuf_printf(out, "  headers:    %s\n", s->header_sent ? "sent" : "not sent yet");
	if (s->has_status)
		gs_strbuf_printf(out, "  status:     code %d%s%s\n", s->status_code,
				 s->status_message[0] ? ": " : "", GS_SAFE(s->status_message, e1));
	if (s->handler)
		gs_strbuf_printf(out, "  handler:    goroutine %llu\n", (unsigned long long)s->handler);
	for (size_t k = 0; k < s->ngoroutines; k++) {
		gs_goroutine *gr = gs_rt_find_goroutine(rt, s->goroutines[k]);
		if (!gr)
			continue;
		const gs_frame *top = gs_rt_user_frame(rt, gr);
		gs_strbuf_printf(out, "  goroutine %llu [%s] %s\n", (unsigned long long)gr->goid,
				 gs_rt_wait_reason(rt, gr), top ? top->function : "?");
	}
	if (s->problem[0])
		gs_strbuf_printf(out, "  problem:    %s\n", s->problem);
}

long gs_find_stream(const gs_grpc *g, const char *spec, char *err, size_t cap)
{
	const char *colon = strchr(spec, ':');
	char *end;
	errno = 0;
	if (colon) {
		unsigned long long ta = strtoull(spec, &end, 0);
		unsigned long id = strtoul(colon + 1, NULL, 0);
		if (end != colon) {
			snprintf(err, cap, "stream-state: bad stream '%s' (TRANSPORT:ID)", spec);
			return -1;
		}
		for (size_t i = 0; i < gs_grpc_nstreams(g); i++) {
			const gs_stream *s = gs_grpc_stream(g, i);
			if (gs_grpc_transport(g, s->transport)->addr == ta && s->id == id)
				return (long)i;
		}
		snprintf(err, cap, "stream-state: no stream %lu on transport 0x%llx", id, ta);
		return -1;
	}
	unsigned long long v = strtoull(spec, &end, 0);
	if (errno || end == spec || *end) {
		snprintf(err, cap, "stream-state: bad stream '%s' (ID, TRANSPORT:ID or address)", spec);
		return -1;
	}
	long found = -1;
	size_t matches = 0;
	for (size_t i = 0; i < gs_grpc_nstreams(g); i++) {
		const gs_stream *s = gs_grpc_stream(g, i);
		if (s->addr == v)
			return (long)i;
		if (s->id == v) {
			found = (long)i;
			matches++;
		}
	}
	if (matches == 1)
		return found;
	if (matches > 1)
		snprintf(err, cap, "stream-state: %zu streams have id %llu; say TRANSPORT:ID "
				   "(see `streams`)", matches, v);
	else
		snprintf(err, cap, "stream-state: no stream %s", spec);
	return -1;
}
