#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int gs_err_nomem(gs_err *err, size_t n)
{
	return gs_errf(err, GS_EINTERNAL, "out of memory (%zu bytes)", n);
}

void *gs_malloc(size_t n, gs_err *err)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		gs_err_nomem(err, n);
	return p;
}

void *gs_calloc(size_t n, size_t size, gs_err *err)
{
	if (size && n > SIZE_MAX / size) {
		gs_err_nomem(err, SIZE_MAX);
		return NULL;
	}
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		gs_err_nomem(err, n * size);
	return p;
}

void *gs_realloc(void *p, size_t n, gs_err *err)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		gs_err_nomem(err, n);
	return q;
}

void *gs_reallocarray(void *p, size_t n, size_t size, gs_err *err)
{
	if (size && n > SIZE_MAX / size) {
		gs_err_nomem(err, SIZE_MAX);
		return NULL;
	}
	return gs_realloc(p, n * size, err);
}

char *gs_strdup(const char *s, gs_err *err)
{
	size_t n = strlen(s) + 1;
	char *p = gs_malloc(n, err);
	return p ? memcpy(p, s, n) : NULL;
}
