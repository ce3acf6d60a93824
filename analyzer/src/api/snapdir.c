#include "snapdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../target/target.h"
#include "../util/alloc.h"
#include "../util/strbuf.h"

enum kind { K_OTHER, K_CORE, K_COMPRESSED, K_UNREADABLE };

/* NULL when out of memory. */
static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = gs_malloc(n, NULL);
	if (p)
		snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	return p;
}

/* What a regular file holds, by its first bytes. */
static enum kind kind_of(const char *path)
{
	unsigned char h[64] = {0};
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return K_UNREADABLE;
	ssize_t n = read(fd, h, sizeof h);
	close(fd);
	if (n < 0)
		return K_UNREADABLE;
	if (n >= 18 && memcmp(h, "\177ELF", 4) == 0)
		return h[16] == 4 && h[17] == 0 ? K_CORE : K_OTHER; /* e_type ET_CORE */
	enum gs_compression c = gs_compression_detect(h, (size_t)n);
	return c != GS_COMPRESS_NONE ? K_COMPRESSED : K_OTHER;
}

static bool is_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The name less a compression suffix. */
static size_t stem_len(const char *name)
{
	static const char *const sfx[] = {".zst", ".xz", ".gz", ".lz4"};
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		size_t k = strlen(sfx[i]);
		if (n > k && strcmp(name + n - k, sfx[i]) == 0)
			return n - k;
	}
	return n;
}

/* NAME for NAME.core (NULL if the stem does not end in .core, or with *nomem set); the
 * stem is name[0, n). */
static char *core_base(const char *name, size_t n, bool *nomem)
{
	if (n > 5 && strncmp(name + n - 5, ".core", 5) == 0) {
		char *b = gs_malloc(n - 4, NULL);
		if (!b) {
			*nomem = true;
			return NULL;
		}
		memcpy(b, name, n - 5);
		b[n - 5] = 0;
		return b;
	}
	return NULL;
}

static int fail(char *err, size_t errlen, const char *what, const char *why)
{
	snprintf(err, errlen, "%s: %s", what, why);
	return 2;
}

/* Out of memory: 1, the message alone. */
static int nomem(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return 1;
}

/* The executable the core's file mappings record, looked for in dir by its file name
 * (NULL, *nomem set when out of memory). */
static char *exe_by_mapping(const char *dir, const char *core, bool *nomem)
{
	gs_err e = {0};
	gs_target *t = gs_core_target_open(core, &e);
	const char *rec = t ? gs_target_exe_path(t) : NULL;
	char *found = NULL;
	*nomem |= !t && e.code == GS_EINTERNAL;
	if (rec) {
		const char *b = strrchr(rec, '/');
		char *p = join(dir, b ? b + 1 : rec);
		*nomem |= !p;
		if (p && is_regular(p))
			found = p;
		else
			free(p);
	}
	gs_target_close(t);
	return found;
}

/* One entry of dir: *ref filled when it is a snapshot; 2 with err when it is a bad one,
 * 1 when out of memory. */
static int entry(const char *dir, const char *name, gs_snapref *ref, char *err, size_t errlen)
{
	memset(ref, 0, sizeof *ref);
	bool short_of = false;
	char *path = join(dir, name);
	size_t stem = stem_len(name);
	char *base = core_base(name, stem, &short_of);
	if (!path || short_of) {
		free(path);
		free(base);
		return nomem(err, errlen);
	}
	struct stat st;
	int rc = 0;
	bool named = base || (stem == 4 && strncmp(name, "core", 4) == 0);
	if (stat(path, &st) != 0) {
		rc = fail(err, errlen, path, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		char *c = join(path, "core"), *x = join(path, "exe");
		if (!c || !x) {
			free(c);
			free(x);
			rc = nomem(err, errlen);
		} else if (is_regular(c) && kind_of(c) != K_OTHER) {
			if (!is_regular(x))
				rc = fail(err, errlen, c, "no executable beside it (SUB/exe)");
			ref->core = c;
			ref->exe = x;
		} else {
			free(c);
			free(x);
		}
	} else if (!S_ISREG(st.st_mode)) {
		if (named)
			rc = fail(err, errlen, path, "not a regular file");
	} else {
		enum kind k = kind_of(path);
		if (k == K_UNREADABLE && named)
			rc = fail(err, errlen, path, strerror(errno ? errno : EIO));
		else if (k == K_CORE || (k == K_COMPRESSED && named))
			rc = (ref->core = gs_strdup(path, NULL)) ? 0 : nomem(err, errlen);
		else if (named && base)
			rc = fail(err, errlen, path, "named as a core, but not an ELF core file");
		if (ref->core && !rc) {
			char *x = base ? join(dir, base) : NULL;
			short_of |= base && !x;
			if (x && !is_regular(x)) {
				free(x);
				x = NULL;
			}
			if (!x && !short_of && k == K_CORE)
				x = exe_by_mapping(dir, path, &short_of);
			if (short_of)
				rc = nomem(err, errlen);
			else if (!x)
				rc = fail(err, errlen, path, base ? "no executable for it in the directory "
					  "(neither NAME beside NAME.core nor the one its mappings record)"
					  : "no executable for it in the directory (none named as the one "
					  "its mappings record)");
			ref->exe = x;
		}
	}
	free(base);
	free(path);
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int gs_snapdir_list(const char *dir, gs_snapref **out, size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return fail(err, errlen, dir, errno == ENOTDIR ? "not a directory" : strerror(errno));
	char **names = NULL;
	size_t nn = 0;
	int rc = 0;
	for (struct dirent *e; !rc && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue; /* ., .., and hidden files (stamps) */
		char **more = gs_reallocarray(names, nn + 1, sizeof *names, NULL);
		if (more)
			names = more;
		if (!more || !(names[nn++] = gs_strdup(e->d_name, NULL)))
			rc = nomem(err, errlen);
	}
	closedir(d);
	if (nn && !rc)
		qsort(names, nn, sizeof *names, cmp_name);
	for (size_t i = 0; i < nn && !rc; i++) {
		gs_snapref r;
		rc = entry(dir, names[i], &r, err, errlen);
		gs_snapref *more = r.core && !rc ? gs_reallocarray(*out, *n + 1, sizeof **out, NULL) : NULL;
		if (r.core && !rc && !more)
			rc = nomem(err, errlen);
		if (more) {
			*out = more;
			(*out)[(*n)++] = r;
		} else {
			free(r.core);
			free(r.exe);
		}
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	if (!rc && !*n)
		rc = fail(err, errlen, dir, "no core files in it");
	if (rc) {
		gs_snapdir_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void gs_snapdir_free(gs_snapref *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].exe);
		free(v[i].core);
	}
	free(v);
}
