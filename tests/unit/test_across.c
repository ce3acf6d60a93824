/* Chains across the snapshots of a set (diagnose/across.c), from hand-built verdicts: the path
 * of each verdict goes through every process to the end of its chain, and a chain that comes
 * back to where it started (A -> B -> A) ends there instead of going round. */
#include <stdlib.h>
#include <string.h>

#include "gs_check.h"
#include "chain_verdict.h"
#include "../../analyzer/src/diagnose/diag_internal.h"

static const gs_verdict *find(const gs_diagnosis *d, uint64_t goid)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].goid == goid)
			return &d->v[i];
	return NULL;
}

static void free_all(gs_diagnosis *d, size_t n)
{
	for (size_t s = 0; s < n; s++)
		gs_diagnosis_free(&d[s]);
}

START_TEST(test_across_follows_three_processes_to_the_end)
{
	gs_diagnosis d[3] = {{0}};
	chain_verdict(&d[0], 7, "peer-silent", 1, 20, 0);     /* client -> gateway handler */
	chain_verdict(&d[1], 20, "peer-silent", 2, 33, 0);    /* gateway -> backend handler */
	chain_verdict(&d[2], 33, "handler-blocked", 0, 0, 34); /* backend: blames a local goroutine */
	chain_verdict(&d[2], 34, "unknown", 0, 0, 0);
	gs_chains_across(d, 3);
	const gs_verdict *c = find(&d[0], 7);
	ck_assert_uint_eq(c->nacross, 3);
	ck_assert_uint_eq(c->across[0].snap, 1);
	ck_assert_uint_eq(c->across[0].goid, 20);
	ck_assert_str_eq(c->across[0].code, "peer-silent");
	ck_assert_uint_eq(c->across[1].snap, 2);
	ck_assert_uint_eq(c->across[1].goid, 33);
	ck_assert_str_eq(c->across[1].code, "handler-blocked");
	/* after crossing, the in-process steps of the other process are on the path too */
	ck_assert_uint_eq(c->across[2].snap, 2);
	ck_assert_uint_eq(c->across[2].goid, 34);
	ck_assert_uint_eq(find(&d[1], 20)->nacross, 2);
	ck_assert_uint_eq(find(&d[2], 33)->nacross, 0); /* the end: nothing in another process */
	free_all(d, 3);
}
END_TEST

START_TEST(test_across_cycle_between_two_processes_ends)
{
	gs_diagnosis d[2] = {{0}};
	chain_verdict(&d[0], 5, "peer-silent", 1, 9, 0); /* A:5 -> B:9 -> A:5 */
	chain_verdict(&d[1], 9, "peer-silent", 0, 5, 0);
	gs_chains_across(d, 2);
	const gs_verdict *a = find(&d[0], 5), *b = find(&d[1], 9);
	ck_assert_uint_eq(a->nacross, 1);
	ck_assert_uint_eq(a->across[0].goid, 9);
	ck_assert_uint_eq(b->nacross, 1);
	ck_assert_uint_eq(b->across[0].snap, 0);
	ck_assert_uint_eq(b->across[0].goid, 5);
	free_all(d, 2);
}
END_TEST

START_TEST(test_across_back_into_the_first_process_and_on)
{
	/* A:1 -> B:2 -> A:3 -> C:4 -> A:1 (a cycle through three processes, back to the start) */
	gs_diagnosis d[3] = {{0}};
	chain_verdict(&d[0], 1, "peer-silent", 1, 2, 0);
	chain_verdict(&d[1], 2, "peer-silent", 0, 3, 0);
	chain_verdict(&d[0], 3, "peer-silent", 2, 4, 0);
	chain_verdict(&d[2], 4, "peer-silent", 0, 1, 0);
	gs_chains_across(d, 3);
	const gs_verdict *a = find(&d[0], 1);
	ck_assert_uint_eq(a->nacross, 3);
	ck_assert_uint_eq(a->across[1].snap, 0);
	ck_assert_uint_eq(a->across[1].goid, 3);
	ck_assert_uint_eq(a->across[2].snap, 2);
	ck_assert_uint_eq(a->across[2].goid, 4);
	/* a goroutine blamed but not judged (a verdict cap, damage) ends the path, unnamed */
	free_all(d, 3);
	gs_diagnosis e[2] = {{0}};
	chain_verdict(&e[0], 1, "peer-silent", 1, 99, 0);
	gs_chains_across(e, 2);
	ck_assert_uint_eq(find(&e[0], 1)->nacross, 1);
	ck_assert_ptr_null(find(&e[0], 1)->across[0].code);
	free_all(e, 2);
}
END_TEST

START_TEST(test_across_long_in_process_chain_is_bounded)
{
	/* 1000 goroutines in a row in B after one step from A: the path stops at its bound */
	gs_diagnosis d[2] = {{0}};
	chain_verdict(&d[0], 1, "peer-silent", 1, 1000, 0);
	for (uint64_t g = 1000; g < 2000; g++)
		chain_verdict(&d[1], g, "unknown", 0, 0, g + 1);
	gs_chains_across(d, 2);
	const gs_verdict *a = find(&d[0], 1);
	ck_assert_uint_gt(a->nacross, 10);
	ck_assert_uint_le(a->nacross, 64);
	free_all(d, 2);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("across");
	TCase *tc = tcase_create("across");
	tcase_add_test(tc, test_across_follows_three_processes_to_the_end);
	tcase_add_test(tc, test_across_cycle_between_two_processes_ends);
	tcase_add_test(tc, test_across_back_into_the_first_process_and_on);
	tcase_add_test(tc, test_across_long_in_process_chain_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
