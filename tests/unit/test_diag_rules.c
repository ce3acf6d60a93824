/* Every verdict rule of why-blocked (diagnose/rules.c) on a program built by hand: for each
 * verdict code a case that must give it, with its evidence, and the near miss that must not.
 * No Go toolchain, no core: see mock_model.h. Verdict codes (diagnose/verdicts.h):
 * peer-silent, send-flow-control, stream-quota, no-ready-transport, transport-closing,
 * reader-throttled, writer-blocked, handler-blocked, app-not-reading, context-done, unknown. */
#include <stdio.h>
#include <string.h>

#include "gs_check.h"
#include "diag_check.h"

/* A client transport whose server is in another process, and its stream 1. */
static gs_transport *client_only(mock *m, gs_stream **cs)
{
	gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	*cs = mock_stream(m, t, 1, METHOD);
	return t;
}

/* A client goroutine parked receiving on cs. */
static gs_goroutine *receiver(mock *m, uint64_t goid, gs_stream *cs)
{
	gs_goroutine *g = mock_g(m, goid, GS_G_WAITING, "select");
	mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_RECV, "main.client", NULL);
	mock_wait_recv(m, g, cs);
	return g;
}

/* A client and a server transport of one connection in this process, stream 1 on both,
 * the server's handler goroutine 20 parked as the test says. */
static void in_process(mock *m, gs_transport **ct, gs_stream **cs, gs_transport **st, gs_stream **ss)
{
	*ct = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	*cs = mock_stream(m, *ct, 1, METHOD);
	*st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
	*ss = mock_stream(m, *st, 1, METHOD);
}

/* ---- peer-silent ---- */

START_TEST(peer_silent_receive)
{
	mock *m = mock_new();
	gs_stream *cs;
	client_only(m, &cs);
	gs_goroutine *g = receiver(m, 10, cs);
	mock_minutes(m, g, 7);
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_uint_eq(dg.n, 1);
	const gs_verdict *v = must(&dg, 10, "peer-silent");
	SUMMARY(v, "waits to receive on client stream 1 /svc.Echo/Bidi");
	SUMMARY(v, "transport healthy");
	EVIDENCE(v, "client transport 0x");
	EVIDENCE(v, "127.0.0.1:40000 -> 127.0.0.1:50051 is reachable");
	EVIDENCE(v, "recv buffer: 0 messages queued, 0 bytes unread");
	EVIDENCE(v, "inbound window: 65535 of 65535 bytes free");
	EVIDENCE(v, "no deadline on the call: it will wait forever");
	EVIDENCE(v, "the peer of this stream is not in this snapshot");
	EVIDENCE(v, "waiting for 7 minutes");
	ck_assert_int_eq(v->stream, mock_sidx(m, cs));
	ck_assert_uint_eq(v->nchain, 0);
	ck_assert(!v->reached);
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Data queued, or the window closed: the peer did send; not peer-silent. */
START_TEST(peer_silent_not_when_data_queued)
{
	for (int closed = 0; closed < 2; closed++) {
		mock *m = mock_new();
		gs_stream *cs;
		client_only(m, &cs);
		receiver(m, 10, cs);
		if (closed)
			cs->in.pending_data = 65535;
		else
			cs->queued_messages = 2;
		gs_diagnosis dg = diagnose_all(m);
		const gs_verdict *v = must(&dg, 10, "unknown");
		SUMMARY(v, "although data is queued or the window is closed");
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

START_TEST(peer_silent_headers)
{
	mock *m = mock_new();
	gs_stream *cs;
	client_only(m, &cs);
	gs_goroutine *g = mock_g(m, 10, GS_G_WAITING, "select");
	mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_HEADER, "main.watch", NULL);
	mock_wait_header(m, g, cs);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "peer-silent");
	SUMMARY(v, "waits for the response headers of client stream 1");
	EVIDENCE(v, "no response headers yet");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* A GOAWAY whose last stream id covers the stream: draining, the stream runs on. */
START_TEST(peer_silent_on_draining_transport)
{
	mock *m = mock_new();
	gs_stream *cs;
	gs_transport *t = client_only(m, &cs);
	t->state = GS_TR_DRAINING;
	t->goaway_received = true;
	t->goaway_last_id = 1;
	snprintf(t->goaway_debug, sizeof t->goaway_debug, "max_age");
	receiver(m, 10, cs);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "peer-silent");
	SUMMARY(v, "transport draining but the stream alive");
	EVIDENCE(v, "drains after a GOAWAY from the peer (last stream id 1; max_age)");
	EVIDENCE(v, "GOAWAY received");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* ---- transport-closing ---- */

START_TEST(transport_closing_receive)
{
	mock *m = mock_new();
	gs_stream *cs;
	gs_transport *t = client_only(m, &cs);
	t->state = GS_TR_CLOSING;
	receiver(m, 10, cs);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "transport-closing");
	SUMMARY(v, "while its transport is going away");
	EVIDENCE(v, "is closing");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* The same GOAWAY refused a stream above its last stream id: that one goes down. */
START_TEST(transport_closing_stream_above_goaway)
{
	mock *m = mock_new();
	gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_stream *s1 = mock_stream(m, t, 1, METHOD), *s3 = mock_stream(m, t, 3, METHOD);
	t->state = GS_TR_DRAINING;
	t->goaway_received = true;
	t->goaway_last_id = 1;
	receiver(m, 10, s1);
	receiver(m, 11, s3);
	gs_diagnosis dg = diagnose_all(m);
	must(&dg, 10, "peer-silent");
	must(&dg, 11, "transport-closing");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* GracefulStop waits for handlers: transport-closing blaming the handler; Serve is no stop. */
START_TEST(transport_closing_graceful_stop)
{
	for (int stopping = 0; stopping < 2; stopping++) {
		mock *m = mock_new();
		gs_transport *ct, *st;
		gs_stream *cs, *ss;
		in_process(m, &ct, &cs, &st, &ss);
		st->goaway_sent = true;
		st->state = GS_TR_DRAINING;
		gs_goroutine *h = mock_g(m, 20, GS_G_WAITING, "sync.Mutex.Lock");
		mock_stack(m, h, "runtime.gopark", "sync.(*Mutex).Lock", "main.(*server).Bidi", NULL);
		mock_wait(m, h, GS_WAIT_SEMA, 0xc0dd00);
		mock_handler(m, ss, h);
		gs_goroutine *g = mock_g(m, 30, GS_G_WAITING, "sync.WaitGroup.Wait");
		mock_stack(m, g, "runtime.gopark", "sync.(*WaitGroup).Wait",
			   stopping ? "google.golang.org/grpc.(*Server).GracefulStop"
				    : "google.golang.org/grpc.(*Server).Serve",
			   "main.main", NULL);
		mock_wait(m, g, GS_WAIT_SEMA, 0xc0ee00);
		gs_diagnosis dg = diagnose_all(m);
		if (stopping) {
			const gs_verdict *v = must(&dg, 30, "transport-closing");
			SUMMARY(v, "the server is");
			SUMMARY(v, "waits for");
			EVIDENCE(v, "server stream 1 /svc.Echo/Bidi: handler goroutine 20 ");
			EVIDENCE(v, "is draining, GOAWAY sent");
			ck_assert(mock_blames(v, 20));
		} else {
			ck_assert_ptr_null(mock_verdict(&dg, 30));
		}
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

/* ---- context-done ---- */

START_TEST(context_done_receive)
{
	for (int done = 0; done < 2; done++) {
		mock *m = mock_new();
		gs_stream *cs;
		client_only(m, &cs);
		receiver(m, 10, cs);
		cs->ctx.has_deadline = true;
		cs->ctx.deadline_unix_ns = 1700000000LL * 1000000000LL;
		if (done) {
			cs->ctx.done = true;
			cs->ctx.err = "context deadline exceeded";
		}
		gs_diagnosis dg = diagnose_all(m);
		const gs_verdict *v = must(&dg, 10, done ? "context-done" : "peer-silent");
		if (done) {
			SUMMARY(v, "although its context is done");
			EVIDENCE(v, "stream context is done: context deadline exceeded");
		} else {
			EVIDENCE(v, "deadline at unix time 1700000000");
		}
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

/* A handler blocked elsewhere although its stream's context is done. */
START_TEST(context_done_handler)
{
	mock *m = mock_new();
	gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
	gs_stream *ss = mock_stream(m, st, 1, METHOD);
	ss->ctx.done = true;
	ss->ctx.err = "context canceled";
	gs_goroutine *h = mock_g(m, 20, GS_G_WAITING, "chan receive");
	mock_stack(m, h, "runtime.gopark", "runtime.chanrecv", "main.(*server).Bidi", NULL);
	mock_wait(m, h, GS_WAIT_CHAN_RECV, 0xc0aa00);
	mock_handler(m, ss, h);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 20, "context-done");
	SUMMARY(v, "still runs although the stream's context is done (context canceled)");
	SUMMARY(v, "receive on channel 0xc0aa00 in main.(*server).Bidi");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* ---- reader-throttled ---- */

START_TEST(reader_throttled)
{
	for (int throttled = 0; throttled < 2; throttled++) {
		mock *m = mock_new();
		gs_stream *cs;
		gs_transport *t = client_only(m, &cs);
		receiver(m, 10, cs);
		gs_goroutine *reader = mock_g(m, 40, GS_G_WAITING, "chan receive");
		mock_stack(m, reader, "runtime.gopark",
			   "google.golang.org/grpc/internal/transport.(*controlBuffer).throttle", NULL);
		mock_wait_on(m, reader, NULL, t, GS_OWN_THROTTLE, GS_WAIT_CHAN_RECV);
		t->throttled = throttled;
		t->cbuf_items = 1200;
		t->cbuf_response_frames = 50;
		gs_diagnosis dg = diagnose_all(m);
		const gs_verdict *v = must(&dg, 10, throttled ? "reader-throttled" : "peer-silent");
		if (throttled) {
			SUMMARY(v, "the transport reader is throttled by the control buffer");
			EVIDENCE(v, "control buffer: 1200 items, 50 transport response frames queued");
			ck_assert(mock_blames(v, 40));
		}
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

/* ---- send-flow-control / writer-blocked ---- */

static gs_goroutine *sender(mock *m, uint64_t goid, gs_stream *cs)
{
	gs_goroutine *g = mock_g(m, goid, GS_G_WAITING, "select");
	mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_WRITE, "main.upload", NULL);
	mock_wait_send(m, g, cs);
	return g;
}

START_TEST(send_flow_control_window)
{
	mock *m = mock_new();
	gs_stream *cs;
	client_only(m, &cs);
	sender(m, 10, cs);
	cs->wq_quota = 0;
	cs->out.state = GS_OS_WAITING_QUOTA;
	cs->out.bytes_outstanding = 65535;
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "send-flow-control");
	SUMMARY(v, "the peer's flow-control window is exhausted");
	EVIDENCE(v, "write quota: 0 bytes (Send blocks at <= 0)");
	EVIDENCE(v, "loopy writer: stream waits for the peer's WINDOW_UPDATE, 65535 bytes outstanding");
	EVIDENCE(v, "connection send quota: 65535 bytes");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

START_TEST(send_flow_control_quota_only)
{
	mock *m = mock_new();
	gs_stream *cs;
	client_only(m, &cs);
	sender(m, 10, cs);
	cs->wq_quota = -20;
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "send-flow-control");
	SUMMARY(v, "the write quota is used up and the loopy writer cannot drain it");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Quota and windows open: nothing explains the wait; never a guess. */
START_TEST(send_flow_control_not_when_open)
{
	mock *m = mock_new();
	gs_stream *cs;
	client_only(m, &cs);
	sender(m, 10, cs);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "unknown");
	SUMMARY(v, "but its write quota and windows are open");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* The loopy writer parked writing to the socket; parked reading is no full send buffer. */
START_TEST(writer_blocked)
{
	for (int writing = 0; writing < 2; writing++) {
		mock *m = mock_new();
		gs_stream *cs;
		gs_transport *t = client_only(m, &cs);
		sender(m, 10, cs);
		cs->wq_quota = 0;
		gs_goroutine *loopy = mock_g(m, 50, GS_G_WAITING, "IO wait");
		mock_stack(m, loopy, "runtime.gopark", "internal/poll.(*FD).Write",
			   "google.golang.org/grpc/internal/transport.(*loopyWriter).run", NULL);
		mock_wait_socket(m, loopy, t, writing);
		gs_diagnosis dg = diagnose_all(m);
		const gs_verdict *v = must(&dg, 10, writing ? "writer-blocked" : "send-flow-control");
		if (writing) {
			SUMMARY(v, "the loopy writer is blocked writing to the socket");
			ck_assert(mock_blames(v, 50));
		} else {
			ck_assert(!mock_blames(v, 50));
		}
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

/* ---- stream-quota ---- */

static gs_goroutine *opener(mock *m, uint64_t goid, gs_transport *t)
{
	gs_goroutine *g = mock_g(m, goid, GS_G_WAITING, "select");
	mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_NEWSTREAM, "main.call", NULL);
	mock_wait_quota(m, g, t);
	return g;
}

START_TEST(stream_quota)
{
	mock *m = mock_new();
	gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	t->max_concurrent = 1;
	gs_stream *cs = mock_stream(m, t, 1, METHOD);
	receiver(m, 11, cs);
	opener(m, 10, t);
	t->waiting_streams = 1;
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "stream-quota");
	SUMMARY(v, "opening a stream to 127.0.0.1:50051 waits for the peer's MAX_CONCURRENT_STREAMS (1 streams open");
	EVIDENCE(v, "peer's MAX_CONCURRENT_STREAMS 1, stream quota left 0, 1 NewStream call waiting");
	EVIDENCE(v, "1 streams hold the quota on this transport");
	ck_assert(mock_blames(v, 11));
	must(&dg, 11, "peer-silent");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* The same wait on a draining transport, or on an unreadable one. */
START_TEST(stream_quota_not_when_unhealthy_or_unreadable)
{
	for (int unreadable = 0; unreadable < 2; unreadable++) {
		mock *m = mock_new();
		gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
		t->max_concurrent = 1;
		mock_stream(m, t, 1, METHOD);
		opener(m, 10, t);
		if (unreadable)
			t->unreadable = 0xc000dead0;
		else
			t->goaway_received = true;
		gs_diagnosis dg = diagnose_all(m);
		const gs_verdict *v = must(&dg, 10, unreadable ? "unknown" : "transport-closing");
		if (unreadable) {
			SUMMARY(v, "the transport's state is unreadable");
			EVIDENCE(v, "unreadable at 0xc000dead0");
		}
		gs_diagnosis_free(&dg);
		mock_free(m);
	}
}
END_TEST

/* ---- no-ready-transport ---- */

START_TEST(no_ready_transport)
{
	mock *m = mock_new();
	gs_goroutine *g = mock_g(m, 10, GS_G_WAITING, "select");
	mock_stack(m, g, "runtime.gopark", "runtime.selectgo", PICK,
		   "google.golang.org/grpc.(*ClientConn).Invoke", "main.call", NULL);
	mock_wait(m, g, GS_WAIT_SELECT_RECV, 0xc0bb00);
	mock_clientconn(m, g, "dns:///backend:443", "TRANSIENT_FAILURE", "1 TRANSIENT_FAILURE",
			"connection refused");
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "no-ready-transport");
	SUMMARY(v, "waits in the picker for a READY subchannel");
	SUMMARY(v, "(target dns:///backend:443, TRANSIENT_FAILURE)");
	EVIDENCE(v, "target dns:///backend:443, state TRANSIENT_FAILURE");
	EVIDENCE(v, "subchannels: 1 TRANSIENT_FAILURE");
	EVIDENCE(v, "last connection error: connection refused");
	EVIDENCE(v, "0 client transports in this process");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* In grpc's client code but not in the picker, on nothing of gRPC's: not reported. */
START_TEST(no_ready_transport_not_outside_picker)
{
	mock *m = mock_new();
	gs_goroutine *g = mock_g(m, 10, GS_G_WAITING, "select");
	mock_stack(m, g, "runtime.gopark", "runtime.selectgo",
		   "google.golang.org/grpc.(*ClientConn).Invoke", "main.call", NULL);
	mock_wait(m, g, GS_WAIT_SELECT_RECV, 0xc0bb00);
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_uint_eq(dg.n, 0);
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* ---- handler-blocked / app-not-reading ---- */

static gs_goroutine *mutex_handler(mock *m, uint64_t goid, gs_stream *ss, uint64_t mu)
{
	gs_goroutine *h = mock_g(m, goid, GS_G_WAITING, "sync.Mutex.Lock");
	mock_stack(m, h, "runtime.gopark", "runtime.semacquire1", "main.(*server).Bidi", NULL);
	mock_wait(m, h, GS_WAIT_SEMA, mu);
	if (ss)
		mock_handler(m, ss, h);
	return h;
}

START_TEST(handler_blocked)
{
	mock *m = mock_new();
	gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
	gs_stream *ss = mock_stream(m, st, 1, METHOD);
	mutex_handler(m, 20, ss, 0xc0cc00);
	mutex_handler(m, 21, NULL, 0xc0cc00); /* another goroutine on the same mutex */
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 20, "handler-blocked");
	SUMMARY(v, "the handler of server stream 1 /svc.Echo/Bidi is blocked outside gRPC: "
		   "sync.Mutex.Lock on 0xc0cc00 in main.(*server).Bidi");
	EVIDENCE(v, "at main.(*server).Bidi (main.go:12)");
	EVIDENCE(v, "goroutine 21 waits on the same object");
	EVIDENCE(v, "the runtime does not record which goroutine holds it");
	EVIDENCE(v, "server stream 1 /svc.Echo/Bidi: 0 messages queued, 0 bytes unread");
	ck_assert(mock_blames(v, 21));
	/* 21 is reached through the chain, not reported by itself. */
	const gs_verdict *w = must(&dg, 21, "handler-blocked");
	ck_assert(w->reached);
	SUMMARY(w, "blocked outside gRPC: sync.Mutex.Lock on 0xc0cc00");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* A goroutine on a mutex that has nothing to do with gRPC: not reported; asked for, it is
 * told apart. */
START_TEST(handler_blocked_not_without_stream)
{
	mock *m = mock_new();
	mutex_handler(m, 22, NULL, 0xc0cc00);
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_uint_eq(dg.n, 0);
	gs_diagnosis_free(&dg);
	dg = diagnose_one(m, 22);
	const gs_verdict *v = must(&dg, 22, "unknown");
	SUMMARY(v, "not waiting in gRPC or on a gRPC object (sync.Mutex.Lock)");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* The client is stuck sending because the server's handler does not read what arrived. */
static void unread_case(mock *m, bool window_closed, bool client_sends)
{
	gs_transport *ct, *st;
	gs_stream *cs, *ss;
	in_process(m, &ct, &cs, &st, &ss);
	if (client_sends) {
		sender(m, 10, cs);
		cs->wq_quota = 0;
		cs->out.state = GS_OS_WAITING_QUOTA;
	}
	ss->queued_messages = 3;
	ss->in.pending_data = window_closed ? 65535 : 100;
	gs_goroutine *h = mock_g(m, 20, GS_G_WAITING, "chan receive");
	mock_stack(m, h, "runtime.gopark", "runtime.chanrecv1", "main.(*server).Bidi", NULL);
	mock_wait(m, h, GS_WAIT_CHAN_RECV, 0xc0aa00);
	mock_handler(m, ss, h);
}

START_TEST(app_not_reading)
{
	mock *m = mock_new();
	unread_case(m, true, true);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *c = must(&dg, 10, "send-flow-control");
	EVIDENCE(c, "peer: server stream 1 in this process");
	ck_assert(mock_blames(c, 20));
	const gs_verdict *v = must(&dg, 20, "app-not-reading");
	SUMMARY(v, "server stream 1 /svc.Echo/Bidi holds 65535 received bytes that no goroutine reads");
	SUMMARY(v, "receive on channel 0xc0aa00 — so the peer's send is blocked by flow control");
	EVIDENCE(v, "3 messages queued, 65535 bytes unread, inbound window 0 free");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Unread data, but the window is open and nobody sends: the handler is just blocked. */
START_TEST(app_not_reading_not_when_window_open)
{
	mock *m = mock_new();
	unread_case(m, false, false);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 20, "handler-blocked");
	SUMMARY(v, "receive on channel 0xc0aa00 in main.(*server).Bidi");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* The peer's sender blocked on this stream is enough, even with the window still open. */
START_TEST(app_not_reading_peer_sending)
{
	mock *m = mock_new();
	unread_case(m, false, true);
	gs_diagnosis dg = diagnose_all(m);
	must(&dg, 20, "app-not-reading");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* ---- unknown ---- */

/* Memory a verdict would rest on is unreadable: say so, never judge. */
START_TEST(unknown_unreadable_stream)
{
	mock *m = mock_new();
	gs_stream *cs;
	client_only(m, &cs);
	receiver(m, 10, cs);
	cs->unreadable = 0xc000beef0;
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "unknown");
	SUMMARY(v, "but memory its verdict rests on is unreadable");
	EVIDENCE(v, "unreadable at 0xc000beef0");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Parked in the transport's receive on an object no stream owns (a damaged model). */
START_TEST(unknown_owner)
{
	mock *m = mock_new();
	gs_goroutine *g = mock_g(m, 10, GS_G_WAITING, "select");
	mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_RECV, "main.client", NULL);
	mock_wait(m, g, GS_WAIT_SELECT_RECV, 0xc0ff00);
	mock_unreadable_transport(m, 0xc000aaa00, 0xc000aaa40, false);
	mock_missing_bytes(m, 4096);
	gs_diagnosis dg = diagnose_all(m);
	const gs_verdict *v = must(&dg, 10, "unknown");
	SUMMARY(v, "on an object no readable stream or transport owns");
	EVIDENCE(v, "waits on channel at 0xc0ff00, owner unknown");
	EVIDENCE(v, "possible client transport 0xc000aaa00: unreadable at 0xc000aaa40");
	EVIDENCE(v, "the core is truncated: 4096 bytes of memory are missing");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

START_TEST(unknown_not_blocked)
{
	mock *m = mock_new();
	gs_goroutine *g = mock_g(m, 10, GS_G_RUNNING, "");
	mock_stack(m, g, "main.busy", NULL);
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_uint_eq(dg.n, 0);
	gs_diagnosis_free(&dg);
	dg = diagnose_one(m, 10);
	const gs_verdict *v = must(&dg, 10, "unknown");
	SUMMARY(v, "not blocked: running");
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

START_TEST(unknown_goroutine_id_is_an_input_error)
{
	mock *m = mock_new();
	gs_diagnosis dg;
	gs_err e = {0};
	uint64_t id = 99;
	ck_assert_int_lt(gs_diagnose(mock_rt(m), mock_grpc(m), &id, 1, &dg, &e), 0);
	ck_assert_int_eq(e.code, GS_EINPUT);
	ck_assert_str_eq(e.msg, "why-blocked: no goroutine 99");
	mock_free(m);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("diag_rules");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, peer_silent_receive);
	tcase_add_test(tc, peer_silent_not_when_data_queued);
	tcase_add_test(tc, peer_silent_headers);
	tcase_add_test(tc, peer_silent_on_draining_transport);
	tcase_add_test(tc, transport_closing_receive);
	tcase_add_test(tc, transport_closing_stream_above_goaway);
	tcase_add_test(tc, transport_closing_graceful_stop);
	tcase_add_test(tc, context_done_receive);
	tcase_add_test(tc, context_done_handler);
	tcase_add_test(tc, reader_throttled);
	tcase_add_test(tc, send_flow_control_window);
	tcase_add_test(tc, send_flow_control_quota_only);
	tcase_add_test(tc, send_flow_control_not_when_open);
	tcase_add_test(tc, writer_blocked);
	tcase_add_test(tc, stream_quota);
	tcase_add_test(tc, stream_quota_not_when_unhealthy_or_unreadable);
	tcase_add_test(tc, no_ready_transport);
	tcase_add_test(tc, no_ready_transport_not_outside_picker);
	tcase_add_test(tc, handler_blocked);
	tcase_add_test(tc, handler_blocked_not_without_stream);
	tcase_add_test(tc, app_not_reading);
	tcase_add_test(tc, app_not_reading_not_when_window_open);
	tcase_add_test(tc, app_not_reading_peer_sending);
	tcase_add_test(tc, unknown_unreadable_stream);
	tcase_add_test(tc, unknown_owner);
	tcase_add_test(tc, unknown_not_blocked);
	tcase_add_test(tc, unknown_goroutine_id_is_an_input_error);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
