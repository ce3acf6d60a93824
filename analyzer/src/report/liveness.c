/* A transport's liveness facts as `streams` shows them: keepalive, the server's enforcement
 * policy and ping strikes, the last read and how long before the snapshot, BDP estimation
 * and the initial window. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "liveness.h"

static void dur(int64_t ns, char *buf, size_t cap)
{
	gs_fmt_duration(ns, buf, cap);
}

/* "2026-12-07 21:40:12.345 UTC" */
static void fmt_unix(int64_t ns, char *buf, size_t cap)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t n = strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%03d UTC", (int)(ns / 1000000 % 1000));
}

void gs_liveness_last_read(const gs_grpc *g, const gs_transport *t, char *buf, size_t cap)
{
	const gs_keepalive *ka = &t->ka;
	if (ka->last_read < 0) {
		snprintf(buf, cap, "not known");
		return;
	}
	if (ka->last_read == 0) {
		snprintf(buf, cap, "not recorded%s", t->side == GS_CLIENT && !t->keepalive_enabled
							? " (a client keeps it only with keepalive on)" : "");
		return;
	}
	/* The time alone: how long before the snapshot depends on the snapshot's time, which a
	 * debugger's target does not know, and the text is the same whatever reads the core
	 * (JSON and the report page have the difference). */
	(void)g;
	fmt_unix(ka->last_read, buf, cap);
}

void gs_liveness_text(const gs_grpc *g, const gs_transport *t, gs_strbuf *out)
{
	const gs_keepalive *ka = &t->ka;
	char a[32], b[32], c[32], d[32];
	dur(ka->time, a, sizeof a);
	dur(ka->timeout, b, sizeof b);
	if (t->side == GS_CLIENT) {
		if (gs_keepalive_on(t))
			gs_strbuf_printf(out, "  keepalive: on, ping after %s without reads, ack within %s%s%s\n", a, b,
					 ka->permit == 1 ? ", also without streams" : ka->permit == 0 ? ", only with streams" : "",
					 ka->dormant == 1 ? "; dormant (no streams)" : "");
		else
			gs_strbuf_puts(out, "  keepalive: off (no pings: a peer that is gone goes unnoticed)\n");
	} else {
		gs_strbuf_printf(out, "  keepalive: %s", gs_keepalive_on(t) ? "on" : "off");
		if (gs_keepalive_on(t))
			gs_strbuf_printf(out, ", ping after %s without reads, ack within %s", a, b);
		dur(ka->max_idle, a, sizeof a);
		dur(ka->max_age, b, sizeof b);
		dur(ka->max_age_grace, c, sizeof c);
		gs_strbuf_printf(out, "; max connection idle %s, age %s, age grace %s\n", a, b, c);
		dur(ka->min_time, d, sizeof d);
		gs_strbuf_printf(out, "  enforcement: client pings at least %s apart, %s without streams",
				 d, ka->enf_permit == 1 ? "also" : ka->enf_permit == 0 ? "none" : "? ");
		if (ka->ping_strikes >= 0)
			gs_strbuf_printf(out, "; %d ping strike%s%s", ka->ping_strikes,
					 ka->ping_strikes == 1 ? "" : "s",
					 ka->ping_strikes > 2 ? " (over 2: GOAWAY too_many_pings sent)" : "");
		gs_strbuf_putc(out, '\n');
	}
	char lr[160];
	gs_liveness_last_read(g, t, lr, sizeof lr);
	gs_strbuf_printf(out, "  last read: %s\n", lr);
	gs_strbuf_printf(out, "  BDP estimation: %s",
			 ka->bdp == 1 ? "on (windows grow with the measured bandwidth)"
			 : ka->bdp == 0 ? "off (fixed windows)" : "not known");
	if (ka->initial_window >= 0)
		gs_strbuf_printf(out, "; initial stream window %lld", (long long)ka->initial_window);
	gs_strbuf_putc(out, '\n');
	if (ka->problem[0])
		gs_strbuf_printf(out, "  keepalive problem: %s\n", ka->problem);
}

/* A duration in JSON: ns, null for infinity; the key is left out when not known. */
static void jdur(gs_strbuf *out, const char *key, int64_t ns, bool *first)
{
	if (ns < 0)
		return;
	gs_strbuf_printf(out, "%s\"%s\":", *first ? "" : ",", key);
	*first = false;
	if (ns == GS_INFINITY)
		gs_strbuf_puts(out, "null");
	else
		gs_strbuf_printf(out, "%lld", (long long)ns);
}

static void jflag(gs_strbuf *out, const char *key, int8_t v, bool *first)
{
	if (v < 0)
		return;
	gs_strbuf_printf(out, "%s\"%s\":%s", *first ? "" : ",", key, v ? "true" : "false");
	*first = false;
}

void gs_liveness_json(const gs_grpc *g, const gs_transport *t, gs_strbuf *out)
{
	const gs_keepalive *ka = &t->ka;
	bool first = true;
	gs_strbuf_printf(out, ",\"keepalive_params\":{\"enabled\":%s", gs_keepalive_on(t) ? "true" : "false");
	first = false;
	jdur(out, "time_ns", ka->time, &first);
	jdur(out, "timeout_ns", ka->timeout, &first);
	jflag(out, "permit_without_stream", ka->permit, &first);
	jflag(out, "dormant", ka->dormant, &first);
	jdur(out, "max_connection_idle_ns", ka->max_idle, &first);
	jdur(out, "max_connection_age_ns", ka->max_age, &first);
	jdur(out, "max_connection_age_grace_ns", ka->max_age_grace, &first);
	gs_strbuf_putc(out, '}');
	if (t->side == GS_SERVER) {
		first = true;
		gs_strbuf_puts(out, ",\"enforcement_policy\":{");
		jdur(out, "min_time_ns", ka->min_time, &first);
		jflag(out, "permit_without_stream", ka->enf_permit, &first);
		if (ka->ping_strikes >= 0)
			gs_strbuf_printf(out, "%s\"ping_strikes\":%d", first ? "" : ",", ka->ping_strikes);
		gs_strbuf_putc(out, '}');
	}
	if (ka->last_read >= 0) {
		const char *how;
		int64_t snap = gs_grpc_snapshot_time(g, &how);
		if (!ka->last_read)
			gs_strbuf_puts(out, ",\"last_read\":null");
		else if (snap)
			gs_strbuf_printf(out, ",\"last_read\":{\"unix_ns\":%lld,\"before_snapshot_ns\":%lld}",
					 (long long)ka->last_read, (long long)(snap - ka->last_read));
		else
			gs_strbuf_printf(out, ",\"last_read\":{\"unix_ns\":%lld,\"before_snapshot_ns\":null}",
					 (long long)ka->last_read);
	}
	if (ka->bdp >= 0)
		gs_strbuf_printf(out, ",\"bdp_estimation\":%s", ka->bdp ? "true" : "false");
	if (ka->initial_window >= 0)
		gs_strbuf_printf(out, ",\"initial_window\":%lld", (long long)ka->initial_window);
	if (ka->problem[0]) {
		gs_strbuf_puts(out, ",\"keepalive_problem\":");
		gs_strbuf_json_str(out, ka->problem);
	}
}

void gs_liveness_html_cells(const gs_grpc *g, const gs_transport *t, gs_strbuf *out)
{
	char a[32], b[32];
	gs_fmt_duration(t->ka.time, a, sizeof a);
	gs_fmt_duration(t->ka.timeout, b, sizeof b);
	if (t->implausible)
		gs_strbuf_puts(out, "<td>");
	else if (gs_keepalive_on(t))
		gs_strbuf_printf(out, "<td>on %s/%s", a, b);
	else
		gs_strbuf_puts(out, "<td>off");
	gs_strbuf_puts(out, "<td>");
	int64_t snap = gs_grpc_snapshot_time(g, NULL);
	if (!t->implausible && snap && t->ka.last_read > 0)
		gs_strbuf_printf(out, "%.1f", (double)(snap - t->ka.last_read) / 1e9);
}
