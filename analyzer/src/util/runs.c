#include "runs.h"

static uint64_t addr_at(const void *recs, size_t stride, size_t i)
{
	uint64_t a;
	memcpy(&a, (const uint8_t *)recs + i * stride, sizeof a);
	return a;
}

size_t gs_run_end(const void *recs, size_t stride, size_t n, size_t a, uint64_t size,
		  uint64_t gap, uint64_t max)
{
	uint64_t lo = addr_at(recs, stride, a), end = lo + size;
	size_t b = a + 1;
	if (!lo || end < lo || end + gap < end)
		return b; /* no address, or one at the top of the space: alone */
	for (; b < n; b++) {
		uint64_t x = addr_at(recs, stride, b);
		if (x > end + gap || x + size < x || x + size - lo > max)
			break;
		if (x + size > end)
			end = x + size;
	}
	return b;
}
