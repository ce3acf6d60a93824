#include "radix.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static uint64_t key_at(const unsigned char *rec, size_t key)
{
	uint64_t k;
	memcpy(&k, rec + key, sizeof k);
	return k;
}

/* LSD, a byte a pass; a pass whose byte is the same in every key (the high bytes of heap
 * addresses, of goroutine ids) is skipped. */
void gs_radix_sort(void *base, size_t n, size_t size, size_t key, void *tmp)
{
	size_t count[8][256];
	memset(count, 0, sizeof count);
	unsigned char *src = base, *dst = tmp;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = key_at(src + i * size, key);
		for (int b = 0; b < 8; b++)
			count[b][(k >> (8 * b)) & 0xff]++;
	}
	for (int b = 0; b < 8; b++) {
		size_t *c = count[b];
		bool trivial = false;
		for (int v = 0; v < 256; v++) {
			if (c[v] == n) {
				trivial = true;
				break;
			}
		}
		if (trivial || n < 2)
			continue;
		size_t pos = 0;
		for (int v = 0; v < 256; v++) {
			size_t k = c[v];
			c[v] = pos;
			pos += k;
		}
		for (size_t i = 0; i < n; i++) {
			const unsigned char *r = src + i * size;
			memcpy(dst + c[(key_at(r, key) >> (8 * b)) & 0xff]++ * size, r, size);
		}
		unsigned char *t = src;
		src = dst;
		dst = t;
	}
	if (src != base)
		memcpy(base, src, n * size);
}
