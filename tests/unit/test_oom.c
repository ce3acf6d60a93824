/* Out of memory is an error like any other: a session opened and a command run with the
 * address space limited (setrlimit RLIMIT_AS, in a forked child) either answers exactly as
 * it does without the limit, or fails with "out of memory" — it never dies (the library
 * runs inside gdb and lldb) and never answers with a part missing. Reads real fixture
 * cores: $GS_FIXTURES/go127-grpc181/handler-blocked, split-peer-silent (with its peer's core)
 * and stuck-or-slow (with its later core), and go124-grpc164/many-streams (cycles). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gs_check.h"
#include "grpcscope.h"

#define SCENARIO "go127-grpc181/handler-blocked"
/* Enough goroutines for the listing to be rendered by two threads, streamed; and cycles in
 * the wait-for graph. */
#define SCENARIO_MANY "go124-grpc164/many-streams"
/* Two processes: the primary and its peer's core (peer-core). */
#define SCENARIO_PEER "go127-grpc181/split-peer-silent"
/* Two moments of one process: core and later-core. */
#define SCENARIO_LATER "go127-grpc181/stuck-or-slow"

typedef struct result {
	int exited;       /* 1: the child exited (no signal) */
	int opened;       /* gs_open succeeded */
	int rc;           /* gs_open's status, or gs_command's */
	uint64_t out_len, out_hash;
	char msg[512];
} result;

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

__attribute__((unused)) static void fixture(const char *scenario, char *exe, char *core, size_t cap)
{
	const char *dir = getenv("GS_FIXTURES");
	ck_assert_msg(dir && *dir, "GS_FIXTURES is not set: point it at the fixture snapshots");
	snprintf(exe, cap, "%s/%s/exe", dir, scenario);
	snprintf(core, cap, "%s/%s/core", dir, scenario);
	struct stat st;
	ck_assert_msg(stat(exe, &st) == 0 && stat(core, &st) == 0, "%s: fixture missing", core);
}

/* Bytes of address space the process holds now. */
__attribute__((unused)) static uint64_t vm_size(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* gs_command_stream's output, hashed as it comes: nothing to allocate in the child. */
static void hash_piece(void *ctx, const char *p, size_t n)
{
	result *r = ctx;
	for (size_t i = 0; i < n; i++)
		r->out_hash = (r->out_hash ^ (unsigned char)p[i]) * 0x100000001b3ull;
	r->out_len += n;
}

/* Runs `cmd` on the fixture in a child limited to `limit` bytes (0: no limit), through
 * gs_command or, with stream, gs_command_stream. */
__attribute__((unused)) static result run_limited(const char *exe, const char *core, const char *const *cmd, int ncmd,
			  uint64_t limit, bool stream)
{
	int fd[2];
	ck_assert_int_eq(pipe(fd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fd[0]);
		result r = {0};
		if (limit) {
			struct rlimit rl = {limit, limit};
			setrlimit(RLIMIT_AS, &rl);
		}
		gs_open_options o = {0};
		o.exe = exe;
		o.core = core;
		o.want_grpc = 1;
		gs_session *s = gs_open(&o, &r.rc, r.msg, sizeof r.msg);
		if (s && stream) {
			char *msg = NULL;
			r.opened = 1;
			r.out_hash = 0xcbf29ce484222325ull;
			r.rc = gs_command_stream(s, ncmd, cmd, hash_piece, &r, &msg);
			snprintf(r.msg, sizeof r.msg, "%s", msg ? msg : "");
			gs_free(msg);
			gs_close(s);
		} else if (s) {
			char *out = NULL, *msg = NULL;
			r.opened = 1;
			r.rc = gs_command(s, ncmd, cmd, &out, &msg);
			if (out) {
				r.out_len = strlen(out);
				r.out_hash = fnv(out, r.out_len);
			}
			snprintf(r.msg, sizeof r.msg, "%s", msg ? msg : "");
			gs_free(out);
			gs_free(msg);
			gs_close(s);
		}
		ssize_t k = write(fd[1], &r, sizeof r);
		_exit(k == (ssize_t)sizeof r ? 0 : 3);
	}
	close(fd[1]);
	result r = {0};
	ssize_t k = read(fd[0], &r, sizeof r);
	close(fd[0]);
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	r.exited = WIFEXITED(status) && WEXITSTATUS(status) == 0 && k == (ssize_t)sizeof r;
	if (!r.exited)
		snprintf(r.msg, sizeof r.msg, "child %s %d",
			 WIFSIGNALED(status) ? "killed by signal" : "exited with status",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return r;
}

/* Runs cmd under limits of the process's own size plus the core's (the core is mapped
 * whole) plus `extra` (more cores the command maps) plus from -16 MiB to +top MiB, every
 * `step` MiB: the window where the library's own allocations start to fail. */
static void check_command_extra(const char *scenario, const char *const *cmd, int ncmd,
				int step, bool stream, uint64_t extra, int top)
{
#if defined(__SANITIZE_ADDRESS__)
	/* ASan reserves terabytes of shadow memory: an address-space limit stops it at start.
	 * The plain build runs this check. */
	(void)cmd;
	(void)ncmd;
	(void)step;
	(void)scenario;
	(void)stream;
	(void)extra;
	(void)top;
	fprintf(stderr, "test_oom: RLIMIT_AS cannot limit an ASan process; checked by the plain build\n");
	return;
#else
	char exe[4096], core[4096];
	fixture(scenario, exe, core, sizeof exe);
	result ref = run_limited(exe, core, cmd, ncmd, 0, stream);
	ck_assert_msg(ref.exited && ref.opened && ref.rc == 0, "%s without a limit: %s", cmd[0],
		      ref.msg);
	struct stat st;
	ck_assert_int_eq(stat(core, &st), 0);
	uint64_t base = vm_size() + (uint64_t)st.st_size + extra;
	size_t nomem = 0, answered = 0;
	for (int64_t mib = -16; mib <= top; mib += step) {
		result r = run_limited(exe, core, cmd, ncmd, base + (uint64_t)(mib * (1 << 20)), stream);
		ck_assert_msg(r.exited, "%s limited to %" PRId64 " MiB more: %s", cmd[0], mib,
			      r.msg);
		if (r.opened && r.rc == 0) {
			/* an answer is the whole answer */
			ck_assert_msg(r.out_len == ref.out_len && r.out_hash == ref.out_hash,
				      "%s limited to %" PRId64 " MiB more: %" PRIu64 " bytes of output, "
				      "not the %" PRIu64 " without a limit", cmd[0], mib, r.out_len,
				      ref.out_len);
			answered++;
		} else {
			ck_assert_msg(strstr(r.msg, "out of memory"), "%s limited to %" PRId64 " MiB "
				      "more failed (status %d) without saying out of memory: %s", cmd[0],
				      mib, r.rc, r.msg);
			ck_assert_msg(r.rc == 1, "%s: out of memory with status %d, not 1", cmd[0], r.rc);
			nomem++;
		}
	}
	ck_assert_msg(nomem > 0, "%s: no limit made it run out of memory", cmd[0]);
	ck_assert_msg(answered > 0, "%s: no limit let it answer", cmd[0]);
#endif
}

static void check_command(const char *scenario, const char *const *cmd, int ncmd, int step,
			  bool stream)
{
	check_command_extra(scenario, cmd, ncmd, step, stream, 0, 112);
}

/* The path of another file of a scenario's snapshot (a peer's or a later core), and its size
 * in *size. */
__attribute__((unused)) static void fixture_file(const char *scenario, const char *name, char *path,
						 size_t cap, uint64_t *size)
{
	const char *dir = getenv("GS_FIXTURES");
	ck_assert_msg(dir && *dir, "GS_FIXTURES is not set: point it at the fixture snapshots");
	snprintf(path, cap, "%s/%s/%s", dir, scenario, name);
	struct stat st;
	ck_assert_msg(stat(path, &st) == 0, "%s: fixture missing", path);
	*size = (uint64_t)st.st_size;
}

START_TEST(test_oom_why_blocked)
{
	const char *cmd[] = {"why-blocked", "--json"};
	check_command(SCENARIO, cmd, 2, 1, false);
}
END_TEST

START_TEST(test_oom_goroutines)
{
	const char *cmd[] = {"goroutines", "--json"};
	check_command(SCENARIO, cmd, 2, 3, false);
}
END_TEST

START_TEST(test_oom_streams)
{
	const char *cmd[] = {"streams"};
	check_command(SCENARIO, cmd, 1, 3, false);
}
END_TEST

/* The listing split between two threads and streamed as the CLI does on a core. */
START_TEST(test_oom_goroutines_streamed)
{
	const char *cmd[] = {"goroutines", "--json"};
	check_command(SCENARIO_MANY, cmd, 2, 4, true);
}
END_TEST

/* The verdicts text with its cycles block (many-streams has hundreds of cycles). */
START_TEST(test_oom_why_blocked_cycles)
{
	const char *cmd[] = {"why-blocked"};
	check_command(SCENARIO_MANY, cmd, 1, 4, false);
}
END_TEST

START_TEST(test_oom_why_blocked_cycles_json)
{
	const char *cmd[] = {"why-blocked", "--json"};
	check_command(SCENARIO_MANY, cmd, 2, 6, true);
}
END_TEST

/* The HTML page: groups, the wait-for graph (its cycles in red), the tables. Drawn by the
 * library's own layout: Graphviz runs in a child that the limit may stop, and the page then
 * falls back to it, a whole answer but not the same bytes. */
START_TEST(test_oom_report)
{
	setenv("GRPCSCOPE_OWN_LAYOUT", "1", 1);
	const char *cmd[] = {"report"};
	check_command(SCENARIO_MANY, cmd, 1, 6, false);
}
END_TEST

/* Two processes: the peer opened beside the primary, the set diagnosed with its pairing
 * across the connection and the chains across processes. */
START_TEST(test_oom_why_blocked_peer)
{
	char peer[4096];
	uint64_t size;
	fixture_file(SCENARIO_PEER, "peer-core", peer, sizeof peer, &size);
	const char *cmd[] = {"why-blocked", "--peer", peer};
	check_command_extra(SCENARIO_PEER, cmd, 3, 6, false, size, 320);
	const char *json[] = {"why-blocked", "--json", "--peer", peer};
	check_command_extra(SCENARIO_PEER, json, 4, 12, false, size, 320);
}
END_TEST

START_TEST(test_oom_report_peer)
{
	char peer[4096];
	uint64_t size;
	fixture_file(SCENARIO_PEER, "peer-core", peer, sizeof peer, &size);
	setenv("GRPCSCOPE_OWN_LAYOUT", "1", 1);
	const char *cmd[] = {"report", "--peer", peer};
	check_command_extra(SCENARIO_PEER, cmd, 3, 12, false, size, 320);
}
END_TEST

/* Two moments of one process: both models, then what changed. */
START_TEST(test_oom_diff)
{
	char later[4096];
	uint64_t size;
	fixture_file(SCENARIO_LATER, "later-core", later, sizeof later, &size);
	const char *cmd[] = {"diff", "--later", later};
	check_command_extra(SCENARIO_LATER, cmd, 3, 6, false, size, 320);
	const char *json[] = {"diff", "--json", "--later", later};
	check_command_extra(SCENARIO_LATER, json, 4, 12, false, size, 320);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("oom");
	TCase *tc = tcase_create("rlimit");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_oom_why_blocked);
	tcase_add_test(tc, test_oom_goroutines);
	tcase_add_test(tc, test_oom_streams);
	tcase_add_test(tc, test_oom_goroutines_streamed);
	tcase_add_test(tc, test_oom_why_blocked_cycles);
	tcase_add_test(tc, test_oom_why_blocked_cycles_json);
	tcase_add_test(tc, test_oom_report);
	tcase_add_test(tc, test_oom_why_blocked_peer);
	tcase_add_test(tc, test_oom_report_peer);
	tcase_add_test(tc, test_oom_diff);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
