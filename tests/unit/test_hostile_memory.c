/* Hostile memory (issue 7, in-memory corruption): a real fixture core's memory with
 * targeted corruptions laid over it (tests/fuzz/memimage.h) — cyclic sudog lists, absurd
 * allgs lengths, pointers into unmapped memory, corrupt activeStreams maps. Analysis must
 * finish in bounded time and reads, never crash, and report what it could not read.
 * Snapshots come from GS_FIXTURES (default fixtures/out); without them the tests fail. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gs_check.h"

#include "../fuzz/imgsession.h"
#include "../../analyzer/src/diagnose/verdicts.h"

#define UNMAPPED 0x00000dead0000000ull
#define MAX_READS 3000000u /* callback reads a command may take on a corrupted image */

static const char *const snaps[] = {"go119-grpc133/peer-silent", "go127-grpc181/peer-silent"};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_fix(imgfix *f, size_t i)
{
	const char *root = getenv("GS_FIXTURES") ? getenv("GS_FIXTURES") : "fixtures/out";
	char dir[512];
	snprintf(dir, sizeof dir, "%s/%s", root, snaps[i]);
	char core[1024];
	snprintf(core, sizeof core, "%s/core", dir);
	/* A missing snapshot is a failure with its name, never a silent skip. */
	ck_assert_msg(access(core, R_OK) == 0, "hostile: snapshot %s missing (make fixtures)", dir);
	ck_assert_int_eq(imgfix_open(f, dir), 0);
	return 0;
}

/* Runs the commands that walk everything; all must succeed in bounded time and reads. */
static void run_all(imgfix *f, const char *what)
{
	double t0 = now_s();
	gs_err err = {0};
	f->mi.reads = 0;
	gs_session *s = imgfix_session(f, &err);
	ck_assert_msg(s != NULL, "%s: session: %s", what, err.msg);
	static const char *const cmds[][3] = {{"goroutines", "--stacks", NULL},
					      {"goroutines", "--json", NULL},
					      {"streams", "--json", NULL},
					      {"why-blocked", "--json", NULL}};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char *out = NULL;
		int rc = imgfix_run(s, &out, cmds[i][0], cmds[i][1], cmds[i][2]);
		ck_assert_msg(rc == 0, "%s: %s exit %d", what, cmds[i][0], rc);
		ck_assert_msg(out && *out, "%s: %s printed nothing", what, cmds[i][0]);
		gs_free(out);
	}
	imgfix_session_close(s);
	if (getenv("GS_HOSTILE_VERBOSE"))
		fprintf(stderr, "%s: %llu reads, %.2f s\n", what, (unsigned long long)f->mi.reads,
			now_s() - t0);
	ck_assert_msg(f->mi.reads < MAX_READS, "%s: %llu reads", what,
		      (unsigned long long)f->mi.reads);
	ck_assert_msg(now_s() - t0 < 60, "%s: took %.1f s", what, now_s() - t0);
}

/* First waiting goroutine with a sudog (chan receive/select), from a pristine session. */
static gs_goroutine first_sudog_waiter(imgfix *f, int64_t *waitlink, int64_t *next)
{
	gs_err err = {0};
	gs_session *s = imgfix_session(f, &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	gs_goroutine found = {0};
	for (size_t i = 0; i < gs_rt_ngoroutines(s->rt); i++) {
		gs_goroutine *g = gs_rt_goroutine(s->rt, i);
		const char *r = gs_rt_wait_reason(s->rt, g);
		if (g->status == GS_G_WAITING && g->waiting &&
		    (strncmp(r, "chan ", 5) == 0 || strncmp(r, "select", 6) == 0)) {
			if (getenv("GS_HOSTILE_VERBOSE"))
				fprintf(stderr, "goroutine %llu [%s] sudog 0x%llx\n",
					(unsigned long long)g->goid, r, (unsigned long long)g->waiting);
			found = *g;
			break;
		}
	}
	*waitlink = gs_rt_off(s->rt, RT_SUDOG_WAITLINK);
	*next = gs_rt_off(s->rt, RT_SUDOG_NEXT);
	found.frames = NULL;
	found.waits = NULL;
	found.stack_error = NULL;
	imgfix_session_close(s);
	ck_assert_msg(found.addr != 0, "no goroutine waits with a sudog");
	return found;
}

START_TEST(test_cyclic_sudog_lists)
{
	imgfix f;
	if (open_fix(&f, (size_t)_i) < 0)
		return;
	run_all(&f, "pristine");
	int64_t wl, nx;
	gs_goroutine g = first_sudog_waiter(&f, &wl, &nx);
	/* waitlink pointing back at itself, and the channel queue's next too */
	mi_write_u64(&f.mi, g.waiting + (uint64_t)wl, g.waiting);
	mi_write_u64(&f.mi, g.waiting + (uint64_t)nx, g.waiting);
	run_all(&f, "sudog self cycles");
	/* a longer ring: the sudog's waitlink to a second node that links back */
	mi_reset(&f.mi);
	uint64_t other = g.addr; /* any readable memory; its word at +wl becomes the link */
	mi_write_u64(&f.mi, g.waiting + (uint64_t)wl, other);
	mi_write_u64(&f.mi, other + (uint64_t)wl, g.waiting);
	mi_write_u64(&f.mi, g.waiting + (uint64_t)nx, other);
	mi_write_u64(&f.mi, other + (uint64_t)nx, g.waiting);
	run_all(&f, "sudog two-node rings");
	/* the channel's queues ring without the waiter in them, the waiter's waitlink rings too:
	 * unbounded walks would take 4096 x 2 x 1M reads */
	mi_reset(&f.mi);
	{
		gs_err e = {0};
		gs_session *ss = imgfix_session(&f, &e);
		int64_t co = gs_rt_off(ss->rt, RT_SUDOG_C), rq = gs_rt_off(ss->rt, RT_HCHAN_RECVQ),
			sq = gs_rt_off(ss->rt, RT_HCHAN_SENDQ), fo = gs_rt_off(ss->rt, RT_WAITQ_FIRST);
		imgfix_session_close(ss);
		uint64_t c;
		ck_assert_int_eq(mi_read_base(&f.mi, g.waiting + (uint64_t)co, &c, 8), 0);
		ck_assert_uint_ne(c, 0);
		mi_write_u64(&f.mi, c + (uint64_t)rq + (uint64_t)fo, other);
		mi_write_u64(&f.mi, c + (uint64_t)sq + (uint64_t)fo, other);
		mi_write_u64(&f.mi, other + (uint64_t)nx, other);
		mi_write_u64(&f.mi, g.waiting + (uint64_t)wl, g.waiting);
		run_all(&f, "channel queues ring without the waiter");
	}
	/* the goroutine's sudog pointer into unmapped memory */
	mi_reset(&f.mi);
	gs_err err = {0};
	gs_session *s = imgfix_session(&f, &err);
	int64_t woff = gs_rt_off(s->rt, RT_G_WAITING);
	imgfix_session_close(s);
	mi_write_u64(&f.mi, g.addr + (uint64_t)woff, UNMAPPED);
	run_all(&f, "sudog pointer into unmapped memory");
	imgfix_close(&f);
}
END_TEST

START_TEST(test_allgs_absurd)
{
	imgfix f;
	if (open_fix(&f, (size_t)_i) < 0)
		return;
	gs_err err = {0};
	gs_session *s = imgfix_session(&f, &err);
	ck_assert_ptr_nonnull(s);
	uint64_t allgs;
	ck_assert_int_eq(gs_rt_global(s->rt, "runtime.allgs", &allgs, &err), 0);
	imgfix_session_close(s);
	static const struct {
		uint64_t ptr, len, cap;
		const char *msg;
	} cases[] = {
		{0, 1ull << 40, 1ull << 40, "absurd length"},
		{0, 5, 2, "absurd length"},                 /* len > cap */
		{UNMAPPED, 3, 3, "allgs array"},            /* array in unmapped memory */
		{0, 1u << 23, 1u << 23, "allgs array"},     /* huge slice, runs off the mapping */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mi_reset(&f.mi);
		uint64_t hdr[3];
		ck_assert_int_eq(mi_read_base(&f.mi, allgs, hdr, sizeof hdr), 0);
		hdr[0] = cases[i].ptr ? cases[i].ptr : hdr[0];
		hdr[1] = cases[i].len;
		hdr[2] = cases[i].cap;
		mi_write(&f.mi, allgs, hdr, sizeof hdr);
		double t0 = now_s();
		memset(&err, 0, sizeof err);
		s = imgfix_session(&f, &err);
		ck_assert_msg(s == NULL, "case %zu: opened anyway", i);
		ck_assert_msg(strstr(err.msg, cases[i].msg) != NULL, "case %zu: %s", i, err.msg);
		ck_assert(now_s() - t0 < 30);
	}
	/* one goroutine pointer in allgs into unmapped memory: the rest are still read */
	mi_reset(&f.mi);
	uint64_t arr;
	ck_assert_int_eq(mi_read_base(&f.mi, allgs, &arr, 8), 0);
	mi_write_u64(&f.mi, arr, UNMAPPED);
	run_all(&f, "allgs[0] unmapped");
	/* ... and the one that is not is named, in text and JSON, not dropped */
	s = imgfix_session(&f, &err);
	ck_assert_ptr_nonnull(s);
	char *out = NULL, want[80];
	snprintf(want, sizeof want, "goroutine at 0x%llx: unreadable", (unsigned long long)UNMAPPED);
	ck_assert_int_eq(imgfix_run(s, &out, "goroutines", NULL, NULL), 0);
	ck_assert_msg(strstr(out, want) != NULL, "goroutines does not say: %s", want);
	gs_free(out);
	snprintf(want, sizeof want, "\"unreadable\":{\"count\":1,\"addresses\":[\"0x%llx\"]",
		 (unsigned long long)UNMAPPED);
	ck_assert_int_eq(imgfix_run(s, &out, "goroutines", "--json", NULL), 0);
	ck_assert_msg(strstr(out, want) != NULL, "goroutines --json lacks %s", want);
	gs_free(out);
	ck_assert_int_eq(imgfix_run(s, &out, "info", NULL, NULL), 0);
	ck_assert_msg(strstr(out, "unreadable:   1 goroutine") != NULL, "info: %s", out);
	gs_free(out);
	imgfix_session_close(s);
	imgfix_close(&f);
}
END_TEST

/* A session over the image and its gRPC model (linked, which reads the contexts: what
 * why-blocked judges by); both must open. */
static gs_grpc *session_grpc(imgfix *f, gs_session **s, bool linked)
{
	gs_err err = {0};
	*s = imgfix_session(f, &err);
	ck_assert_msg(*s != NULL, "session: %s", err.msg);
	gs_grpc *g = linked ? gs_session_grpc_linked(*s, &err) : gs_session_grpc(*s, &err);
	ck_assert_msg(g != NULL, "gRPC model: %s", err.msg);
	return g;
}

START_TEST(test_active_streams_corrupt)
{
	imgfix f;
	if (open_fix(&f, (size_t)_i) < 0)
		return;
	gs_err err = {0};
	gs_session *s;
	gs_grpc *g = session_grpc(&f, &s, false);
	ck_assert_uint_gt(gs_grpc_ntransports(g), 0);
	const gs_transport *tr = NULL;
	for (size_t i = 0; i < gs_grpc_ntransports(g) && !tr; i++)
		if (gs_grpc_transport(g, i)->nstreams > 0)
			tr = gs_grpc_transport(g, i);
	ck_assert_msg(tr != NULL, "no transport with streams");
	uint64_t taddr = tr->addr;
	int64_t mo = gs_grpc_layout(g)->offsets[tr->side == GS_SERVER ? GS_ACTIVE_STREAMS
								     : GC_ACTIVE_STREAMS];
	imgfix_session_close(s);
	ck_assert_int_ge(mo, 0);
	uint64_t map;
	ck_assert_int_eq(mi_read_base(&f.mi, taddr + (uint64_t)mo, &map, 8), 0);
	ck_assert_uint_ne(map, 0);
	for (int c = 0; c < 3; c++) {
		mi_reset(&f.mi);
		uint8_t junk[64];
		switch (c) {
		case 0: /* the map pointer into unmapped memory */
			mi_write_u64(&f.mi, taddr + (uint64_t)mo, UNMAPPED);
			break;
		case 1: /* an absurd header: count, B / dirLen, all ones */
			memset(junk, 0xff, sizeof junk);
			mi_write(&f.mi, map, junk, sizeof junk);
			break;
		default: /* the map header's pointers aimed back at the header itself */
			for (int k = 0; k < 8; k++)
				memcpy(junk + 8 * k, &map, 8);
			mi_write(&f.mi, map + 8, junk, 56);
			break;
		}
		run_all(&f, c == 0 ? "activeStreams unmapped" : c == 1 ? "activeStreams absurd"
									: "activeStreams self-pointers");
		s = imgfix_session(&f, &err);
		g = gs_session_grpc(s, &err);
		ck_assert_ptr_nonnull(g);
		for (size_t i = 0; i < gs_grpc_ntransports(g); i++) {
			tr = gs_grpc_transport(g, i);
			if (tr->addr != taddr)
				continue;
			/* unreadable: a problem that names it, or no streams invented from garbage */
			if (c < 2)
				ck_assert_msg(tr->problem[0] != 0, "case %d: no problem reported", c);
			ck_assert_uint_lt(tr->nstreams, 10000);
		}
		imgfix_session_close(s);
	}
	imgfix_close(&f);
}
END_TEST

/* A verdict that rests on memory that cannot be read says unknown and names the address:
 * the recv buffer channel of a peer-silent stream made unreadable, then the stream's
 * inbound flow control, then the transport's control buffer. */
static const gs_verdict *verdict_of(const gs_diagnosis *dg, uint64_t goid)
{
	for (size_t i = 0; i < dg->n; i++)
		if (dg->v[i].goid == goid)
			return &dg->v[i];
	return NULL;
}

/* Whether an evidence line says "unreadable at 0x..." with an address in [lo, lo + len). */
static bool evidence_names(const gs_verdict *v, uint64_t lo, uint64_t len)
{
	for (size_t i = 0; i < v->nevidence; i++) {
		const char *p = strstr(v->evidence[i], "unreadable at 0x");
		if (getenv("GS_HOSTILE_VERBOSE"))
			fprintf(stderr, "  evidence: %s\n", v->evidence[i]);
		if (!p)
			continue;
		uint64_t a = strtoull(p + strlen("unreadable at "), NULL, 16);
		if (a >= lo && a < lo + len)
			return true;
	}
	return false;
}

START_TEST(test_unreadable_stream_state)
{
	imgfix f;
	if (open_fix(&f, (size_t)_i) < 0)
		return;
	gs_err err = {0};
	gs_session *s;
	gs_grpc *g = session_grpc(&f, &s, true);
	gs_diagnosis dg;
	ck_assert_int_eq(gs_diagnose(s->rt, g, NULL, 0, &dg, &err), 0);
	/* a pristine peer-silent verdict on a stream, and what it was read from */
	uint64_t goid = 0, chan = 0, cbuf_owner = 0;
	for (size_t i = 0; i < dg.n && !goid; i++) {
		const gs_verdict *v = &dg.v[i];
		if (strcmp(v->code, "peer-silent") == 0 && v->stream >= 0) {
			const gs_stream *st = gs_grpc_stream(g, (size_t)v->stream);
			goid = v->goid;
			chan = st->recv_chan;
			cbuf_owner = gs_grpc_transport(g, st->transport)->addr;
		}
	}
	gs_diagnosis_free(&dg);
	int64_t cbo = gs_grpc_layout(g)->offsets[GC_CONTROLBUF];
	imgfix_session_close(s);
	ck_assert_msg(goid && chan, "no peer-silent verdict with a recv buffer");
	uint64_t cb = 0;
	ck_assert_int_eq(mi_read_base(&f.mi, cbuf_owner + (uint64_t)cbo, &cb, 8), 0);
	for (int c = 0; c < 2; c++) {
		mi_reset(&f.mi);
		uint64_t hole = c == 0 ? chan : cb;
		mi_hole(&f.mi, hole, 64);
		run_all(&f, c == 0 ? "recv buffer channel unreadable" : "control buffer unreadable");
		g = session_grpc(&f, &s, true);
		ck_assert_int_eq(gs_diagnose(s->rt, g, &goid, 1, &dg, &err), 0);
		const gs_verdict *v = verdict_of(&dg, goid);
		ck_assert_msg(v != NULL, "case %d: no verdict for goroutine %llu", c,
			      (unsigned long long)goid);
		ck_assert_msg(strcmp(v->code, "unknown") == 0, "case %d: verdict %s, not unknown", c,
			      v->code);
		ck_assert_msg(evidence_names(v, hole, 64),
			      "case %d: no evidence naming an address in the hole at 0x%llx (%s)", c,
			      (unsigned long long)hole, v->summary);
		gs_diagnosis_free(&dg);
		imgfix_session_close(s);
	}
	imgfix_close(&f);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("hostile_memory");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120); /* a cyclic walk without a bound ran for minutes */
	tcase_add_loop_test(tc, test_cyclic_sudog_lists, 0, 2);
	tcase_add_loop_test(tc, test_allgs_absurd, 0, 2);
	tcase_add_loop_test(tc, test_active_streams_corrupt, 0, 2);
	tcase_add_loop_test(tc, test_unreadable_stream_state, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
