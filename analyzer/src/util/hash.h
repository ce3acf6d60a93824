/* Hashes for the open-addressing tables (names, addresses): one definition for all. */
#ifndef GS_UTIL_HASH_H
#define GS_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* FNV-1a of a NUL-terminated string. */
static inline uint64_t gs_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* A hash of n bytes, eight at a time (FNV-1a costs a multiply per byte: long strings
 * interned by the hundred thousand). */
static inline uint64_t gs_hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
	for (; n >= 8; n -= 8, b += 8) {
		uint64_t w;
		memcpy(&w, b, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	uint64_t w = 0;
	memcpy(&w, b, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 32);
}

/* A 64-bit mix (murmur3's finaliser): addresses share their low and high bits. */
static inline uint64_t gs_hash_u64(uint64_t a)
{
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdull;
	return a ^ (a >> 33);
}

#endif
