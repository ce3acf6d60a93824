/* Target over a live process, paused with ptrace for as short a time as possible.
 *
 * Every thread is PTRACE_SEIZE'd and PTRACE_INTERRUPT'ed (never PTRACE_ATTACH: its
 * SIGSTOP could leave the process stopped if we died). Memory is read with pread on
 * /proc/PID/mem; nothing is ever written. Threads started while we seize are caught by
 * listing /proc/PID/task again until no new thread appears.
 *
 * The kernel detaches every tracee when its tracer exits, however it exits, and a seized
 * tracee then runs on. So a crash or SIGKILL of grpcscope cannot leave the target
 * stopped, and for SIGINT/SIGTERM it is enough to _exit().
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "live_cause.h"
#include "live_image.h"
#include "live_proc.h"
#include "target_impl.h"

#define SEIZE_ROUNDS 64
#define STOP_TIMEOUT_NS 5000000000ull
/* At most this much memory is made ready for the copy before the pause. */
#define RESERVE_MAX ((uint64_t)512 << 20)

_Static_assert(sizeof(struct user_regs_struct) == GS_AMD64_USER_REGS * 8,
	       "user_regs_struct is the amd64 layout");

typedef struct live_thread {
	pid_t tid;
	int sig; /* signal that stopped it, handed back on detach */
} live_thread;

typedef struct live_impl {
	int pid;
	int memfd;
	live_thread *threads; /* seized threads: detached on resume */
	size_t n, cap;
	int paused, started;
	struct timespec t0, t1;
	/* gs_target_image_begin: what is read while paused is kept, and once resumed (frozen)
	 * the image is all there is (live_image.h). */
	gs_image img;
	int imaging, frozen;
} live_impl;

static uint64_t ns_between(const struct timespec *a, const struct timespec *b)
{
	int64_t d = (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);
	return d > 0 ? (uint64_t)d : 0;
}

/* 1 when addr lies in one of the process's file mappings: bytes the image lacks there are
 * the file's (backing), not a miss. */
static int in_file_mapping(const gs_target *t, uint64_t addr)
{
	for (size_t i = 0; i < t->nmappings; i++)
		if (addr >= t->mappings[i].start && addr < t->mappings[i].end)
			return 1;
	return 0;
}

/* A read that failed at addr: counted when the process had memory there that the copy
 * left out (not for addresses it never mapped, which a paused read would not give either). */
static void live_note_miss(gs_target *t, uint64_t addr)
{
	live_impl *l = t->impl;
	if (!l->frozen || !gs_image_in_region(&l->img, addr) || in_file_mapping(t, addr))
		return;
	if (!l->img.misses)
		l->img.first_miss = addr;
	l->img.misses++;
}

static uint64_t live_next(gs_target *t, uint64_t addr)
{
	const live_impl *l = t->impl;
	if (l->frozen)
		return gs_image_next(&l->img, addr);
	uint64_t next_page = (addr | (GS_PAGE_SIZE - 1)) + 1;
	return next_page ? next_page : UINT64_MAX;
}

static size_t live_read(gs_target *t, uint64_t addr, void *dst, size_t n)
{
	live_impl *l = t->impl;
	uint8_t *out = dst;
	size_t done = 0;
	if (l->frozen)
		return gs_image_read(&l->img, addr, dst, n);
	if (l->imaging && l->img.n && gs_image_read(&l->img, addr, dst, n) == n)
		return n;
	if (l->memfd < 0 || addr > (uint64_t)INT64_MAX)
		return 0;
	if (n > (uint64_t)INT64_MAX - addr)
		n = (size_t)((uint64_t)INT64_MAX - addr);
	while (done < n) {
		ssize_t r = pread(l->memfd, out + done, n - done, (off_t)(addr + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	if (l->imaging)
		gs_image_record(&l->img, addr, dst, done);
	return done;
}

/* A traced thread that dies stays a zombie until its tracer waits for it; reap it so we
 * leave nothing behind. Bounded: a thread that is not dying yet is left alone. */
static void reap_gone(pid_t tid)
{
	struct timespec nap = { 0, 100000 };
	for (int i = 0; i < 1000; i++) {
		int st;
		pid_t r = waitpid(tid, &st, __WALL | WNOHANG);
		if (r == tid && (WIFEXITED(st) || WIFSIGNALED(st)))
			return;
		if (r < 0 && errno != EINTR)
			return;
		nanosleep(&nap, NULL);
	}
}

static void live_resume(gs_target *t)
{
	live_impl *l = t->impl;
	for (size_t i = 0; i < l->n; i++)
		if (ptrace(PTRACE_DETACH, l->threads[i].tid, NULL,
			   (void *)(long)l->threads[i].sig) != 0 && errno == ESRCH)
			reap_gone(l->threads[i].tid);
	l->n = 0;
	if (l->paused) {
		clock_gettime(CLOCK_MONOTONIC, &l->t1);
		l->paused = 0;
	}
	if (l->memfd >= 0) {
		close(l->memfd);
		l->memfd = -1;
	}
	if (l->imaging) {
		gs_image_settle(&l->img);
		gs_image_trim(&l->img);
		l->frozen = 1;
		t->nomem |= l->img.nomem; /* a copy short of bytes would read as a gap */
	}
}

static uint64_t live_pause_ns(const gs_target *t)
{
	const live_impl *l = t->impl;
	if (!l->started)
		return 0;
	if (l->paused) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		return ns_between(&l->t0, &now);
	}
	return ns_between(&l->t0, &l->t1);
}

static void live_destroy(gs_target *t)
{
	live_impl *l = t->impl;
	gs_image_free(&l->img);
	free(l->threads);
	free(l);
}

/* /proc/PID/mem is readable or not in whole pages; the copy, in extents. */
static const gs_target_ops live_ops = {
	.read = live_read, .next = live_next, .resume = live_resume, .pause_ns = live_pause_ns,
	.destroy = live_destroy, .note_miss = live_note_miss,
};

static int is_seized(const live_impl *l, pid_t tid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->threads[i].tid == tid)
			return 1;
	return 0;
}

static void forget(live_impl *l, pid_t tid)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->threads[i].tid == tid) {
			l->threads[i] = l->threads[--l->n];
			return;
		}
	}
}

/* Waits for tid's stop. 0 stopped, 1 gone, -1 timed out. */
static int wait_stop(live_impl *l, pid_t tid)
{
	struct timespec start, now, nap = { 0, 20000 };
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int st;
		pid_t r = waitpid(tid, &st, __WALL | WNOHANG);
		if (r == tid && WIFSTOPPED(st)) {
			/* A signal-delivery stop holds a signal the thread must still get; an
			 * event stop (our interrupt, or a group stop) holds none. */
			int sig = st >> 16 ? 0 : WSTOPSIG(st);
			for (size_t i = 0; i < l->n; i++)
				if (l->threads[i].tid == tid)
					l->threads[i].sig = sig;
			return 0;
		}
		if (r == tid || (r < 0 && errno == ECHILD))
			return 1;
		if (r < 0 && errno != EINTR)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ns_between(&start, &now) > STOP_TIMEOUT_NS)
			return -1;
		nanosleep(&nap, NULL);
	}
}

/* 1 when thread tid of pid is traced by another tracer than this thread (TracerPid names
 * the tracing thread). */
static int other_tracer(int pid, pid_t tid)
{
	char path[96], line[128];
	snprintf(path, sizeof path, "/proc/%d/task/%d/status", pid, (int)tid);
	FILE *f = fopen(path, "re");
	long tracer = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "TracerPid: %ld", &tracer) == 1)
			break;
	if (f)
		fclose(f);
	return tracer != 0 && tracer != (long)gettid(); /* the seizing thread */
}

/* Seizes tid and asks it to stop (the stop is waited for by stop_all, so that every thread
 * of a round stops at once). 0 seized, 1 the thread is gone, -1 error. */
static int seize_one(live_impl *l, pid_t tid, gs_err *err)
{
	/* Room first: a thread seized must be recorded, to be let go at the close. */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		live_thread *v = gs_reallocarray(l->threads, cap, sizeof *v, err);
		if (!v)
			return -1;
		l->threads = v;
		l->cap = cap;
	}
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
		/* Once one thread of the process is ours, a refusal of one that no other tracer
		 * holds means it is exiting (the kernel refuses a task on its way out): gone,
		 * like ESRCH. */
		if (errno == ESRCH || (errno == EPERM && l->n > 0 && !other_tracer(l->pid, tid)))
			return 1;
		char why[256];
		gs_live_trace_cause(l->pid, errno, why, sizeof why);
		return gs_errf(err, GS_EINPUT, "pid %d: cannot trace: %s", l->pid, why);
	}
	l->threads[l->n++] = (live_thread){ tid, 0 };
	if (!l->started) {
		clock_gettime(CLOCK_MONOTONIC, &l->t0);
		l->started = l->paused = 1;
	}
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0) {
		forget(l, tid);
		reap_gone(tid);
		return 1;
	}
	return 0;
}

/* Waits for the stops of threads [from, l->n); forgets those that are gone. Returns how
 * many stopped, or -1. */
static int stop_all(live_impl *l, size_t from, gs_err *err)
{
	int stopped = 0;
	for (size_t i = from; i < l->n;) {
		pid_t tid = l->threads[i].tid;
		int rc = wait_stop(l, tid);
		if (rc < 0)
			return gs_errf(err, GS_EINPUT, "pid %d: thread %d did not stop", l->pid, (int)tid);
		if (rc == 1) {
			forget(l, tid); /* moves the last one here */
			continue;
		}
		stopped++;
		i++;
	}
	return stopped;
}

/* Seizes until a listing of /proc/PID/task shows no thread we do not hold. */
static int seize_all(live_impl *l, gs_err *err)
{
	for (int round = 0; round < SEIZE_ROUNDS; round++) {
		pid_t *tids;
		size_t n, fresh = 0;
		if (gs_proc_list_tids(l->pid, &tids, &n) != 0) {
			if (errno == ENOENT || errno == ESRCH)
				return gs_errf(err, GS_EINPUT, "pid %d: no such process", l->pid);
			return gs_errf(err, GS_EINPUT, "pid %d: cannot list threads: %s", l->pid,
				       strerror(errno));
		}
		size_t from = l->n;
		for (size_t i = 0; i < n; i++) {
			if (is_seized(l, tids[i]))
				continue;
			if (seize_one(l, tids[i], err) < 0) {
				free(tids);
				return -1;
			}
		}
		free(tids);
		int rc = stop_all(l, from, err);
		if (rc < 0)
			return -1;
		fresh = (size_t)rc;
		if (!fresh)
			return l->n ? 0 : gs_errf(err, GS_EINPUT, "pid %d: no such process", l->pid);
	}
	return gs_errf(err, GS_EINPUT, "pid %d: threads kept appearing after %d rounds", l->pid,
		       SEIZE_ROUNDS);
}

static void read_regs(gs_target *t, live_impl *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct user_regs_struct u;
		uint64_t raw[GS_AMD64_USER_REGS];
		if (ptrace(PTRACE_GETREGS, l->threads[i].tid, NULL, &u) != 0)
			continue; /* died while stopped (SIGKILL from elsewhere) */
		memcpy(raw, &u, sizeof raw);
		gs_thread th = { .tid = l->threads[i].tid };
		gs_regs_from_amd64_user(raw, &th.regs);
		gs_target_add_thread(t, &th);
	}
}

/* The process's anonymous resident memory (RssAnon), 0 when unknown. */
static uint64_t rss_anon(int pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	unsigned long long kb = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "RssAnon: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return (uint64_t)kb << 10;
}

static gs_target *open_live(int pid, bool copying, gs_err *err);

gs_target *gs_live_target_open(int pid, gs_err *err)
{
	return open_live(pid, false, err);
}

gs_target *gs_live_target_open_copying(int pid, gs_err *err)
{
	return open_live(pid, true, err);
}

static gs_target *open_live(int pid, bool copying, gs_err *err)
{
	if (pid <= 0) {
		gs_errf(err, GS_EINPUT, "pid %d: no such process", pid);
		return NULL;
	}
	char name[32];
	snprintf(name, sizeof name, "/proc/%d", pid);
	live_impl *l = gs_calloc(1, sizeof *l, err);
	if (!l)
		return NULL;
	l->pid = pid;
	l->memfd = -1;
	if (copying) { /* what the copy will take is some of the anonymous memory */
		uint64_t anon = rss_anon(pid) / 2;
		gs_image_reserve(&l->img, (size_t)(anon < RESERVE_MAX ? anon : RESERVE_MAX));
		l->imaging = 1;
	}
	/* From here on gs_target_close detaches whatever was seized. */
	gs_target *t = gs_target_new(GS_TARGET_LIVE, name, &live_ops, l, err);
	if (!t) {
		free(l);
		return NULL;
	}
	if (seize_all(l, err) != 0) {
		gs_target_close(t);
		return NULL;
	}
	char mem[48];
	snprintf(mem, sizeof mem, "/proc/%d/mem", pid);
	l->memfd = open(mem, O_RDONLY | O_CLOEXEC);
	if (l->memfd < 0) {
		gs_errf(err, GS_EINPUT, "pid %d: cannot read memory: %s", pid, strerror(errno));
		gs_target_close(t);
		return NULL;
	}
	read_regs(t, l);
	gs_proc_load_layout(t, pid);
	if (gs_target_alloc_check(t, err) != 0) {
		gs_target_close(t);
		return NULL;
	}
	return t;
}

/* The live impl of t when t is a paused (or image-keeping) live target, else NULL. */
static live_impl *live_of(const gs_target *t)
{
	return t && !t->parent && t->ops == &live_ops ? t->impl : NULL;
}

int gs_target_image_begin(gs_target *t)
{
	live_impl *l = live_of(t);
	if (!l || l->frozen)
		return -1;
	l->imaging = 1;
	return 0;
}

uint64_t gs_target_capture(gs_target *t, const uint64_t (*ranges)[2], size_t n,
			   struct gs_exec *ex)
{
	live_impl *l = live_of(t);
	if (!l || !l->imaging || l->frozen || l->memfd < 0)
		return 0;
	uint64_t got = gs_image_copy(&l->img, l->pid, l->memfd, ranges, n, ex);
	gs_image_settle(&l->img);
	return got;
}

uint64_t gs_target_capture_mappings(gs_target *t, const uint64_t (*skip)[2], size_t nskip,
				    bool whole, struct gs_exec *ex)
{
	live_impl *l = live_of(t);
	if (!l || !l->imaging || l->frozen || l->memfd < 0)
		return 0;
	uint64_t got = gs_image_copy_mappings(&l->img, l->pid, l->memfd, skip, nskip, whole, ex);
	gs_image_settle(&l->img);
	return got;
}

uint64_t gs_target_image_misses(const gs_target *t, uint64_t *first)
{
	live_impl *l = live_of(t);
	if (first)
		*first = l ? l->img.first_miss : 0;
	return l ? l->img.misses : 0;
}

uint64_t gs_target_image_bytes(const gs_target *t)
{
	live_impl *l = live_of(t);
	return l && l->imaging ? l->img.bytes : 0;
}

/* Touches no state: the kernel does the detaching when we exit (see the top of file). */
static void exit_on_signal(int sig)
{
	_exit(128 + sig);
}

int gs_target_install_resume_on_signal(gs_target *t)
{
	if (!t || t->kind != GS_TARGET_LIVE)
		return 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = exit_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return -1;
	return 0;
}
