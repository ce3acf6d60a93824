/* The rules merged after test_diag_rules.c, on programs built by hand (mock_model.h):
 * goroutines the runtime marked leaked (diagnose/leaked.c); the reader throttled by its
 * control buffer and the loopy writer stuck on its socket, a server in GracefulStop or Stop,
 * abandoned client streams (diagnose/rules_hangs.c); why-blocked --label
 * (diagnose/label_filter.c). Each positive case has its near miss. */
#include <stdio.h>
#include <string.h>

#include "../../analyzer/src/diagnose/label_filter.h"
#include "gs_check.h"
#include "diag_check.h"

static gs_goroutine *receiver(mock *m, uint64_t goid, gs_stream *s)
{
	gs_goroutine *g = mock_g(m, goid, GS_G_WAITING, "select");
	mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_RECV, "main.client", NULL);
	mock_wait_recv(m, g, s);
	return g;
}

/* ---- leaked ---- */

/* A goroutine the runtime marked _Gleaked, parked on a plain channel no gRPC rule knows
 * (waiting == 0), and the same one merely waiting (waiting == 1): not reported by default,
 * and asked for, unknown without the runtime's mark. */
START_TEST(leaked_no_grpc_rule)
{
	for (int waiting = 0; waiting < 2; waiting++) {
		mock *m = mock_new();
		gs_goroutine *g = mock_g(m, 10, waiting ? GS_G_WAITING : GS_G_LEAKED, "chan receive");
		mock_stack(m, g, "runtime.gopark", "runtime.chanrecv1", "main.worker", NULL);
		mock_wait(m, g, GS_WAIT_CHAN_RECV, 0xc0aa00);
		mock_wait(m, g, GS_WAIT_SEMA, 0xc0bb00);
		gs_diagnosis dg = diagnose_all(m);
		if (waiting) {
			ck_assert_uint_eq(dg.n, 0);
			gs_diagnosis_free(&dg);
			dg = diagnose_one(m, 10);
			const gs_verdict *v = must(&dg, 10, "unknown");
			NO_SUMMARY(v, "leaked");
			NO_EVIDENCE(v, "_Gleaked");
			NO_EVIDENCE(v, "waits: ");
		} else {
			ck_assert_uint_eq(dg.n, 1);
			const gs_verdict *v = must(&dg, 10, "leaked");
			SUMMARY(v, "the runtime marked it leaked: blocked (chan receive) on what no goroutine "
				   "that can still run refers to");
			EVIDENCE(v, "status _Gleaked: set by the runtime's goroutine leak detection");
			EVIDENCE(v, "waits: receive on chan 0xc0aa00");
			EVIDENCE(v, "waits: semaphore of sync object 0xc0bb00");
			ck_assert_int_eq(v->stream, -1);
			ck_assert_uint_eq(v->nchain, 0);
		}
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

/* A leaked goroutine a gRPC rule explains keeps the gRPC verdict; the mark is evidence. */
START_TEST(leaked_explained_by_grpc_rule)
{
	mock *m = mock_new();
	gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_stream *cs = mock_stream(m, t, 1, METHOD);
	gs_goroutine *g = receiver(m, 10, cs);
	g->status = GS_G_LEAKED;
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "peer-silent");
	SUMMARY(v, "waits to receive on client stream 1 /svc.Echo/Bidi");
	NO_SUMMARY(v, "leaked");
	EVIDENCE(v, "status _Gleaked: set by the runtime's goroutine leak detection");
	NO_EVIDENCE(v, "waits: select receive on chan");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* ---- reader-throttled / writer-blocked (the transport's own goroutines) ---- */

static gs_goroutine *throttled_reader(mock *m, uint64_t goid, gs_transport *t)
{
	gs_goroutine *r = mock_g(m, goid, GS_G_WAITING, "chan receive");
	mock_stack(m, r, "runtime.gopark", "runtime.chanrecv1", T_THROTTLE, T_READER, NULL);
	mock_wait_on(m, r, NULL, t, GS_OWN_THROTTLE, GS_WAIT_CHAN_RECV);
	return r;
}

static gs_goroutine *loopy(mock *m, uint64_t goid, gs_transport *t, bool writing, const char *fn)
{
	gs_goroutine *w = mock_g(m, goid, GS_G_WAITING, "IO wait");
	mock_stack(m, w, "runtime.gopark", "internal/poll.(*FD).Write", fn, NULL);
	mock_wait_socket(m, w, t, writing);
	return w;
}

/* The reader parked on the throttle channel while the loopy writer is parked writing: the
 * reader blames the loopy, the loopy is writer-blocked and names the throttled reader. */
START_TEST(reader_throttled_loopy_on_socket)
{
	mock *m = mock_new();
	gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	t->throttled = true;
	t->cbuf_items = 1200;
	t->cbuf_response_frames = 50;
	throttled_reader(m, 40, t);
	loopy(m, 50, t, true, T_LOOPY);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 40, "reader-throttled");
	SUMMARY(v, "the reader of client transport 127.0.0.1:40000 -> 127.0.0.1:50051 is throttled by its "
		   "control buffer (50 transport response frames queued; it throttles at 50)");
	SUMMARY(v, ": the loopy writer is blocked writing to the socket — the peer does not read TCP");
	EVIDENCE(v, "127.0.0.1:40000 -> 127.0.0.1:50051, fd 5");
	EVIDENCE(v, "control buffer: 1200 items queued, 50 of them transport response frames");
	EVIDENCE(v, "until the writer drains them — it has stopped");
	EVIDENCE(v, "parked in (*controlBuffer).throttle");
	EVIDENCE(v, "loopy writer: goroutine 50, parked writing to socket fd 5 (IO wait)");
	EVIDENCE(v, "the other end (127.0.0.1:50051) is not a gRPC transport of this process");
	ck_assert_uint_eq(v->nchain, 1);
	ck_assert(mock_blames(v, 50));
	const gs_verdict *w = must(&dg, 50, "writer-blocked");
	SUMMARY(w, "the loopy writer of client transport 127.0.0.1:40000 -> 127.0.0.1:50051 is blocked writing "
		   "to the socket (fd 5): the TCP send buffer is full — the peer at 127.0.0.1:50051 does not read");
	EVIDENCE(w, "its reader, goroutine 40, is throttled: it waits for this writer");
	EVIDENCE(w, "connection send quota: 65535 bytes");
	ck_assert(!mock_blames(w, 40));
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Throttled, but the loopy is not parked writing (it reads the socket): no loopy named, the
 * other goroutines of the transport blamed, and the loopy is no writer-blocked. */
START_TEST(reader_throttled_loopy_not_blocked)
{
	mock *m = mock_new();
	gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	t->throttled = true;
	t->cbuf_response_frames = 50;
	throttled_reader(m, 40, t);
	loopy(m, 50, t, false, T_LOOPY);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 40, "reader-throttled");
	SUMMARY(v, ": the loopy writer has not drained them");
	NO_SUMMARY(v, "blocked writing");
	NO_EVIDENCE(v, "loopy writer: goroutine");
	ck_assert(mock_blames(v, 50));
	const gs_verdict *w = mock_verdict(&dg, 50);
	ck_assert_ptr_nonnull(w);
	ck_assert_str_ne(w->code, "writer-blocked");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* The loopy parked writing, the other end a server transport of this process: named, and
 * its goroutines blamed; a goroutine parked writing that is no loopy writer is not. */
START_TEST(writer_blocked_peer_in_process)
{
	for (int is_loopy = 0; is_loopy < 2; is_loopy++) {
		mock *m = mock_new();
		gs_transport *ct = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
		gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
		loopy(m, 50, ct, true, is_loopy ? T_LOOPY : "main.rawWrite");
		gs_goroutine *sr = mock_g(m, 60, GS_G_WAITING, "chan receive");
		mock_stack(m, sr, "runtime.gopark", "runtime.chanrecv1", T_THROTTLE, NULL);
		mock_wait_on(m, sr, NULL, st, GS_OWN_THROTTLE, GS_WAIT_CHAN_RECV);
		gs_diagnosis dg = diagnose_one(m, 50);
		const gs_verdict *w = mock_verdict(&dg, 50);
		ck_assert_ptr_nonnull(w);
		if (is_loopy) {
			must(&dg, 50, "writer-blocked");
			SUMMARY(w, "is blocked writing to the socket (fd 5)");
			EVIDENCE(w, "the other end is server transport 0x");
			EVIDENCE(w, "its reader does not take what this socket sends");
			NO_EVIDENCE(w, "its reader, goroutine"); /* the client's reader is not throttled */
			ck_assert(mock_blames(w, 60));
		} else {
			ck_assert_str_ne(w->code, "writer-blocked");
			ck_assert(!mock_blames(w, 60));
		}
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

/* ---- GracefulStop / Stop ---- */

/* Stop in sync.Cond.Wait with two running handlers and a stream without one, on one server
 * connection (a client transport is no connection it waits for). */
START_TEST(stop_waits_for_handlers)
{
	mock *m = mock_new();
	gs_transport *ct = mock_transport(m, GS_CLIENT, "127.0.0.1:41000", "127.0.0.1:60000");
	mock_stream(m, ct, 1, METHOD);
	gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
	st->state = GS_TR_DRAINING;
	st->goaway_sent = true;
	gs_stream *s1 = mock_stream(m, st, 1, METHOD), *s3 = mock_stream(m, st, 3, "/svc.Echo/Slow");
	mock_stream(m, st, 5, "/svc.Echo/Gone");
	s3->ctx_known = false;
	uint64_t ids[2] = {20, 21};
	gs_stream *ss[2] = {s1, s3};
	for (int i = 0; i < 2; i++) {
		gs_goroutine *h = mock_g(m, ids[i], GS_G_WAITING, "sync.Mutex.Lock");
		mock_stack(m, h, "runtime.gopark", "sync.(*Mutex).Lock", "main.(*server).Bidi", NULL);
		mock_wait(m, h, GS_WAIT_SEMA, 0xc0dd00 + 0x100 * (uint64_t)i);
		mock_handler(m, ss[i], h);
	}
	gs_goroutine *g = mock_g(m, 30, GS_G_WAITING, "sync.Cond.Wait");
	mock_stack(m, g, "runtime.gopark", "sync.runtime_notifyListWait", "sync.(*Cond).Wait",
		   "google.golang.org/grpc.(*Server).Stop", "main.main", NULL);
	mock_wait(m, g, GS_WAIT_SEMA, 0xc0ee00);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 30, "transport-closing");
	SUMMARY(v, "the server is in Stop and waits for 2 handlers that have not returned (3 streams open on "
		   "1 connection): it ends only when they do");
	EVIDENCE(v, "Stop waits in sync.Cond.Wait for every server connection to close");
	EVIDENCE(v, "127.0.0.1:50051 -> 127.0.0.1:40000 is draining, GOAWAY sent: 3 streams open");
	NO_EVIDENCE(v, "127.0.0.1:41000");
	EVIDENCE(v, "server stream 1 /svc.Echo/Bidi: handler goroutine 20 has not returned; its context is not "
		    "done (draining cancels no stream)");
	EVIDENCE(v, "server stream 3 /svc.Echo/Slow: handler goroutine 21 has not returned");
	NO_EVIDENCE(v, "goroutine 21 has not returned;");
	EVIDENCE(v, "server stream 5 /svc.Echo/Gone: open, no handler goroutine found");
	ck_assert_uint_eq(v->nchain, 2);
	ck_assert(mock_blames(v, 20) && mock_blames(v, 21));
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* GracefulStop in a WaitGroup wait, no server stream left: it blames nobody; a handler
 * whose context is done is named without the note. */
START_TEST(graceful_stop_no_handlers)
{
	mock *m = mock_new();
	gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
	st->state = GS_TR_CLOSING;
	gs_goroutine *g = mock_g(m, 30, GS_G_WAITING, "sync.WaitGroup.Wait");
	mock_stack(m, g, "runtime.gopark", "sync.(*WaitGroup).Wait",
		   "google.golang.org/grpc.(*Server).GracefulStop", "main.main", NULL);
	mock_wait(m, g, GS_WAIT_SEMA, 0xc0ee00);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 30, "transport-closing");
	SUMMARY(v, "the server is in GracefulStop and waits for 0 handlers that have not returned (0 streams "
		   "open on 1 connection)");
	EVIDENCE(v, "GracefulStop waits (sync.WaitGroup.Wait) for Serve to return or, with WaitForHandlers");
	EVIDENCE(v, "127.0.0.1:50051 -> 127.0.0.1:40000 is closing: 0 streams open");
	NO_EVIDENCE(v, "handler goroutine");
	ck_assert_uint_eq(v->nchain, 0);
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* ---- abandoned streams ---- */

/* Stream 1 holds the only stream quota, abandoned; its server handler in this process waits
 * for the client's next message; a NewStream waits for quota. The finding names all of it;
 * the quota waiter and the handler carry the abandoned stream as evidence. Not abandoned:
 * no finding, no such evidence. */
START_TEST(abandoned_stream)
{
	for (int abandoned = 0; abandoned < 2; abandoned++) {
		mock *m = mock_new();
		gs_transport *ct = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
		ct->max_concurrent = 1;
		gs_stream *cs = mock_stream(m, ct, 1, METHOD);
		cs->abandoned = abandoned;
		ct->waiting_streams = 1;
		gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
		gs_stream *ss = mock_stream(m, st, 1, METHOD);
		gs_goroutine *h = receiver(m, 20, ss);
		mock_handler(m, ss, h);
		gs_goroutine *o = mock_g(m, 10, GS_G_WAITING, "select");
		mock_stack(m, o, "runtime.gopark", "runtime.selectgo", T_NEWSTREAM, "main.call", NULL);
		mock_wait_quota(m, o, ct);
		gs_diagnosis dg = diagnose_all(m);
		const gs_verdict *q = must(&dg, 10, "stream-quota");
		const gs_verdict *hv = mock_verdict(&dg, 20);
		ck_assert_ptr_nonnull(hv);
		if (!abandoned) {
			ck_assert_uint_eq(dg.nfindings, 0);
			NO_EVIDENCE(q, "is abandoned");
			NO_EVIDENCE(hv, "is abandoned");
		} else {
			ck_assert_uint_eq(dg.nfindings, 1);
			const gs_verdict *f = &dg.findings[0];
			ck_assert_str_eq(f->code, "abandoned-stream");
			ck_assert_uint_eq(f->goid, 0);
			ck_assert_int_eq(f->stream, mock_sidx(m, cs));
			SUMMARY(f, "client stream 1 /svc.Echo/Bidi to 127.0.0.1:50051 is abandoned: open, counted "
				   "against the peer's MAX_CONCURRENT_STREAMS, its context never cancelled");
			EVIDENCE(f, "127.0.0.1:40000 -> 127.0.0.1:50051: 1 stream open of the peer's "
				    "MAX_CONCURRENT_STREAMS 1, 1 NewStream call waiting for quota");
			EVIDENCE(f, "stream state active, 0 messages queued, response headers not received");
			EVIDENCE(f, "context not done and without deadline");
			EVIDENCE(f, "no goroutine refers to it");
			EVIDENCE(f, "peer: server stream 1 in this process (0x");
			EVIDENCE(f, ", its handler still runs");
			ck_assert(mock_blames(f, 20) && mock_blames(f, 10));
			EVIDENCE(q, "client stream 1 /svc.Echo/Bidi is abandoned: open, its context never cancelled and "
				    "without deadline, no goroutine refers to it — nothing will end it");
			EVIDENCE(hv, "client stream 1 /svc.Echo/Bidi is abandoned");
		}
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

/* With a deadline the finding says when it ends. */
START_TEST(abandoned_stream_with_deadline)
{
	mock *m = mock_new();
	gs_transport *ct = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_stream *cs = mock_stream(m, ct, 1, METHOD);
	cs->abandoned = true;
	cs->ctx.has_deadline = true;
	cs->ctx.deadline_unix_ns = 1700000000LL * 1000000000LL;
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_uint_eq(dg.n, 0);
	ck_assert_uint_eq(dg.nfindings, 1);
	EVIDENCE(&dg.findings[0], "context not done; deadline at unix time 1700000000 ends it then");
	ck_assert_uint_eq(dg.findings[0].nchain, 0);
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* ---- why-blocked --label ---- */

/* 10 (labelled job=a) waits for stream quota held by 11's stream; 12 waits elsewhere.
 * job=a keeps 10 and the 11 its chain reaches; job=b keeps none; no filter keeps all. */
START_TEST(label_filter_keeps_chains)
{
	static char k[] = "job", va[] = "a";
	gs_label kv = {k, va};
	gs_labels l = {0xc0ff00, 1, &kv, NULL};
	const char *const cases[][2] = {{"job=a", NULL}, {"job", NULL}, {"job=b", NULL}, {NULL, NULL}};
	const size_t want[] = {2, 2, 0, 3};
	for (size_t c = 0; c < 4; c++) {
		mock *m = mock_new();
		gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
		t->max_concurrent = 1;
		gs_stream *cs = mock_stream(m, t, 1, METHOD);
		receiver(m, 11, cs);
		gs_goroutine *o = mock_g(m, 10, GS_G_WAITING, "select");
		mock_stack(m, o, "runtime.gopark", "runtime.selectgo", T_NEWSTREAM, "main.call", NULL);
		mock_wait_quota(m, o, t);
		mock_labels(m, o, &l);
		gs_transport *t2 = mock_transport(m, GS_CLIENT, "127.0.0.1:40001", "127.0.0.1:50052");
		receiver(m, 12, mock_stream(m, t2, 1, METHOD));
		gs_diagnosis dg = diagnose_all(m);
		ck_assert_uint_eq(dg.n, 3);
		must(&dg, 10, "stream-quota");
		gs_diagnosis_filter_labels(mock_rt(m), &dg, cases[c], cases[c][0] ? 1 : 0);
		ck_assert_uint_eq(dg.n, want[c]);
		if (want[c] == 2) {
			must(&dg, 10, "stream-quota");
			must(&dg, 11, "peer-silent");
			ck_assert_ptr_null(mock_verdict(&dg, 12));
		}
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("diag_hangs");
	TCase *tc = tcase_create("hangs");
	tcase_add_test(tc, leaked_no_grpc_rule);
	tcase_add_test(tc, leaked_explained_by_grpc_rule);
	tcase_add_test(tc, reader_throttled_loopy_on_socket);
	tcase_add_test(tc, reader_throttled_loopy_not_blocked);
	tcase_add_test(tc, writer_blocked_peer_in_process);
	tcase_add_test(tc, stop_waits_for_handlers);
	tcase_add_test(tc, graceful_stop_no_handlers);
	tcase_add_test(tc, abandoned_stream);
	tcase_add_test(tc, abandoned_stream_with_deadline);
	tcase_add_test(tc, label_filter_keeps_chains);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
