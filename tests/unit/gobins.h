/* Helpers shared by the unit tests that read the real Go binaries build-gobins.sh made (dir
 * in $GS_TEST_GOBINS): listing them with their recorded versions, reading their side files,
 * and copying bytes to temporary files. Plain static functions, marked unused since not every
 * test calls all of them. Define GOBINS_TEMP_TEMPLATE (a mkstemp template) before including
 * to name the temporary files. */
#ifndef GS_TESTS_GOBINS_H
#define GS_TESTS_GOBINS_H

#include "gs_check.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_BINS 32

#ifndef GOBINS_TEMP_TEMPLATE
#define GOBINS_TEMP_TEMPLATE "/tmp/gs_test_XXXXXX"
#endif

typedef struct gobin {
	char path[512];
	char version[64]; /* what `go version` said, e.g. go1.27.4 */
} gobin;

/* The binaries build-gobins.sh made: each has a BIN.version next to it. */
__attribute__((unused)) static int list_gobins(gobin *out, int max)
{
	const char *dir = getenv("GS_TEST_GOBINS");
	if (!dir || !*dir)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < max) {
		char vpath[600];
		snprintf(vpath, sizeof vpath, "%s/%s.version", dir, e->d_name);
		FILE *f = fopen(vpath, "r");
		if (!f)
			continue;
		gobin *g = &out[n];
		snprintf(g->path, sizeof g->path, "%s/%s", dir, e->d_name);
		if (fgets(g->version, sizeof g->version, f))
			g->version[strcspn(g->version, "\n")] = '\0';
		fclose(f);
		n++;
	}
	closedir(d);
	return n;
}

__attribute__((unused)) static int need_gobins(gobin *out)
{
	int n = list_gobins(out, MAX_BINS);
	ck_assert_msg(n > 0, "GS_TEST_GOBINS is unset or holds no Go binaries: build them with "
			     "tests/unit/data/build-gobins.sh DIR and set GS_TEST_GOBINS=DIR");
	return n;
}

__attribute__((unused)) static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

__attribute__((unused)) static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc(*len);
	ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

/* Writes buf to a new temporary file named after GOBINS_TEMP_TEMPLATE; path holds 64 bytes. */
__attribute__((unused)) static void write_temp(char *path, const char *buf, size_t len)
{
	strcpy(path, GOBINS_TEMP_TEMPLATE);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* The first line of BIN.suffix (written by build-gobins.sh), "" if empty. */
__attribute__((unused)) static void read_side(const char *bin, const char *suffix, char *out,
					       size_t cap)
{
	char path[600];
	snprintf(path, sizeof path, "%s.%s", bin, suffix);
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "missing %s", path);
	out[0] = '\0';
	if (fgets(out, (int)cap, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

#endif
