/* grpcscope: the command-line front end. Parses where the snapshot comes from, hands the
 * command to the library and prints what it renders. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "grpcscope.h"

/* A traced process is detached by the kernel when its tracer exits, so on SIGINT/SIGTERM
 * exiting at once is the clean way to resume it. */
static void on_signal(int sig)
{
	_exit(128 + sig);
}

/* --timeout: the whole run is bounded. The message is formatted before the timer starts
 * so that the handler only writes and exits; exiting detaches (and so resumes) a live
 * target, as for SIGINT. */
static char timeout_msg[96];

static void on_timeout(int sig)
{
	(void)sig;
	ssize_t k = write(STDERR_FILENO, timeout_msg, strlen(timeout_msg));
	(void)k;
	_exit(1);
}

/* The first error writing stdout (a full disk, a closed pipe): the run then fails. */
typedef struct out_state {
	int err;
} out_state;

/* A control character other than a line break or tab never reaches the terminal: the
 * library escapes the strings it takes from a snapshot, and this is the last guard. */
static int is_unsafe(unsigned char c)
{
	return (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f;
}

/* The first unsafe byte of p[0, n), or n. Eight bytes at a time: a word with no byte below
 * 0x20 and none equal to 0x7f is passed over whole (listings are megabytes of plain text). */
static size_t first_unsafe(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, del;
		memcpy(&x, p + i, 8);
		del = x ^ (0x7f * ones);
		if ((((x - 0x20 * ones) & ~x) | ((del - ones) & ~del)) & highs)
			break; /* a control byte, or a line break or tab: looked at one by one */
	}
	for (; i < n; i++)
		if (is_unsafe((unsigned char)p[i]))
			return i;
	return n;
}

static void write_safe(FILE *f, const char *p, size_t n, int *err)
{
	while (n && !*err) {
		size_t k = first_unsafe(p, n);
		if (k && fwrite(p, 1, k, f) != k)
			*err = errno ? errno : EIO;
		if (k < n && !*err && fprintf(f, "\\x%02x", (unsigned char)p[k]) < 0)
			*err = errno ? errno : EIO;
		k += k < n;
		p += k;
		n -= k;
	}
}

static void write_stdout(void *ctx, const char *p, size_t n)
{
	out_state *o = ctx;
	write_safe(stdout, p, n, &o->err);
}

/* The progress line of a compressed core's decompression: only on a terminal, only once it
 * has taken a second, redrawn at most ten times a second. */
typedef struct progress_line {
	int tty, shown;
	double start, last;
} progress_line;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void show_progress(void *ctx, const gs_progress *p)
{
	progress_line *pl = ctx;
	double now = now_s();
	if (p->in_done == 0 && !p->finished) { /* a new file */
		pl->start = now;
		pl->shown = 0;
		return;
	}
	if (!pl->tty || (!p->finished && (now - pl->start < 1.0 || now - pl->last < 0.1)))
		return;
	if (p->finished && !pl->shown)
		return;
	pl->last = now;
	pl->shown = 1;
	double mib = 1024.0 * 1024.0;
	fprintf(stderr, "\rgrpcscope: decompressing %s (%s): %3.0f%% of %.0f MiB, %.0f MiB out\033[K%s",
		p->path, p->format, p->in_total ? 100.0 * (double)p->in_done / (double)p->in_total : 100.0,
		(double)p->in_total / mib, (double)p->out_done / mib,
		p->finished ? "\n" : "");
}


/* "grpcscope: MSG\n" on stderr, MSG escaped (it may name a path recorded in the core):
 * one line, whatever the path holds. */
static void say(const char *msg)
{
	int e = 0;
	fputs("grpcscope: ", stderr);
	for (const char *p = msg; *p; p++) {
		if (*p == '\n')
			fputs("\\n", stderr);
		else
			write_safe(stderr, p, 1, &e);
	}
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(gs_usage(), stderr);
		return 2;
	}
	/* Freed memory stays with the allocator: handing blocks back to the kernel while worker
	 * threads run interrupts every core to flush its TLB, and the process ends soon. */
	mallopt(M_MMAP_THRESHOLD, 256 << 20);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	/* The whole command line is checked by the library's grammar before any target is
	 * touched: a usage error must never pause a live process. */
	gs_options *o = gs_options_new();
	const char **cmd = NULL;
	char *perr = NULL;
	int ncmd = 0, rc = 0;
	if (!o || gs_parse_line(o, argc - 1, (const char *const *)argv + 1, GS_LINE_CLI,
				&perr) != 0) {
		say(perr ? perr : "out of memory");
		gs_free(perr);
		rc = 2;
		goto out;
	}
	if (gs_options_get(o, "version")) {
		printf("grpcscope %s\n", gs_version());
		goto out;
	}
	if (gs_options_get(o, "help")) {
		char *h = gs_help(gs_options_get(o, "help"));
		fputs(h, stdout);
		gs_free(h);
		goto out;
	}
	const char *tv = gs_options_get(o, "timeout");
	double timeout = tv ? strtod(tv, NULL) : 0;
	bool live = gs_options_get(o, "pid") != NULL;
	ncmd = gs_options_argc(o);
	cmd = calloc((size_t)ncmd + 1, sizeof *cmd);
	for (int i = 0; cmd && i < ncmd; i++)
		cmd[i] = gs_options_arg(o, i);

	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (timeout > 0) {
		snprintf(timeout_msg, sizeof timeout_msg, "grpcscope: timed out after %g s\n",
			 timeout);
		struct sigaction ta = {0};
		ta.sa_handler = on_timeout;
		sigaction(SIGALRM, &ta, NULL);
		struct itimerval it = {0};
		it.it_value.tv_sec = (time_t)timeout;
		it.it_value.tv_usec = (suseconds_t)((timeout - (double)(time_t)timeout) * 1e6);
		if (!it.it_value.tv_sec && !it.it_value.tv_usec)
			it.it_value.tv_usec = 1;
		setitimer(ITIMER_REAL, &it, NULL);
	}

	char err[1024];
	int status;
	progress_line pl = {.tty = isatty(STDERR_FILENO)};
	gs_options_set_progress(o, show_progress, &pl);
	gs_session *s = gs_open_with(o, &status, err, sizeof err);
	if (!s) {
		say(err);
		rc = status;
		goto out;
	}
	/* Lines, each ending in '\n'. */
	for (const char *w = gs_open_warnings(s), *nl; (nl = strchr(w, '\n')) != NULL; w = nl + 1)
		fprintf(stderr, "grpcscope: warning: %.*s\n", (int)(nl - w), w);
	char *text = NULL, *msg = NULL;
	out_state wout = {0};
	if (live) {
		/* A live process stays paused while the library reads it: buffer the output and
		 * print it only once the process runs again. */
		rc = gs_command(s, ncmd, cmd, &text, &msg);
	} else {
		/* A core: stream, so a large report never piles up in memory. */
		rc = gs_command_stream(s, ncmd, cmd, write_stdout, &wout, &msg);
	}
	/* Damage that may make the answer incomplete: said on stderr, whatever the format. */
	char *warnings = gs_warnings(s);
	/* GRPCSCOPE_TIMING=1: the phases' wall times on stderr (bench/ reads them). */
	const char *tm = getenv("GRPCSCOPE_TIMING");
	char *timing = tm && *tm && strcmp(tm, "0") ? gs_timing(s) : NULL;
	struct timespec c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &c0);
	gs_close(s);
	clock_gettime(CLOCK_MONOTONIC, &c1);
	if (timing) {
		fprintf(stderr, "%.*s, close %.1f ms\n", (int)strlen(timing) - 1, timing,
			(double)(c1.tv_sec - c0.tv_sec) * 1e3 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e6);
		gs_free(timing);
	}
	if (timeout > 0) { /* done: printing is not cut short */
		struct itimerval off = {0};
		setitimer(ITIMER_REAL, &off, NULL);
	}
	if (text)
		write_stdout(&wout, text, strlen(text));
	if (fflush(stdout) != 0 && !wout.err)
		wout.err = errno ? errno : EIO;
	if (warnings) {
		int e = 0;
		write_safe(stderr, warnings, strlen(warnings), &e);
	}
	gs_free(warnings);
	if (msg)
		say(msg);
	if (wout.err) {
		fprintf(stderr, "grpcscope: cannot write the output: %s\n", strerror(wout.err));
		if (rc == 0)
			rc = 1;
	}
	gs_free(text);
	gs_free(msg);
out:
	free(cmd);
	gs_options_free(o);
	return rc;
}
