#include "live_cause.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <unistd.h>

/* The value of "Key:\t..." in /proc/PID/status (first word), or "" when absent. */
static void status_field(int pid, const char *key, char *out, size_t n)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	out[0] = '\0';
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			const char *v = line + klen + 1;
			v += strspn(v, " \t");
			size_t len = strcspn(v, " \t\n");
			if (len >= n)
				len = n - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			break;
		}
	}
	fclose(f);
}

static int ptrace_scope(void)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	int v = -1;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

void gs_live_trace_cause(int pid, int errnum, char *buf, size_t n)
{
	char tracer[32], state[8], name[64];
	status_field(pid, "TracerPid", tracer, sizeof tracer);
	status_field(pid, "State", state, sizeof state);
	long tp = strtol(tracer, NULL, 10);
	if (tp > 0) {
		status_field((int)tp, "Name", name, sizeof name);
		snprintf(buf, n, "already traced by pid %ld%s%s%s (a process has one tracer; "
			 "detach it first)", tp, *name ? " (" : "", name, *name ? ")" : "");
		return;
	}
	if (state[0] == 'Z' || state[0] == 'X') {
		snprintf(buf, n, "a zombie (it has exited; nothing is left to read)");
		return;
	}
	char exe[64], target[8];
	snprintf(exe, sizeof exe, "/proc/%d/exe", pid);
	if (readlink(exe, target, sizeof target) < 0 && errno == ENOENT && state[0]) {
		snprintf(buf, n, "a kernel thread (there is no program to read)");
		return;
	}
	if (pid == getpid()) {
		snprintf(buf, n, "it is this process itself (a process cannot trace its own threads)");
		return;
	}
	int scope = ptrace_scope();
	bool root = geteuid() == 0;
	if (errnum == EPERM && (scope == 3 || (scope >= 1 && !root))) {
		snprintf(buf, n, "not permitted: /proc/sys/kernel/yama/ptrace_scope is %d (%s)",
			 scope, scope == 1 ? "only a parent may trace; run as root or set it to 0"
				: scope == 2 ? "only root may trace" : "tracing is disabled until reboot");
		return;
	}
	if (errnum == EPERM || errnum == EACCES) {
		snprintf(buf, n, "not permitted: %s (another user's process, or a setuid "
			 "program: run as its owner or as root)", strerror(errnum));
		return;
	}
	snprintf(buf, n, "%s", strerror(errnum));
}
