/* Hashes for the open-addressing tables (names, addresses): one definition for all. */
#ifndef GS_UTIL_HASH_H
#define GS_UTIL_HASH_H

#include <stdint.h>

/* FNV-1a of a NUL-terminated string. */
static inline uint64_t gs_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* A 64-bit mix (murmur3's finaliser): addresses share their low and high bits. */
static inline uint64_t gs_hash_u64(uint64_t a)
{
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdull;
	return a ^ (a >> 33);
}

#endif
