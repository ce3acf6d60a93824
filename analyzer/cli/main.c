/* grpcscope: the command-line front end. Parses where the snapshot comes from, hands the
 * command to the library and prints what it renders. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grpcscope.h"

/* A traced process is detached by the kernel when its tracer exits, so on SIGINT/SIGTERM
 * exiting at once is the clean way to resume it. */
static void on_signal(int sig)
{
	_exit(128 + sig);
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
	gs_open_options o = {0};
	const char **cmd = calloc((size_t)argc + 1, sizeof *cmd);
	const char **pos = calloc((size_t)argc + 1, sizeof *pos);
	int ncmd = 0, npos = 0;
	cmd[ncmd++] = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0) {
			fputs(gs_usage(), stdout);
			return 0;
		} else if (strcmp(a, "--pid") == 0) {
			if (i + 1 >= argc || !is_number(argv[i + 1])) {
				fprintf(stderr, "grpcscope: --pid needs a process id\n");
				return 2;
			}
			o.pid = atoi(argv[++i]);
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
			return 2;
		}
		const char *last = pos[npos - 1];
		if (!is_file(last)) {
			fprintf(stderr, "%s: %s\n", last,
				access(last, F_OK) == 0 ? "not a regular file" : strerror(ENOENT));
			return 2;
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

	char err[1024];
	int status;
	gs_session *s = gs_open(&o, &status, err, sizeof err);
	if (!s) {
		fprintf(stderr, "grpcscope: %s\n", err);
		return status;
	}
	char *out = NULL, *msg = NULL;
	int rc = gs_command(s, ncmd, cmd, &out, &msg);
	gs_close(s); /* resumes a live process before anything is printed */
	if (out)
		fputs(out, stdout);
	if (msg)
		fprintf(stderr, "grpcscope: %s\n", msg);
	gs_free(out);
	gs_free(msg);
	free(cmd);
	free(pos);
	return rc;
}
