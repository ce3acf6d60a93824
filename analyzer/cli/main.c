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

static void write_safe(FILE *f, const char *p, size_t n, int *err)
{
	size_t from = 0;
	for (size_t i = 0; i <= n && !*err; i++) {
		if (i < n && !is_unsafe((unsigned char)p[i]))
			continue;
		if (i > from && fwrite(p + from, 1, i - from, f) != i - from)
			*err = errno ? errno : EIO;
		if (i < n && !*err && fprintf(f, "\\x%02x", (unsigned char)p[i]) < 0)
			*err = errno ? errno : EIO;
		from = i + 1;
	}
}

static void write_stdout(void *ctx, const char *p, size_t n)
{
	out_state *o = ctx;
	write_safe(stdout, p, n, &o->err);
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

/* Command arguments are told from file names by their syntax, never by which files exist:
 * goroutine ids are numbers; a stream is a number, an address or TRANSPORT:ID. */
static int is_hex_or_dec(const char *s, size_t n)
{
	size_t i = 0;
	int hex = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	if (hex)
		i = 2;
	if (i >= n)
		return 0;
	for (; i < n; i++)
		if (!(s[i] >= '0' && s[i] <= '9') &&
		    !(hex && ((s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F'))))
			return 0;
	return 1;
}

static int is_command_arg(const char *cmd, const char *a)
{
	if (strcmp(cmd, "stream-state") == 0) {
		const char *colon = strchr(a, ':');
		if (colon)
			return is_hex_or_dec(a, (size_t)(colon - a)) &&
			       is_hex_or_dec(colon + 1, strlen(colon + 1));
		return is_hex_or_dec(a, strlen(a));
	}
	return is_hex_or_dec(a, strlen(a));
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

/* Appends dir to the ':'-separated list *dirs (malloc'd). -1 if dir holds a ':'. */
static int debug_dirs_add(char **dirs, const char *dir)
{
	if (strchr(dir, ':'))
		return -1;
	size_t old = *dirs ? strlen(*dirs) : 0, n = strlen(dir);
	char *p = realloc(*dirs, old + n + 2);
	if (!p)
		return -1;
	if (old)
		p[old++] = ':';
	memcpy(p + old, dir, n + 1);
	*dirs = p;
	return 0;
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
	char *debug_dirs = NULL; /* --debug-dir, repeatable: ':'-joined */
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
		} else if (strcmp(a, "--debug-file") == 0 || strcmp(a, "--debug-dir") == 0) {
			if (i + 1 >= argc || !argv[i + 1][0]) {
				fprintf(stderr, "grpcscope: %s needs a path\n", a);
				rc = 2;
				goto out;
			}
			if (strcmp(a, "--debug-file") == 0)
				o.debug_file = argv[++i];
			else if (debug_dirs_add(&debug_dirs, argv[++i]) < 0) {
				fprintf(stderr, "grpcscope: %s: ':' separates debug directories\n", argv[i]);
				rc = 2;
				goto out;
			}
		} else if (a[0] == '-' && a[1]) {
			cmd[ncmd++] = a;
			/* options of commands that take a value */
			if ((strcmp(a, "--status") == 0 || strcmp(a, "--reason") == 0 ||
			     strcmp(a, "--id") == 0 || strcmp(a, "-o") == 0) && i + 1 < argc)
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
	/* Positionals: the command's own arguments (ids, a stream) and one or two files,
	 * EXE CORE or CORE (with --pid: at most EXE). */
	const char *files[3];
	int nfiles = 0, nargs = 0;
	/* diff: EXE CORE_EARLIER CORE_LATER (or CORE_EARLIER CORE_LATER) */
	int maxfiles = strcmp(cmd[0], "diff") == 0 ? 3 : 2;
	for (int i = 0; i < npos; i++) {
		if (is_command_arg(cmd[0], pos[i])) {
			pos[nargs++] = pos[i];
		} else if (nfiles < maxfiles) {
			files[nfiles++] = pos[i];
		} else {
			fprintf(stderr, "grpcscope: %s: one file too many (give EXE CORE, CORE or "
					"--pid PID)\n", pos[i]);
			rc = 2;
			goto out;
		}
	}
	npos = nargs;
	if (o.pid > 0) {
		if (nfiles > 1) {
			fprintf(stderr, "grpcscope: %s: a core file and --pid together (give one)\n",
				files[1]);
			rc = 2;
			goto out;
		}
		o.exe = nfiles ? files[0] : NULL;
	} else {
		if (nfiles == 0) {
			fprintf(stderr, "grpcscope: no snapshot: give EXE CORE, CORE or --pid PID\n");
			rc = 2;
			goto out;
		}
		if (maxfiles == 3) { /* the later core goes to the command */
			if (nfiles < 2) {
				fprintf(stderr, "grpcscope: diff: give EXE CORE_EARLIER CORE_LATER\n");
				rc = 2;
				goto out;
			}
			cmd[ncmd++] = "--later";
			cmd[ncmd++] = files[--nfiles];
		}
		o.core = files[nfiles - 1];
		o.exe = nfiles == 2 ? files[0] : NULL;
	}
	for (int i = 0; i < npos; i++)
		cmd[ncmd++] = pos[i];
	/* The whole command line is checked before any target is touched: a usage error must
	 * never pause a live process. */
	char *usage_err = NULL;
	if (gs_command_check(ncmd, cmd, &usage_err) != 0) {
		fprintf(stderr, "grpcscope: %s\n", usage_err ? usage_err : "bad usage");
		gs_free(usage_err);
		rc = 2;
		goto out;
	}
	/* The files named are regular files (never a FIFO to block on), before anything opens:
	 * the core, and --peer's one or two. */
	const char *check[5] = { o.core };
	int nfcheck = o.core ? 1 : 0;
	for (int i = 1; i < ncmd; i++) {
		if (strcmp(cmd[i], "--later") == 0 && i + 1 < ncmd && nfcheck < 5)
			check[nfcheck++] = cmd[i + 1];
		if (strcmp(cmd[i], "--peer") != 0)
			continue;
		for (int k = i + 1; k < ncmd && k <= i + 2 && nfcheck < 4; k++)
			if (cmd[k][0] != '-' && !is_number(cmd[k]))
				check[nfcheck++] = cmd[k];
	}
	for (int i = 0; i < nfcheck; i++) {
		struct stat st;
		if (is_file(check[i]))
			continue;
		fprintf(stderr, "grpcscope: %s: %s\n", check[i],
			stat(check[i], &st) == 0 ? "not a regular file" : strerror(errno));
		rc = 2;
		goto out;
	}

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

	o.debug_dirs = debug_dirs;
	char err[1024];
	int status;
	o.want_grpc = strcmp(cmd[0], "goroutines") == 0 || strcmp(cmd[0], "streams") == 0 ||
		      strcmp(cmd[0], "stream-state") == 0 || strcmp(cmd[0], "why-blocked") == 0 ||
		      strcmp(cmd[0], "diff") == 0 || strcmp(cmd[0], "report") == 0;
	gs_session *s = gs_open(&o, &status, err, sizeof err);
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
	if (o.pid > 0) {
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
	free(debug_dirs);
	free(cmd);
	free(pos);
	return rc;
}
