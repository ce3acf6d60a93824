/* What the verdict-rule tests (test_diag_*.c) share: the grpc-go frames a hand-built
 * goroutine stands in, running the rules over a mock program, and assertions on a verdict's
 * code, summary and evidence. */
#ifndef GS_TEST_DIAG_CHECK_H
#define GS_TEST_DIAG_CHECK_H

#include <string.h>

#include "gs_check.h"
#include "mock_model.h"

#define T_RECV "google.golang.org/grpc/internal/transport.(*recvBufferReader).read"
#define T_HEADER "google.golang.org/grpc/internal/transport.(*Stream).waitOnHeader"
#define T_WRITE "google.golang.org/grpc/internal/transport.(*http2Client).Write"
#define T_NEWSTREAM "google.golang.org/grpc/internal/transport.(*http2Client).NewStream"
#define T_THROTTLE "google.golang.org/grpc/internal/transport.(*controlBuffer).throttle"
#define T_READER "google.golang.org/grpc/internal/transport.(*http2Client).reader"
#define T_LOOPY "google.golang.org/grpc/internal/transport.(*loopyWriter).run"
#define PICK "google.golang.org/grpc.(*pickerWrapper).pick"
#define METHOD "/svc.Echo/Bidi"

/* Every goroutine blocked in or on gRPC (why-blocked without ids). */
static inline gs_diagnosis diagnose_all(mock *m)
{
	gs_diagnosis dg;
	gs_err e = {0};
	ck_assert_int_eq(gs_diagnose(mock_rt(m), mock_grpc(m), NULL, 0, &dg, &e), 0);
	return dg;
}

/* The verdict of one goroutine, asked for by id. */
static inline gs_diagnosis diagnose_one(mock *m, uint64_t goid)
{
	gs_diagnosis dg;
	gs_err e = {0};
	ck_assert_int_eq(gs_diagnose(mock_rt(m), mock_grpc(m), &goid, 1, &dg, &e), 0);
	ck_assert_uint_ge(dg.n, 1);
	return dg;
}

/* goid's verdict, which must have this code. */
static inline const gs_verdict *must(const gs_diagnosis *dg, uint64_t goid, const char *code)
{
	const gs_verdict *v = mock_verdict(dg, goid);
	ck_assert_msg(v != NULL, "no verdict for goroutine %llu", (unsigned long long)goid);
	ck_assert_msg(strcmp(v->code, code) == 0, "goroutine %llu: %s, expected %s (%s)",
		      (unsigned long long)goid, v->code, code, v->summary);
	return v;
}

#define EVIDENCE(v, s) ck_assert_msg(mock_has_evidence(v, s), "no evidence \"%s\" in %s", s, (v)->summary)
#define NO_EVIDENCE(v, s) ck_assert_msg(!mock_has_evidence(v, s), "evidence \"%s\" in %s", s, (v)->summary)
#define SUMMARY(v, s) ck_assert_msg(strstr((v)->summary, s), "summary \"%s\" lacks \"%s\"", (v)->summary, s)
#define NO_SUMMARY(v, s) ck_assert_msg(!strstr((v)->summary, s), "summary \"%s\" has \"%s\"", (v)->summary, s)

#endif
