/* Fallible allocation. The library runs inside gdb and lldb, so running out of memory must
 * not end the process: every allocation can fail, and failing it is an error like any other
 * (GS_EINTERNAL, "out of memory (N bytes)"), propagated as the caller propagates the rest.
 * Sizes of 0 allocate 1 byte, so a NULL return always means failure. */
#ifndef GS_UTIL_ALLOC_H
#define GS_UTIL_ALLOC_H

#include <stddef.h>

#include "err.h"

void *gs_malloc(size_t n, gs_err *err);
/* n elements of size bytes, zeroed; n * size overflowing is a failure too. */
void *gs_calloc(size_t n, size_t size, gs_err *err);
/* On failure p is left as it was (the caller still owns and frees it). */
void *gs_realloc(void *p, size_t n, gs_err *err);
/* gs_realloc for n elements of size bytes, overflow-checked. */
void *gs_reallocarray(void *p, size_t n, size_t size, gs_err *err);
char *gs_strdup(const char *s, gs_err *err);
/* Sets *err to the out-of-memory error for n bytes and returns -1. */
int gs_err_nomem(gs_err *err, size_t n);

#endif
