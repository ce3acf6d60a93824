/* A set of non-zero 64-bit values (addresses, goroutine ids): open addressing, grown at half
 * load. Used where a walk must not revisit what it has seen. */
#ifndef GS_UTIL_U64SET_H
#define GS_UTIL_U64SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gs_u64set {
	uint64_t *slot; /* 0 = empty */
	size_t cap, n;
	bool failed; /* out of memory: a value was not added (the owner checks once, at the end) */
} gs_u64set;

/* Adds v (non-zero); false if it was already there, or could not be added (failed set). */
bool gs_u64set_add(gs_u64set *s, uint64_t v);
bool gs_u64set_has(const gs_u64set *s, uint64_t v);
void gs_u64set_free(gs_u64set *s);

#endif
