/* util/executor: jobs run on pool threads at the same time, threads are reused, a job that
 * finds no thread is refused (and not run), joins publish what the job wrote. */
#include "gs_check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "../../analyzer/src/util/executor.h"

typedef struct probe {
	pthread_t self;
	int value;
	atomic_int *wait_for; /* spins until it is nonzero (bounded), when set */
	atomic_int *signal;   /* set to 1 on entry, when set */
	bool saw;             /* wait_for became nonzero */
} probe;

static void run_probe(void *arg)
{
	probe *p = arg;
	p->self = pthread_self();
	if (p->signal)
		atomic_store(p->signal, 1);
	for (int i = 0; p->wait_for && i < 5000 && !atomic_load(p->wait_for); i++)
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	p->saw = !p->wait_for || atomic_load(p->wait_for);
	p->value = 42;
}

START_TEST(test_two_jobs_run_at_once)
{
	gs_exec *ex = gs_exec_new(GS_EXEC_MAX_THREADS);
	atomic_int a_in = 0, b_in = 0;
	/* Each waits for the other to have started: both finish only if they overlap. */
	probe a = {.wait_for = &b_in, .signal = &a_in}, b = {.wait_for = &a_in, .signal = &b_in};
	gs_job ja, jb;
	ck_assert(gs_exec_submit(ex, &ja, run_probe, &a));
	ck_assert(gs_exec_submit(ex, &jb, run_probe, &b));
	gs_exec_join(&ja);
	gs_exec_join(&jb);
	ck_assert(a.saw && b.saw);
	ck_assert_int_eq(a.value, 42);
	ck_assert_int_eq(b.value, 42);
	ck_assert(!pthread_equal(a.self, b.self));
	ck_assert(!pthread_equal(a.self, pthread_self()));
	gs_exec_join(&ja); /* a second join does nothing */
	gs_exec_free(ex);
}
END_TEST

START_TEST(test_threads_are_reused)
{
	gs_exec *ex = gs_exec_new(GS_EXEC_MAX_THREADS);
	probe p[5] = {{0}};
	for (int i = 0; i < 5; i++) {
		gs_job j;
		ck_assert(gs_exec_submit(ex, &j, run_probe, &p[i]));
		gs_exec_join(&j);
		ck_assert_int_eq(p[i].value, 42);
	}
	for (int i = 1; i < 5; i++) /* one after another: the same pool thread each time */
		ck_assert(pthread_equal(p[0].self, p[i].self));
	gs_exec_free(ex);
}
END_TEST

START_TEST(test_busy_pool_refuses_and_does_not_run)
{
	gs_exec *ex = gs_exec_new(1);
	atomic_int release = 0, started = 0;
	probe busy = {.wait_for = &release, .signal = &started}, other = {0};
	gs_job jb, jo;
	ck_assert(gs_exec_submit(ex, &jb, run_probe, &busy));
	while (!atomic_load(&started))
		nanosleep(&(struct timespec){0, 100000}, NULL);
	ck_assert(!gs_exec_submit(ex, &jo, run_probe, &other)); /* the one thread is busy */
	gs_exec_join(&jo);                                      /* refused: nothing to wait for */
	ck_assert_int_eq(other.value, 0);                       /* and it did not run */
	atomic_store(&release, 1);
	gs_exec_join(&jb);
	ck_assert(gs_exec_submit(ex, &jo, run_probe, &other)); /* free again */
	gs_exec_join(&jo);
	ck_assert_int_eq(other.value, 42);
	gs_exec_free(ex);
}
END_TEST

START_TEST(test_no_executor_refuses)
{
	probe p = {0};
	gs_job j;
	ck_assert(!gs_exec_submit(NULL, &j, run_probe, &p));
	gs_exec_join(&j);
	ck_assert_int_eq(p.value, 0);
	gs_exec_free(NULL);
}
END_TEST

START_TEST(test_free_waits_for_a_running_job)
{
	gs_exec *ex = gs_exec_new(2);
	atomic_int release = 1;
	probe p = {.wait_for = &release};
	gs_job j;
	ck_assert(gs_exec_submit(ex, &j, run_probe, &p));
	gs_exec_free(ex); /* not joined (against the rules): freeing still waits for it */
	ck_assert_int_eq(p.value, 42);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("executor");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_two_jobs_run_at_once);
	tcase_add_test(tc, test_threads_are_reused);
	tcase_add_test(tc, test_busy_pool_refuses_and_does_not_run);
	tcase_add_test(tc, test_no_executor_refuses);
	tcase_add_test(tc, test_free_waits_for_a_running_job);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
