/* The small utilities the models lean on: interned strings and batch claiming. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gs_check.h"
#include "../../analyzer/src/util/batch.h"
#include "../../analyzer/src/util/strpool.h"

START_TEST(test_strpool_one_copy_per_string)
{
	gs_strpool p = {0};
	char a[32] = "/svc.Echo/Stream", b[32];
	strcpy(b, a);
	const char *x = gs_strpool_intern(&p, a), *y = gs_strpool_intern(&p, b);
	ck_assert_ptr_eq(x, y); /* equal strings: one copy */
	ck_assert_ptr_ne(x, a); /* a copy, not the caller's buffer */
	a[1] = 'X';
	ck_assert_str_eq(x, "/svc.Echo/Stream");
	ck_assert_ptr_ne(gs_strpool_intern(&p, "context canceled"), x);
	ck_assert_str_eq(gs_strpool_intern(&p, NULL), "");
	ck_assert_str_eq(gs_strpool_intern(&p, ""), "");
	ck_assert_uint_eq(p.n, 2);
	gs_strpool_free(&p);
}
END_TEST

START_TEST(test_strpool_survives_growth)
{
	gs_strpool p = {0};
	const char *first = gs_strpool_intern(&p, "method-0");
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "method-%d", i);
		ck_assert_str_eq(gs_strpool_intern(&p, name), name);
	}
	ck_assert_uint_eq(p.n, 5000);
	ck_assert_ptr_eq(gs_strpool_intern(&p, "method-0"), first); /* rehashing keeps copies */
	gs_strpool_free(&p);
}
END_TEST

/* Two threads claiming batches of 10,007 items: every item exactly once. */
#define ITEMS 10007

typedef struct claim_run {
	atomic_size_t next;
	atomic_int seen[ITEMS];
} claim_run;

static void *claimer(void *arg)
{
	claim_run *r = arg;
	size_t b, e;
	while (gs_batch_claim(&r->next, ITEMS, 64, &b, &e))
		for (size_t i = b; i < e; i++)
			atomic_fetch_add(&r->seen[i], 1);
	return NULL;
}

START_TEST(test_batch_claims_each_item_once)
{
	static claim_run r;
	atomic_init(&r.next, 0);
	for (size_t i = 0; i < ITEMS; i++)
		atomic_init(&r.seen[i], 0);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, claimer, &r), 0);
	claimer(&r);
	pthread_join(t, NULL);
	for (size_t i = 0; i < ITEMS; i++)
		ck_assert_msg(atomic_load(&r.seen[i]) == 1, "item %zu claimed %d times", i,
			      atomic_load(&r.seen[i]));
	size_t b, e;
	ck_assert(!gs_batch_claim(&r.next, ITEMS, 64, &b, &e)); /* nothing left */
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_strpool_one_copy_per_string);
	tcase_add_test(tc, test_strpool_survives_growth);
	tcase_add_test(tc, test_batch_claims_each_item_once);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
