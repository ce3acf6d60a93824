/* Radix sort of fixed-size records by a 64-bit key: stable and linear, for the arrays of
 * tens of thousands of goroutines and spans a session sorts (qsort's comparisons cost more
 * than the reads around them). */
#ifndef GS_UTIL_RADIX_H
#define GS_UTIL_RADIX_H

#include <stddef.h>

/* Sorts n records of `size` bytes at base by the uint64_t at byte offset `key` in each,
 * ascending. tmp: scratch of n * size bytes. */
void gs_radix_sort(void *base, size_t n, size_t size, size_t key, void *tmp);

#endif
