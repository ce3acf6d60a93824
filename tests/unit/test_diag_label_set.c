/* why-blocked --label over a set of snapshots (diagnose/label_filter.c), from hand-built
 * goroutines and verdicts: one filter over the whole set. A peer's verdict reached from a
 * labelled goroutine of another process stays (through peer_chain, in-process chain steps in
 * between, and across paths), whatever its own labels; an unrelated one goes. */
#include <stdlib.h>
#include <string.h>

#include "gs_check.h"
#include "mock_model.h"
#include "chain_verdict.h"
#include "../../analyzer/src/diagnose/diag_internal.h"
#include "../../analyzer/src/diagnose/label_filter.h"

/* Verdict goid (a goroutine of m) blaming to_goid of snapshot to_snap (0: nothing) and the
 * in-process goroutine local (0: none). */
static void verdict(mock *m, gs_diagnosis *d, uint64_t goid, const gs_labels *l, size_t to_snap,
		    uint64_t to_goid, uint64_t local)
{
	gs_goroutine *g = mock_g(m, goid, GS_G_WAITING, "select");
	mock_labels(m, g, l);
	chain_verdict(d, goid, "peer-silent", to_snap, to_goid, local)->reached = l == NULL;
}

static bool has(const gs_diagnosis *d, uint64_t goid)
{
	return mock_verdict(d, goid) != NULL;
}

typedef struct set3 {
	mock *m[3];
	gs_rt *rt[3];
	gs_diagnosis d[3];
} set3;

static char k_job[] = "job", v_a[] = "a", v_b[] = "b";
static gs_label kv_a = {k_job, v_a}, kv_b = {k_job, v_b};
static const gs_labels job_a = {0xc0ff00, 1, &kv_a, NULL}, job_b = {0xc0ff40, 1, &kv_b, NULL};

/* client 7 (job=a) -> gateway 20 -> its in-process 22 -> backend 30; client 8 (no labels)
 * -> gateway 21 (the same method, unrelated); 9 (job=a) alone; gateway 23 (job=b) alone;
 * backend 31 unrelated. */
static void build(set3 *s)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < 3; i++) {
		s->m[i] = mock_new();
		s->rt[i] = mock_rt(s->m[i]);
	}
	verdict(s->m[0], &s->d[0], 7, &job_a, 1, 20, 0);
	verdict(s->m[0], &s->d[0], 8, NULL, 1, 21, 0);
	verdict(s->m[0], &s->d[0], 9, &job_a, 0, 0, 0);
	verdict(s->m[1], &s->d[1], 20, NULL, 0, 0, 22);
	verdict(s->m[1], &s->d[1], 21, NULL, 0, 0, 0);
	verdict(s->m[1], &s->d[1], 22, NULL, 2, 30, 0);
	verdict(s->m[1], &s->d[1], 23, &job_b, 0, 0, 0);
	verdict(s->m[2], &s->d[2], 30, NULL, 0, 0, 0);
	verdict(s->m[2], &s->d[2], 31, NULL, 0, 0, 0);
	gs_chains_across(s->d, 3);
}

static void done(set3 *s)
{
	for (size_t i = 0; i < 3; i++) {
		gs_diagnosis_free(&s->d[i]);
		mock_free(s->m[i]);
	}
}

START_TEST(label_set_follows_chains_across_processes)
{
	set3 s;
	build(&s);
	const char *f[] = {"job=a"};
	gs_diagnosis_set_filter_labels(s.rt, s.d, 3, f, 1);
	ck_assert_uint_eq(s.d[0].n, 2);
	ck_assert(has(&s.d[0], 7) && has(&s.d[0], 9) && !has(&s.d[0], 8));
	/* the gateway's handler is reached from 7 across; 22 by its in-process chain */
	ck_assert_uint_eq(s.d[1].n, 2);
	ck_assert(has(&s.d[1], 20) && has(&s.d[1], 22));
	ck_assert(!has(&s.d[1], 21) && !has(&s.d[1], 23));
	/* the backend: two processes on, through an in-process step */
	ck_assert_uint_eq(s.d[2].n, 1);
	ck_assert(has(&s.d[2], 30) && !has(&s.d[2], 31));
	/* what stays still names what stays: 7's path ends at 30 */
	const gs_verdict *c = mock_verdict(&s.d[0], 7);
	ck_assert_uint_eq(c->nacross, 3);
	ck_assert_uint_eq(c->across[2].goid, 30);
	done(&s);
}
END_TEST

START_TEST(label_set_labelled_peer_keeps_only_its_own)
{
	set3 s;
	build(&s);
	const char *f[] = {"job=b"}; /* only the gateway's 23: nothing it reaches, nothing before it */
	gs_diagnosis_set_filter_labels(s.rt, s.d, 3, f, 1);
	ck_assert_uint_eq(s.d[0].n, 0);
	ck_assert_uint_eq(s.d[1].n, 1);
	ck_assert(has(&s.d[1], 23));
	ck_assert_uint_eq(s.d[2].n, 0);
	done(&s);
}
END_TEST

START_TEST(label_set_no_match_and_no_filter)
{
	set3 s;
	build(&s);
	const char *f[] = {"team"};
	gs_diagnosis_set_filter_labels(s.rt, s.d, 3, f, 1);
	ck_assert_uint_eq(s.d[0].n + s.d[1].n + s.d[2].n, 0);
	done(&s);
	build(&s);
	gs_diagnosis_set_filter_labels(s.rt, s.d, 3, NULL, 0); /* no --label: all stay */
	ck_assert_uint_eq(s.d[0].n + s.d[1].n + s.d[2].n, 9);
	done(&s);
}
END_TEST

/* A step named only by an across path (no peer_chain of its own verdict) is followed too:
 * the text's chain line names every step of the path. */
START_TEST(label_set_follows_across_paths)
{
	set3 s;
	memset(&s, 0, sizeof s);
	for (size_t i = 0; i < 3; i++) {
		s.m[i] = mock_new();
		s.rt[i] = mock_rt(s.m[i]);
	}
	verdict(s.m[0], &s.d[0], 5, &job_a, 0, 0, 0);
	verdict(s.m[2], &s.d[2], 40, NULL, 0, 0, 0);
	verdict(s.m[2], &s.d[2], 41, NULL, 0, 0, 0);
	gs_verdict *v = &s.d[0].v[0];
	v->across = malloc(sizeof *v->across);
	v->across[0] = (gs_hop){2, 41, "peer-silent", -1};
	v->nacross = 1;
	const char *f[] = {"job=a"};
	gs_diagnosis_set_filter_labels(s.rt, s.d, 3, f, 1);
	ck_assert_uint_eq(s.d[0].n, 1);
	ck_assert_uint_eq(s.d[2].n, 1);
	ck_assert(has(&s.d[2], 41));
	done(&s);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("diag_label_set");
	TCase *tc = tcase_create("label_set");
	tcase_add_test(tc, label_set_follows_chains_across_processes);
	tcase_add_test(tc, label_set_labelled_peer_keeps_only_its_own);
	tcase_add_test(tc, label_set_no_match_and_no_filter);
	tcase_add_test(tc, label_set_follows_across_paths);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
