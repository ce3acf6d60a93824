/* Objects read a run of neighbours at a time: addresses sorted, cut where the next object
 * is too far from the last (gs_run_end), each run copied with one read and the objects'
 * fields taken from the copy (gs_run_copy). Reading tens of thousands of small objects one
 * page-cache fill each costs more than copying the gaps between them. */
#ifndef GS_UTIL_RUNS_H
#define GS_UTIL_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* recs: n records of `stride` bytes, each starting with a uint64_t address, in ascending
 * order. Returns the end of the run that starts at a: the following objects (of `size`
 * bytes) that begin at most `gap` bytes after the previous one ends, while the run spans
 * at most `max` bytes, and never wraps around the address space. A zero address runs
 * alone. */
size_t gs_run_end(const void *recs, size_t stride, size_t n, size_t a, uint64_t size,
		  uint64_t gap, uint64_t max);

/* A copied run: [lo, hi) of the target's memory, in buf. */
typedef struct gs_run_copy {
	const uint8_t *buf;
	uint64_t lo, hi;
} gs_run_copy;

/* Copies n bytes at addr from the run when they lie inside it; false otherwise. */
static inline bool gs_run_read(const gs_run_copy *c, uint64_t addr, void *dst, size_t n)
{
	if (!c->buf || addr < c->lo || addr > c->hi || n > c->hi - addr)
		return false;
	memcpy(dst, c->buf + (addr - c->lo), n);
	return true;
}

#endif
