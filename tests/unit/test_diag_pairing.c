/* Pairing the two ends of one stream (diagnose/pairing.c) on hand-built programs: over TCP by
 * mirrored addresses, over a unix socket path by the state of the streams (or not at all
 * when several connections look alike), over in-memory pipes by the pipe objects, across two
 * snapshots, and the application goroutines that hold a stream on their stacks. */
#include <stdio.h>
#include <string.h>

#include "gs_check.h"
#include "diag_check.h"

static gs_goroutine *receiver(mock *m, uint64_t goid, gs_stream *s)
{
	gs_goroutine *g = mock_g(m, goid, GS_G_WAITING, "select");
	mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_RECV,
		   s->side == GS_CLIENT ? "main.client" : "main.(*server).Bidi", NULL);
	mock_wait_recv(m, g, s);
	if (s->side == GS_SERVER)
		mock_handler(m, s, g);
	return g;
}

/* Client 10 receives on stream 1; the server's handler 20 receives on its end: both wait for
 * the other (peer-silent both ways), and each blames the other through the pairing. */
START_TEST(tcp_pair_in_one_process)
{
	mock *m = mock_new();
	gs_transport *ct = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_stream *cs = mock_stream(m, ct, 1, METHOD);
	gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
	gs_stream *ss = mock_stream(m, st, 1, METHOD);
	/* A second connection to the same server: its stream 1 must not be taken. */
	gs_transport *ct2 = mock_transport(m, GS_CLIENT, "127.0.0.1:40002", "127.0.0.1:50051");
	mock_stream(m, ct2, 1, METHOD);
	receiver(m, 10, cs);
	receiver(m, 20, ss);
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_int_eq(dg.peer[mock_sidx(m, cs)], mock_sidx(m, ss));
	ck_assert_int_eq(dg.peer[mock_sidx(m, ss)], mock_sidx(m, cs));
	ck_assert_int_eq(dg.peer[2], -1);
	const gs_verdict *c = must(&dg, 10, "peer-silent"), *s = must(&dg, 20, "peer-silent");
	EVIDENCE(c, "peer: server stream 1 in this process (0x");
	EVIDENCE(s, "peer: client stream 1 in this process (0x");
	NO_EVIDENCE(c, "paired among");
	ck_assert(mock_blames(c, 20));
	ck_assert(mock_blames(s, 10));
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Same addresses, but both sides' addresses unknown: never paired on "?". */
START_TEST(tcp_unknown_addresses_not_paired)
{
	mock *m = mock_new();
	gs_transport *ct = mock_transport(m, GS_CLIENT, "?", "?");
	gs_stream *cs = mock_stream(m, ct, 1, METHOD);
	gs_transport *st = mock_transport(m, GS_SERVER, "?", "?");
	gs_stream *ss = mock_stream(m, st, 1, METHOD);
	receiver(m, 10, cs);
	receiver(m, 20, ss);
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_int_eq(dg.peer[mock_sidx(m, cs)], -1);
	EVIDENCE(must(&dg, 10, "peer-silent"), "the peer of this stream is not in this snapshot");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Two connections on one unix socket path: every client end is unnamed, so the addresses
 * say nothing. With the same streams on both, no pairing is made and the verdict says so;
 * when the streams differ, each client end pairs with the server end whose streams agree. */
static void unix_case(mock *m, bool alike, gs_stream **c1, gs_stream **s1)
{
	const char *path = "/run/svc.sock", *anon = "@";
	gs_transport *ca = mock_transport(m, GS_CLIENT, anon, path);
	*c1 = mock_stream(m, ca, 1, METHOD);
	if (!alike)
		mock_stream(m, ca, 3, "/svc.Echo/Other");
	gs_transport *cb = mock_transport(m, GS_CLIENT, anon, path);
	mock_stream(m, cb, 1, METHOD);
	gs_transport *sb = mock_transport(m, GS_SERVER, path, anon);
	mock_stream(m, sb, 1, METHOD);
	gs_transport *sa = mock_transport(m, GS_SERVER, path, anon);
	*s1 = mock_stream(m, sa, 1, METHOD);
	if (!alike)
		mock_stream(m, sa, 3, "/svc.Echo/Other");
	ca->conn_kind = cb->conn_kind = sa->conn_kind = sb->conn_kind = "unix";
}

START_TEST(unix_ambiguous)
{
	mock *m = mock_new();
	gs_stream *c1, *s1;
	unix_case(m, true, &c1, &s1);
	receiver(m, 10, c1);
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_int_eq(dg.peer[mock_sidx(m, c1)], -1);
	const gs_verdict *v = must(&dg, 10, "peer-silent");
	EVIDENCE(v, "peer: ambiguous — 2 server transports in this process on /run/svc.sock look alike");
	ck_assert_uint_eq(v->nchain, 0);
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

START_TEST(unix_paired_by_state)
{
	mock *m = mock_new();
	gs_stream *c1, *s1;
	unix_case(m, false, &c1, &s1);
	receiver(m, 10, c1);
	receiver(m, 20, s1);
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_int_eq(dg.peer[mock_sidx(m, c1)], mock_sidx(m, s1));
	const gs_verdict *v = must(&dg, 10, "peer-silent");
	EVIDENCE(v, "peer: server stream 1 in this process");
	EVIDENCE(v, "paired among the transports on the same socket address by stream ids");
	ck_assert(mock_blames(v, 20));
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* net.Pipe / bufconn: one end's in is the other's out. */
START_TEST(pipe_pair)
{
	mock *m = mock_new();
	gs_transport *ct = mock_transport(m, GS_CLIENT, "pipe", "pipe");
	gs_stream *cs = mock_stream(m, ct, 1, METHOD);
	gs_transport *st = mock_transport(m, GS_SERVER, "pipe", "pipe");
	gs_stream *ss = mock_stream(m, st, 1, METHOD);
	ct->conn_kind = st->conn_kind = "pipe";
	ct->pipe_in = st->pipe_out = 0xc000ab000;
	ct->pipe_out = st->pipe_in = 0xc000ac000;
	receiver(m, 10, cs);
	receiver(m, 20, ss);
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_int_eq(dg.peer[mock_sidx(m, cs)], mock_sidx(m, ss));
	EVIDENCE(must(&dg, 10, "peer-silent"), "the other end of the same in-memory pipe");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Two pipes the wrong way round (both ends' in the same object) are no connection. */
START_TEST(pipe_not_paired_uncrossed)
{
	mock *m = mock_new();
	gs_transport *ct = mock_transport(m, GS_CLIENT, "pipe", "pipe");
	gs_stream *cs = mock_stream(m, ct, 1, METHOD);
	gs_transport *st = mock_transport(m, GS_SERVER, "pipe", "pipe");
	mock_stream(m, st, 1, METHOD);
	ct->pipe_in = st->pipe_in = 0xc000ab000;
	ct->pipe_out = st->pipe_out = 0xc000ac000;
	receiver(m, 10, cs);
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_int_eq(dg.peer[mock_sidx(m, cs)], -1);
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Client in one snapshot, server in another (--peer): chains continue across. */
START_TEST(across_snapshots)
{
	mock *a = mock_new(), *b = mock_new();
	gs_transport *ct = mock_transport(a, GS_CLIENT, "10.0.0.1:40000", "10.0.0.2:50051");
	gs_stream *cs = mock_stream(a, ct, 1, METHOD);
	receiver(a, 10, cs);
	gs_transport *st = mock_transport(b, GS_SERVER, "10.0.0.2:50051", "10.0.0.1:40000");
	gs_stream *ss = mock_stream(b, st, 1, METHOD);
	gs_goroutine *h = mock_g(b, 20, GS_G_WAITING, "chan receive");
	mock_stack(b, h, "runtime.gopark", "runtime.chanrecv1", "main.(*server).Bidi", NULL);
	mock_wait(b, h, GS_WAIT_CHAN_RECV, 0xc0aa00);
	mock_handler(b, ss, h);
	gs_diagnosis da, db;
	gs_err e = {0};
	ck_assert_int_eq(gs_diagnose_pair(mock_rt(a), mock_grpc(a), mock_rt(b), mock_grpc(b), NULL,
					  0, &da, &db, &e), 0);
	const gs_verdict *v = must(&da, 10, "peer-silent");
	EVIDENCE(v, "peer: server stream 1 in the peer snapshot (0x");
	ck_assert_uint_eq(v->npeer_chain, 1);
	ck_assert_uint_eq(v->peer_chain[0], 20);
	ck_assert_uint_eq(v->nchain, 0);
	const gs_verdict *w = must(&db, 20, "handler-blocked");
	ck_assert(strstr(w->summary, "the handler of server stream 1 /svc.Echo/Bidi"));
	gs_diagnosis_free(&da);
	gs_diagnosis_free(&db);
	mock_free(a);
	mock_free(b);
}
END_TEST

/* Nobody waits on the client stream: the application goroutine that holds it on its stack
 * is blamed (a goroutine grpc itself started and that holds it is not). */
START_TEST(holders_on_the_stack)
{
	mock *m = mock_new();
	gs_transport *ct = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_stream *cs = mock_stream(m, ct, 1, METHOD);
	gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
	gs_stream *ss = mock_stream(m, st, 1, METHOD);
	receiver(m, 20, ss);
	gs_goroutine *app = mock_g(m, 12, GS_G_WAITING, "chan receive");
	mock_stack(m, app, "runtime.gopark", "runtime.chanrecv1", "main.loop", NULL);
	mock_wait(m, app, GS_WAIT_CHAN_RECV, 0xc0aa00);
	mock_holds(m, app, cs);
	gs_goroutine *watcher = mock_g(m, 13, GS_G_WAITING, "select");
	mock_stack(m, watcher, "runtime.gopark", "runtime.selectgo",
		   "google.golang.org/grpc.newClientStreamWithParams.func4", NULL);
	mock_wait(m, watcher, GS_WAIT_SELECT_RECV, 0xc0ab00);
	mock_start(m, watcher, "google.golang.org/grpc.newClientStreamWithParams.func4");
	mock_holds(m, watcher, cs);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 20, "peer-silent");
	ck_assert(mock_blames(v, 12));
	ck_assert(!mock_blames(v, 13));
	const gs_verdict *w = must(&dg, 12, "handler-blocked");
	ck_assert(w->reached);
	ck_assert_msg(strstr(w->summary, "a goroutine holding client stream 1 /svc.Echo/Bidi is blocked "
					 "outside gRPC: receive on channel 0xc0aa00 in main.loop"), "%s", w->summary);
	ck_assert_ptr_null(mock_verdict(&dg, 13));
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("diag_pairing");
	TCase *tc = tcase_create("pairing");
	tcase_add_test(tc, tcp_pair_in_one_process);
	tcase_add_test(tc, tcp_unknown_addresses_not_paired);
	tcase_add_test(tc, unix_ambiguous);
	tcase_add_test(tc, unix_paired_by_state);
	tcase_add_test(tc, pipe_pair);
	tcase_add_test(tc, pipe_not_paired_uncrossed);
	tcase_add_test(tc, across_snapshots);
	tcase_add_test(tc, holders_on_the_stack);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
