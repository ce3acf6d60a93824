/* Interned strings: one copy of each distinct string, owned by the pool. Tens of thousands
 * of streams share a handful of method names, context errors and status messages. */
#ifndef GS_UTIL_STRPOOL_H
#define GS_UTIL_STRPOOL_H

#include <stddef.h>

typedef struct gs_strpool {
	char **slot; /* open addressing; NULL = empty */
	size_t n, cap;
} gs_strpool;

/* The pool's copy of s (valid until gs_strpool_free); "" and NULL give "". NULL
 * when out of memory. */
const char *gs_strpool_intern(gs_strpool *p, const char *s);
void gs_strpool_free(gs_strpool *p);

#endif
