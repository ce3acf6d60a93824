/* The live backend on forked children: what it reads while they are paused, that they run
 * again afterwards, and that a tracer's death (SIGKILL, or SIGTERM with the handler) never
 * leaves them stopped. */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gs_check.h"

/* Under valgrind the child is valgrind's process: the kernel's fs_base is valgrind's own
 * (0), not the emulated thread pointer, so that check is skipped there. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif
#include "../../analyzer/src/target/target.h"

static uint8_t known_pattern[2 * 4096 + 77];

/* Counters shared with the children: slot 0 by the main thread, 1..2 by extra threads. */
static volatile uint64_t *shared;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *spin(void *arg)
{
	volatile uint64_t *c = arg;
	for (;;)
		(*c)++;
	return NULL;
}

static void *churn_one(void *arg)
{
	(void)arg;
	return NULL;
}

/* Threads that keep starting and ending while the tracer seizes. */
static void *churn(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, NULL, churn_one, NULL) == 0)
			pthread_join(t, NULL);
	}
	return NULL;
}

/* Forks a child that fills known_pattern, starts `threads` spinning threads (and a
 * thread-churning one if asked), reports ready on a pipe, then counts in shared[0]. */
static pid_t spawn(int threads, int with_churn)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		for (size_t i = 0; i < sizeof known_pattern; i++)
			known_pattern[i] = (uint8_t)(i ^ (i >> 8) ^ 0x5a);
		for (int i = 0; i < threads; i++) {
			pthread_t t;
			if (pthread_create(&t, NULL, spin, (void *)&shared[1 + i]) != 0)
				_exit(1);
		}
		if (with_churn) {
			pthread_t t;
			if (pthread_create(&t, NULL, churn, NULL) != 0)
				_exit(1);
		}
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;) {
			shared[0]++;
			sleep_ms(1);
		}
	}
	close(p[1]);
	char c;
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Process state letter from /proc/PID/stat ('t' = stopped by a tracer). */
static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return '?';
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : '?';
}

/* True when counter slot i moves within two seconds (valgrind serialises threads). */
static int counter_moves(int i)
{
	uint64_t before = shared[i];
	for (int k = 0; k < 400; k++) {
		sleep_ms(5);
		if (shared[i] != before)
			return 1;
	}
	return 0;
}

static void setup(void)
{
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne((void *)shared, MAP_FAILED);
}

static void teardown(void)
{
	munmap((void *)shared, 4096);
}

START_TEST(test_live_target_reads_paused_process)
{
	pid_t pid = spawn(2, 0);
	ck_assert(counter_moves(1));
	gs_err err = { 0 };
	gs_target *t = gs_live_target_open(pid, &err);
	ck_assert_msg(t != NULL, "%s", err.msg);
	ck_assert_int_eq(gs_target_kind(t), GS_TARGET_LIVE);
	char name[32];
	snprintf(name, sizeof name, "/proc/%d", (int)pid);
	ck_assert_str_eq(gs_target_name(t), name);

	/* Paused: no thread makes progress. */
	ck_assert(!counter_moves(0));
	ck_assert(!counter_moves(1));
	ck_assert(!counter_moves(2));
	ck_assert_int_eq(proc_state(pid), 't');

	static uint8_t got[sizeof known_pattern];
	ck_assert_msg(gs_target_read(t, (uint64_t)(uintptr_t)known_pattern, got, sizeof got,
				     &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < sizeof got; i++)
		ck_assert_uint_eq(got[i], (uint8_t)(i ^ (i >> 8) ^ 0x5a));
	uint64_t v;
	ck_assert_int_eq(gs_target_read_u64(t, 0, &v, &err), -1);
	ck_assert_int_eq(err.code, GS_EMEM);
	ck_assert_int_eq(gs_target_read_u64(t, 0xffffffffffff0000ull, &v, &err), -1);

	ck_assert_uint_eq(gs_target_nthreads(t), 3);
	int saw_main = 0;
	for (size_t i = 0; i < gs_target_nthreads(t); i++) {
		const gs_thread *th = gs_target_thread(t, i);
		saw_main |= th->tid == pid;
		ck_assert_uint_ne(th->regs.rip, 0);
		if (!UNDER_VALGRIND())
			ck_assert_uint_ne(th->regs.fs_base, 0);
		ck_assert_msg(gs_target_read_u64(t, th->regs.rsp, &v, &err) == 0, "%s", err.msg);
	}
	ck_assert(saw_main);

	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	int saw_exe = 0;
	for (size_t i = 0; i < gs_target_nmappings(t); i++)
		saw_exe |= strcmp(gs_target_mapping(t, i)->path, exe) == 0;
	ck_assert(saw_exe);
	ck_assert_int_eq(gs_target_auxv(t, AT_ENTRY, &v), 0);
	if (!UNDER_VALGRIND()) { /* there the process's executable is valgrind's tool */
		ck_assert_str_eq(gs_target_exe_path(t), exe);
		ck_assert_uint_eq(v, getauxval(AT_ENTRY));
	}

	uint64_t p1 = gs_target_pause_ns(t);
	sleep_ms(5);
	ck_assert_uint_gt(gs_target_pause_ns(t), p1);
	ck_assert_uint_gt(p1, 0);

	gs_target_close(t);
	ck_assert(counter_moves(0));
	ck_assert(counter_moves(1));
	ck_assert(counter_moves(2));
	ck_assert_int_ne(proc_state(pid), 't');
	reap(pid);
}
END_TEST

START_TEST(test_live_target_resume_ends_reads_and_pause)
{
	pid_t pid = spawn(0, 0);
	gs_err err = { 0 };
	gs_target *t = gs_live_target_open(pid, &err);
	ck_assert_msg(t != NULL, "%s", err.msg);
	uint8_t b[8];
	ck_assert_int_eq(gs_target_read(t, (uint64_t)(uintptr_t)known_pattern, b, 8, &err), 0);
	gs_target_resume(t);
	ck_assert(counter_moves(0));
	ck_assert_int_eq(gs_target_read(t, (uint64_t)(uintptr_t)known_pattern, b, 8, &err), -1);
	ck_assert_int_eq(err.code, GS_EMEM);
	uint64_t p = gs_target_pause_ns(t);
	ck_assert_uint_gt(p, 0);
	sleep_ms(5);
	ck_assert_uint_eq(gs_target_pause_ns(t), p);
	gs_target_resume(t); /* twice is harmless */
	gs_target_close(t);
	ck_assert(counter_moves(0));
	reap(pid);
}
END_TEST

START_TEST(test_live_target_threads_appearing_while_seizing)
{
	pid_t pid = spawn(1, 1);
	for (int round = 0; round < 5; round++) {
		gs_err err = { 0 };
		gs_target *t = gs_live_target_open(pid, &err);
		if (!t) {
			ck_assert_int_eq(err.code, GS_EINPUT);
			ck_assert_msg(strstr(err.msg, "kept appearing"), "%s", err.msg);
		} else {
			ck_assert_uint_ge(gs_target_nthreads(t), 3);
			ck_assert(!counter_moves(1));
			gs_target_close(t);
		}
		ck_assert(counter_moves(0));
		ck_assert(counter_moves(1));
	}
	reap(pid);
}
END_TEST

START_TEST(test_live_target_missing_pid)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	gs_err err = { 0 };
	ck_assert_ptr_null(gs_live_target_open(pid, &err));
	ck_assert_int_eq(err.code, GS_EINPUT);
	char want[64];
	snprintf(want, sizeof want, "pid %d: no such process", (int)pid);
	ck_assert_str_eq(err.msg, want);
	ck_assert_ptr_null(gs_live_target_open(0, &err));
	ck_assert_int_eq(err.code, GS_EINPUT);
	ck_assert_ptr_null(gs_live_target_open(-5, &err));
	ck_assert_int_eq(err.code, GS_EINPUT);
}
END_TEST

START_TEST(test_live_target_cannot_trace)
{
	/* A process may not trace its own thread group. */
	gs_err err = { 0 };
	ck_assert_ptr_null(gs_live_target_open(getpid(), &err));
	ck_assert_int_eq(err.code, GS_EINPUT);
	char want[160];
	snprintf(want, sizeof want, "pid %d: cannot trace: it is this process itself (a process "
		 "cannot trace its own threads)", (int)getpid());
	ck_assert_str_eq(err.msg, want);
}
END_TEST

/* Forks a tracer that pauses `target` and then waits to die; returns its pid. */
static pid_t spawn_tracer(pid_t target, int with_handler)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		gs_err err = { 0 };
		gs_target *t = gs_live_target_open(target, &err);
		if (!t)
			_exit(3);
		if (with_handler && gs_target_install_resume_on_signal(t) != 0)
			_exit(4);
		if (write(p[1], "r", 1) != 1)
			_exit(5);
		for (;;) /* t stays live: valgrind must not call it leaked */
			if (pause() && !gs_target_nthreads(t))
				_exit(6);
	}
	close(p[1]);
	char c;
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

START_TEST(test_live_target_sigkilled_tracer_leaves_target_running)
{
	pid_t target = spawn(1, 0);
	pid_t tracer = spawn_tracer(target, 0);
	ck_assert(!counter_moves(0));
	ck_assert_int_eq(proc_state(target), 't');
	kill(tracer, SIGKILL);
	int st;
	ck_assert_int_eq(waitpid(tracer, &st, 0), tracer);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ck_assert(counter_moves(0));
	ck_assert(counter_moves(1));
	char s = proc_state(target);
	ck_assert_msg(s != 't' && s != 'T', "state %c", s);
	reap(target);
}
END_TEST

START_TEST(test_live_target_sigterm_handler_resumes_target)
{
	pid_t target = spawn(1, 0);
	pid_t tracer = spawn_tracer(target, 1);
	ck_assert(!counter_moves(0));
	kill(tracer, SIGTERM);
	int st;
	ck_assert_int_eq(waitpid(tracer, &st, 0), tracer);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 128 + SIGTERM);
	ck_assert(counter_moves(0));
	ck_assert(counter_moves(1));
	char s = proc_state(target);
	ck_assert_msg(s != 't' && s != 'T', "state %c", s);
	reap(target);
}
END_TEST

/* Copied while paused, read after: the copy's bytes, zeros for pages the process never
 * touched, and a miss (not the running process's bytes) for what was left out. */
START_TEST(test_live_target_image_after_resume)
{
	uint8_t *untouched = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(untouched, MAP_FAILED);
	pid_t pid = spawn(1, 0);
	gs_err err = { 0 };
	gs_target *t = gs_live_target_open(pid, &err);
	ck_assert_msg(t != NULL, "%s", err.msg);
	ck_assert_int_eq(gs_target_image_begin(t), 0);
	uint64_t r[1][2] = { { (uint64_t)(uintptr_t)known_pattern, 64 } };
	ck_assert_uint_eq(gs_target_capture(t, (const uint64_t(*)[2])r, 1, NULL), 64);
	uint64_t skip[1][2] = { { (uint64_t)(uintptr_t)untouched + 3 * 4096, 4096 } };
	ck_assert_uint_gt(gs_target_capture_mappings(t, (const uint64_t(*)[2])skip, 1, false, NULL), 0);
	gs_target_resume(t);
	ck_assert(counter_moves(0));
	uint8_t b[64], z[64];
	ck_assert_int_eq(gs_target_read(t, (uint64_t)(uintptr_t)known_pattern, b, 64, &err), 0);
	for (size_t i = 0; i < 64; i++)
		ck_assert_uint_eq(b[i], (uint8_t)(i ^ (i >> 8) ^ 0x5a));
	memset(z, 0xff, sizeof z);
	ck_assert_int_eq(gs_target_read(t, (uint64_t)(uintptr_t)untouched + 4096, z, 64, &err), 0);
	for (size_t i = 0; i < 64; i++)
		ck_assert_uint_eq(z[i], 0);
	uint64_t first = 0;
	ck_assert_uint_eq(gs_target_image_misses(t, &first), 0);
	/* A page left out: unreadable, and counted. */
	ck_assert_int_eq(gs_target_read(t, skip[0][0] + 8, b, 8, &err), -1);
	ck_assert_uint_eq(gs_target_image_misses(t, &first), 1);
	ck_assert_uint_eq(first, skip[0][0] + 8);
	ck_assert_uint_eq(gs_target_capture(t, (const uint64_t(*)[2])r, 1, NULL), 0);
	gs_target_close(t);
	ck_assert(counter_moves(1));
	reap(pid);
	munmap(untouched, 4 * 4096);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("live_target");
	TCase *tc = tcase_create("ptrace");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_live_target_reads_paused_process);
	tcase_add_test(tc, test_live_target_resume_ends_reads_and_pause);
	tcase_add_test(tc, test_live_target_threads_appearing_while_seizing);
	tcase_add_test(tc, test_live_target_missing_pid);
	tcase_add_test(tc, test_live_target_cannot_trace);
	tcase_add_test(tc, test_live_target_sigkilled_tracer_leaves_target_running);
	tcase_add_test(tc, test_live_target_sigterm_handler_resumes_target);
	tcase_add_test(tc, test_live_target_image_after_resume);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
