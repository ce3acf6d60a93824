/* Stuck or slow (diagnose/diff.c): two hand-built snapshots of one process, a moment apart.
 * A stream whose counters and goroutines stayed put is unchanged, one whose receive queue
 * moved progressed; goroutines parked on the same objects since the same moment are parked,
 * the others moved; the rest new or gone. Snapshots with no thread in common are refused. */
#include <string.h>

#include "../../analyzer/src/diagnose/diff.h"
#include "gs_check.h"
#include "diag_check.h"

/* The same program at two moments: stream 1 stuck, stream 3 moving, stream 5 opened in
 * between; goroutine 12 ended, 13 started. later: the second moment. */
static mock *moment(bool later)
{
	mock *m = mock_new();
	mock_thread(m, 4242);
	gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_stream *s1 = mock_stream(m, t, 1, "/svc.Echo/Bidi");
	gs_stream *s3 = mock_stream(m, t, 3, "/svc.Echo/Bidi");
	s3->queued_messages = later ? 4 : 1;
	uint64_t ids[] = {10, 11, later ? 13 : 12};
	for (int i = 0; i < 3; i++) {
		gs_goroutine *g = mock_g(m, ids[i], GS_G_WAITING, "select");
		mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_RECV, "main.client", NULL);
		mock_wait_recv(m, g, i == 0 ? s1 : s3);
		mock_give_stack(m, g);
		g->waitsince = 1000 + (i == 1 && later ? 500 : 0); /* 11 woke and parked again */
	}
	if (later) /* last: the objects above keep their addresses in both moments */
		mock_stream(m, t, 5, "/svc.Echo/Bidi");
	return m;
}

static const gs_stream_diff *stream_diff(const gs_diff *d, mock *a, mock *b, uint32_t id)
{
	for (size_t i = 0; i < d->nstreams; i++) {
		long k = d->streams[i].before >= 0 ? d->streams[i].before : d->streams[i].after;
		mock *m = d->streams[i].before >= 0 ? a : b;
		if (gs_grpc_stream(mock_grpc(m), (size_t)k)->id == id)
			return &d->streams[i];
	}
	return NULL;
}

static enum gs_change goroutine_change(const gs_diff *d, uint64_t goid)
{
	for (size_t i = 0; i < d->ngoroutines; i++)
		if (d->goroutines[i].goid == goid)
			return d->goroutines[i].change;
	ck_abort_msg("goroutine %llu not in the diff", (unsigned long long)goid);
	return GS_CH_GONE;
}

START_TEST(stuck_or_slow)
{
	mock *a = moment(false), *b = moment(true);
	gs_diff d;
	gs_err e = {0};
	ck_assert_int_eq(gs_diff_models(mock_rt(a), mock_grpc(a), mock_rt(b), mock_grpc(b), &d, &e), 0);
	ck_assert_uint_eq(d.nstreams, 3);
	const gs_stream_diff *s1 = stream_diff(&d, a, b, 1), *s3 = stream_diff(&d, a, b, 3),
			     *s5 = stream_diff(&d, a, b, 5);
	ck_assert(s1 && s3 && s5);
	ck_assert_str_eq(gs_change_name(s1->change), "unchanged");
	ck_assert_str_eq(gs_change_name(s3->change), "progressed");
	ck_assert_str_eq(s3->moved, "recv queue");
	ck_assert_str_eq(gs_change_name(s5->change), "new");
	ck_assert_int_eq(goroutine_change(&d, 10), GS_CH_PARKED);
	ck_assert_int_eq(goroutine_change(&d, 11), GS_CH_MOVED);
	ck_assert_int_eq(goroutine_change(&d, 12), GS_CH_GONE);
	ck_assert_int_eq(goroutine_change(&d, 13), GS_CH_NEW);
	gs_diff_free(&d);
	mock_free(a);
	mock_free(b);
}
END_TEST

/* The counters equal, but a goroutine of the stream parked anew: it moved in between. */
START_TEST(parked_anew_is_progress)
{
	mock *a = moment(false), *b = moment(true);
	gs_stream *s3 = (gs_stream *)gs_grpc_stream(mock_grpc(b), 1);
	s3->queued_messages = 1;
	gs_diff d;
	gs_err e = {0};
	ck_assert_int_eq(gs_diff_models(mock_rt(a), mock_grpc(a), mock_rt(b), mock_grpc(b), &d, &e), 0);
	const gs_stream_diff *sd = stream_diff(&d, a, b, 3);
	ck_assert_str_eq(gs_change_name(sd->change), "progressed");
	ck_assert_str_eq(sd->moved, "its goroutines parked anew");
	gs_diff_free(&d);
	mock_free(a);
	mock_free(b);
}
END_TEST

START_TEST(not_one_process)
{
	mock *a = moment(false), *b = mock_new();
	mock_thread(b, 777);
	gs_diff d;
	gs_err e = {0};
	ck_assert_int_lt(gs_diff_models(mock_rt(a), mock_grpc(a), mock_rt(b), mock_grpc(b), &d, &e), 0);
	ck_assert_int_eq(e.code, GS_EINPUT);
	ck_assert(strstr(e.msg, "are not snapshots of one process"));
	mock_free(a);
	mock_free(b);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("diag_diff");
	TCase *tc = tcase_create("diff");
	tcase_add_test(tc, stuck_or_slow);
	tcase_add_test(tc, parked_anew_is_progress);
	tcase_add_test(tc, not_one_process);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
