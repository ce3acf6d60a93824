/* Work shared between threads in batches: each claims [*b, *e) of n items from a common
 * counter until none are left. Claims never overlap, so each item is one thread's. */
#ifndef GS_UTIL_BATCH_H
#define GS_UTIL_BATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

static inline bool gs_batch_claim(atomic_size_t *next, size_t n, size_t batch, size_t *b,
				  size_t *e)
{
	*b = atomic_fetch_add(next, batch);
	if (*b >= n)
		return false;
	*e = *b + batch < n ? *b + batch : n;
	return true;
}

#endif
