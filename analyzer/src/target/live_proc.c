#include "live_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/alloc.h"

/* /proc files report size 0; read until EOF, bounded against a hostile maps file. */
#define MAX_PROC_FILE ((size_t)256 << 20)

static char *read_proc_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (buf && n == cap) {
			if (cap >= MAX_PROC_FILE)
				break;
			cap *= 2;
			char *b = realloc(buf, cap + 1);
			if (!b)
				free(buf);
			buf = b;
		}
		if (!buf) { /* errno is ENOMEM */
			close(fd);
			return NULL;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int gs_proc_list_tids(int pid, pid_t **tids, size_t *n)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	size_t cap = 16;
	*n = 0;
	*tids = malloc(cap * sizeof **tids);
	if (!*tids) {
		closedir(d);
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);
		if (*end || tid <= 0 || tid > INT_MAX)
			continue;
		if (*n == cap) {
			cap *= 2;
			pid_t *v = realloc(*tids, cap * sizeof **tids);
			if (!v) {
				free(*tids);
				*tids = NULL;
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			*tids = v;
		}
		(*tids)[(*n)++] = (pid_t)tid;
	}
	closedir(d);
	return 0;
}

/* Line format: start-end perms offset dev inode [path]. Only file-backed lines count. */
static void load_maps(gs_target *t, int pid)
{
	char path[64];
	size_t len;
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	char *buf = read_proc_file(path, &len);
	if (!buf) {
		t->nomem |= errno == ENOMEM;
		return;
	}
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		uint64_t start, end, off;
		unsigned long long inode;
		int pos = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %llu %n", &start, &end,
			   &off, &inode, &pos) < 4 || pos == 0)
			continue;
		const char *file = line + pos;
		if (inode == 0 || file[0] != '/')
			continue;
		gs_target_push_mapping(t, start, end, off, file);
	}
	free(buf);
}

static void load_auxv(gs_target *t, int pid)
{
	char path[64];
	size_t len;
	snprintf(path, sizeof path, "/proc/%d/auxv", pid);
	char *buf = read_proc_file(path, &len);
	if (!buf) {
		t->nomem |= errno == ENOMEM;
		return;
	}
	size_t np = len / 16, k = 0;
	uint64_t *pairs = malloc((np ? np : 1) * 16);
	if (!pairs) {
		t->nomem = true;
		free(buf);
		return;
	}
	memcpy(pairs, buf, np * 16);
	while (k < np && pairs[2 * k] != 0) /* AT_NULL ends the vector */
		k++;
	gs_target_set_auxv(t, pairs, k);
	free(pairs);
	free(buf);
}

static void load_exe(gs_target *t, int pid)
{
	char path[64], exe[PATH_MAX + 1];
	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	ssize_t r = readlink(path, exe, sizeof exe - 1);
	if (r <= 0)
		return;
	exe[r] = '\0';
	gs_target_set_exe_path(t, exe);
}

void gs_proc_load_layout(gs_target *t, int pid)
{
	load_maps(t, pid);
	load_auxv(t, pid);
	load_exe(t, pid);
}
