/* The keepalive and GOAWAY evidence of diagnose/keepalive_rules.c on programs built by hand
 * (mock_model.h): the half-open connection with keepalive off, the last read against Time +
 * Timeout with it on, a transport keepalive closed, and GOAWAY too_many_pings; each with the
 * near miss that must not give the line. */
#include <stdio.h>
#include <string.h>

#include "gs_check.h"
#include "diag_check.h"

#define SEC 1000000000LL
#define SNAP (1700000000LL * SEC)

static gs_goroutine *receiver(mock *m, uint64_t goid, gs_stream *s)
{
	gs_goroutine *g = mock_g(m, goid, GS_G_WAITING, "select");
	mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_RECV, "main.client", NULL);
	mock_wait_recv(m, g, s);
	return g;
}

/* The transport's reader parked reading its socket since runtime time `since`. */
static gs_goroutine *socket_reader(mock *m, uint64_t goid, gs_transport *t, int64_t since)
{
	gs_goroutine *r = mock_g(m, goid, GS_G_WAITING, "IO wait");
	mock_stack(m, r, "runtime.gopark", "internal/poll.(*FD).Read", T_READER, NULL);
	mock_wait_socket(m, r, t, false);
	r->waitsince = since;
	return r;
}

/* ---- keepalive off: half-open ---- */

/* Keepalive off, peer in another process, the reader parked on the socket since before the
 * receiver began to wait: half-open, in the evidence and the summary. */
START_TEST(half_open_keepalive_off)
{
	mock *m = mock_new();
	gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_goroutine *g = receiver(m, 10, mock_stream(m, t, 1, METHOD));
	g->waitsince = 2000;
	mock_minutes(m, g, 7);
	socket_reader(m, 40, t, 1000);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "peer-silent");
	EVIDENCE(v, "keepalive is off on this transport, and its reader (goroutine 40) has been parked on the "
		    "socket since before this goroutine was first seen waiting (at least 7 minutes ago): "
		    "nothing has arrived since — the peer may be gone (a half-open connection)");
	SUMMARY(v, "; keepalive off and nothing read while it waits: the peer may be gone (half-open connection)");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* The near misses: the reader parked after the receiver (something arrived since); no
 * reader on the socket; keepalive on; the peer in this process. */
START_TEST(half_open_near_misses)
{
	for (int c = 0; c < 4; c++) {
		mock *m = mock_new();
		gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
		gs_goroutine *g = receiver(m, 10, mock_stream(m, t, 1, METHOD));
		g->waitsince = 2000;
		if (c != 1)
			socket_reader(m, 40, t, c == 0 ? 3000 : 1000);
		if (c == 2)
			t->keepalive_enabled = true;
		if (c == 3) {
			gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
			receiver(m, 20, mock_stream(m, st, 1, METHOD));
		}
		gs_diagnosis dg = diagnose_all(m);
		const gs_verdict *v = must(&dg, 10, "peer-silent");
		NO_SUMMARY(v, "half-open");
		NO_EVIDENCE(v, "half-open");
		if (c == 0)
			EVIDENCE(v, "keepalive is off on this transport: if the peer is gone, nothing will notice (how "
				    "long the reader has been idle is not recorded)");
		if (c == 1) {
			EVIDENCE(v, "keepalive is off on this transport: if the peer is gone, nothing will notice");
			NO_EVIDENCE(v, "how long the reader");
		}
		if (c == 2)
			EVIDENCE(v, "keepalive is on (");
		if (c == 3)
			NO_EVIDENCE(v, "keepalive is");
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

/* ---- keepalive on: the last read against Time + Timeout ---- */

START_TEST(keepalive_on_last_read)
{
	/* last read (s before the snapshot; -1: not known), snapshot time known */
	const struct { int64_t ago; bool snap; const char *want; } cases[] = {
		{5, true, "keepalive is on (ping after 10s without reads, ack within 20s): the last read was 5.0 s "
			  "before the snapshot (the mock's time), within Time + Timeout — by keepalive's account the "
			  "peer is alive"},
		{40, true, "keepalive is on (ping after 10s without reads, ack within 20s) and nothing was read for "
			   "40.0 s before the snapshot (the mock's time), more than Time + Timeout: a keepalive ping "
			   "went unanswered and the transport is about to close"},
		{5, false, "keepalive is on (ping after 10s without reads, ack within 20s); when the transport last "
			   "read is not known against the snapshot's time"},
		{-1, true, "; when the transport last read is not known"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		mock *m = mock_new();
		gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
		receiver(m, 10, mock_stream(m, t, 1, METHOD));
		t->keepalive_enabled = true;
		t->ka.time = 10 * SEC;
		t->ka.timeout = 20 * SEC;
		t->ka.last_read = cases[c].ago < 0 ? -1 : SNAP - cases[c].ago * SEC;
		if (cases[c].snap)
			mock_snapshot_time(m, SNAP);
		gs_diagnosis dg = diagnose_all(m);
		const gs_verdict *v = must(&dg, 10, "peer-silent");
		EVIDENCE(v, cases[c].want);
		NO_EVIDENCE(v, "keepalive is off");
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

/* A transport closing with keepalive on and nothing read for more than Time + Timeout:
 * keepalive closed it. Keepalive off: no keepalive line. */
START_TEST(keepalive_transport_closing)
{
	for (int on = 0; on < 2; on++) {
		mock *m = mock_new();
		gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
		receiver(m, 10, mock_stream(m, t, 1, METHOD));
		t->state = GS_TR_CLOSING;
		t->keepalive_enabled = on;
		t->ka.time = 10 * SEC;
		t->ka.timeout = 20 * SEC;
		t->ka.last_read = SNAP - 45 * SEC;
		mock_snapshot_time(m, SNAP);
		gs_diagnosis dg = diagnose_all(m);
		const gs_verdict *v = must(&dg, 10, "transport-closing");
		if (on)
			EVIDENCE(v, "nothing was read for 45.0 s before the snapshot (the mock's time), more than Time + "
				    "Timeout: an unanswered keepalive ping closes the transport — the peer is gone or "
				    "unreachable");
		else
			NO_EVIDENCE(v, "keepalive is");
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

/* ---- too_many_pings ---- */

/* A client in this process received GOAWAY too_many_pings from its server, also in this
 * process with 3 ping strikes: the client's Time against the server's MinTime, on both
 * sides' verdicts; the summary only on the client's. */
START_TEST(too_many_pings_both_sides)
{
	mock *m = mock_new();
	gs_transport *ct = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_stream *cs = mock_stream(m, ct, 1, METHOD);
	gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
	gs_stream *ss = mock_stream(m, st, 1, METHOD);
	ct->keepalive_enabled = true;
	ct->ka.time = 1 * SEC;
	ct->state = GS_TR_DRAINING;
	ct->goaway_received = true;
	ct->goaway_last_id = 1;
	ct->goaway_reason = GS_GOAWAY_TOO_MANY_PINGS;
	st->ka.min_time = 300 * SEC;
	st->ka.ping_strikes = 3;
	receiver(m, 10, cs);
	gs_goroutine *h = receiver(m, 20, ss);
	mock_handler(m, ss, h);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = mock_verdict(&dg, 10);
	ck_assert_ptr_nonnull(v);
	EVIDENCE(v, "too_many_pings: the server sent GOAWAY ENHANCE_YOUR_CALM \"too_many_pings\" after 3 ping "
		    "strikes (more than 2) — the client's keepalive Time is 1s, the server's EnforcementPolicy "
		    "MinTime 5m0s: the client must not ping more often than MinTime");
	SUMMARY(v, "; the GOAWAY was too_many_pings (client keepalive Time 1s, server MinTime 5m0s)");
	const gs_verdict *hv = mock_verdict(&dg, 20);
	ck_assert_ptr_nonnull(hv);
	EVIDENCE(hv, "too_many_pings: the server sent GOAWAY ENHANCE_YOUR_CALM \"too_many_pings\" after 3 ping "
		     "strikes (more than 2) — the client's keepalive Time is 1s, the server's EnforcementPolicy "
		     "MinTime 5m0s");
	NO_SUMMARY(hv, "too_many_pings");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Only the client in hand, the reason in the GOAWAY's code and debug data (1.81 keeps no
 * reason): the server's MinTime is not known. */
START_TEST(too_many_pings_client_only)
{
	mock *m = mock_new();
	gs_transport *ct = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_stream *cs = mock_stream(m, ct, 1, METHOD);
	ct->state = GS_TR_DRAINING;
	ct->goaway_received = true;
	ct->goaway_last_id = 1;
	ct->goaway_reason = GS_GOAWAY_NO_REASON;
	ct->goaway_code = 11;
	snprintf(ct->goaway_debug, sizeof ct->goaway_debug, "too_many_pings");
	receiver(m, 10, cs);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "peer-silent");
	EVIDENCE(v, "too_many_pings: the server sent GOAWAY ENHANCE_YOUR_CALM \"too_many_pings\" — the client's "
		    "keepalive Time is off, the server's EnforcementPolicy MinTime not known (the server is not in "
		    "this snapshot; grpc-go's default is 5m0s)");
	SUMMARY(v, "; the GOAWAY was too_many_pings (client keepalive Time off, server MinTime ?)");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Near misses: a GOAWAY with another code or debug text; a server with 2 strikes (the
 * limit, not above it). */
START_TEST(too_many_pings_near_misses)
{
	for (int c = 0; c < 3; c++) {
		mock *m = mock_new();
		gs_transport *t = mock_transport(m, c == 2 ? GS_SERVER : GS_CLIENT, "127.0.0.1:40000",
						 "127.0.0.1:50051");
		gs_stream *s = mock_stream(m, t, 1, METHOD);
		gs_goroutine *g = receiver(m, 10, s);
		if (c < 2) {
			t->state = GS_TR_DRAINING;
			t->goaway_received = true;
			t->goaway_last_id = 1;
			t->goaway_reason = GS_GOAWAY_NO_REASON;
			t->goaway_code = c == 0 ? 0 : 11;
			snprintf(t->goaway_debug, sizeof t->goaway_debug, c == 0 ? "too_many_pings" : "max_age");
		} else {
			t->ka.ping_strikes = 2;
			mock_handler(m, s, g);
		}
		gs_diagnosis dg = diagnose_all(m);
		const gs_verdict *v = mock_verdict(&dg, 10);
		ck_assert_ptr_nonnull(v);
		NO_EVIDENCE(v, "too_many_pings: the server sent");
		NO_SUMMARY(v, "the GOAWAY was too_many_pings");
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("diag_keepalive");
	TCase *tc = tcase_create("keepalive");
	tcase_add_test(tc, half_open_keepalive_off);
	tcase_add_test(tc, half_open_near_misses);
	tcase_add_test(tc, keepalive_on_last_read);
	tcase_add_test(tc, keepalive_transport_closing);
	tcase_add_test(tc, too_many_pings_both_sides);
	tcase_add_test(tc, too_many_pings_client_only);
	tcase_add_test(tc, too_many_pings_near_misses);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
