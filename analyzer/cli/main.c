/* grpcscope: the command-line front end. Parses where the snapshot comes from, hands the
 * command to the library and prints what it renders. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static void write_stdout(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	fwrite(p, 1, n, stdout);
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

static int is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_number(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(gs_usage(), argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("grpcscope %s\n", gs_version());
		return 0;
	}
	/* Freed memory stays with the allocator: handing blocks back to the kernel while worker
	 * threads run interrupts every core to flush its TLB, and the process ends soon. */
	mallopt(M_MMAP_THRESHOLD, 256 << 20);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	gs_open_options o = {0};
	const char **cmd = calloc((size_t)argc + 1, sizeof *cmd);
	const char **pos = calloc((size_t)argc + 1, sizeof *pos);
	int ncmd = 0, npos = 0, rc = 0;
	double timeout = 0;
	cmd[ncmd++] = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0) {
			fputs(gs_usage(), stdout);
			rc = 0;
			goto out;
		} else if (strcmp(a, "--pid") == 0) {
			if (i + 1 >= argc || !is_number(argv[i + 1])) {
				fprintf(stderr, "grpcscope: --pid needs a process id\n");
				rc = 2;
				goto out;
			}
			o.pid = atoi(argv[++i]);
		} else if (strcmp(a, "--timeout") == 0) {
			char *end = NULL;
			timeout = i + 1 < argc ? strtod(argv[i + 1], &end) : 0;
			if (i + 1 >= argc || *end || !(timeout > 0) || timeout > 1e6) {
				fprintf(stderr, "grpcscope: --timeout needs a number of seconds\n");
				rc = 2;
				goto out;
			}
			i++;
		} else if (strcmp(a, "--force") == 0) {
			o.force = 1;
		} else if (a[0] == '-' && a[1]) {
			cmd[ncmd++] = a;
			/* options of commands that take a value */
			if ((strcmp(a, "--status") == 0 || strcmp(a, "--reason") == 0 ||
			     strcmp(a, "--id") == 0) && i + 1 < argc)
				cmd[ncmd++] = argv[++i];
			/* --peer [EXE2] CORE2: one or two files */
			if (strcmp(a, "--peer") == 0 && i + 1 < argc) {
				cmd[ncmd++] = argv[++i];
				if (i + 2 < argc && is_file(argv[i + 1]) && is_file(argv[i + 2]) &&
				    i + 3 < argc)
					cmd[ncmd++] = argv[++i];
			}
		} else {
			pos[npos++] = a;
		}
	}
	/* Trailing positionals name the snapshot: EXE CORE, or CORE; the rest belong to the
	 * command (stream ids, goroutine ids). */
	if (o.pid <= 0) {
		if (npos == 0) {
			fprintf(stderr, "grpcscope: no snapshot: give EXE CORE, CORE or --pid PID\n");
			rc = 2;
			goto out;
		}
		const char *last = pos[npos - 1];
		if (!is_file(last)) {
			fprintf(stderr, "%s: %s\n", last,
				access(last, F_OK) == 0 ? "not a regular file" : strerror(ENOENT));
			rc = 2;
			goto out;
		}
		o.core = last;
		npos--;
		if (npos > 0 && is_file(pos[npos - 1])) {
			o.exe = pos[npos - 1];
			npos--;
		}
	}
	for (int i = 0; i < npos; i++)
		cmd[ncmd++] = pos[i];

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
	o.want_grpc = strcmp(cmd[0], "goroutines") == 0 || strcmp(cmd[0], "streams") == 0 ||
		      strcmp(cmd[0], "stream-state") == 0 || strcmp(cmd[0], "why-blocked") == 0;
	progress_line pl = {.tty = isatty(STDERR_FILENO)};
	o.progress = show_progress;
	o.progress_ctx = &pl;
	gs_session *s = gs_open(&o, &status, err, sizeof err);
	if (!s) {
		fprintf(stderr, "grpcscope: %s\n", err);
		rc = status;
		goto out;
	}
	char *text = NULL, *msg = NULL;
	if (o.pid > 0) {
		/* A live process stays paused while the library reads it: buffer the output and
		 * print it only once the process runs again. */
		rc = gs_command(s, ncmd, cmd, &text, &msg);
	} else {
		/* A core: stream, so a large report never piles up in memory. */
		rc = gs_command_stream(s, ncmd, cmd, write_stdout, NULL, &msg);
	}
	/* GRPCSCOPE_TIMING=1: the phases' wall times on stderr (bench/ reads them). */
	const char *tv = getenv("GRPCSCOPE_TIMING");
	char *timing = tv && *tv && strcmp(tv, "0") ? gs_timing(s) : NULL;
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
		fputs(text, stdout);
	if (msg)
		fprintf(stderr, "grpcscope: %s\n", msg);
	gs_free(text);
	gs_free(msg);
out:
	free(cmd);
	free(pos);
	return rc;
}
