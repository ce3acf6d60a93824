/* A corruptible memory image for fuzzing and hostile-memory tests: a real core's memory
 * (through a core target) with patches laid over it — bytes written at an address, or
 * ranges made unreadable — served through a host-debugger (callback) target.
 *
 * Header-only, shared by tests/fuzz/fuzz_runtime.c and tests/unit/test_hostile_memory.c. */
#ifndef GS_TESTS_MEMIMAGE_H
#define GS_TESTS_MEMIMAGE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/src/target/target.h"

#define MI_MAX_PATCHES 256

typedef struct mi_patch {
	uint64_t addr;
	size_t len;
	uint8_t *bytes; /* NULL: the range is unreadable */
} mi_patch;

typedef struct memimage {
	gs_target *base; /* the real core */
	mi_patch p[MI_MAX_PATCHES];
	size_t n;
	uint64_t reads;  /* callback calls, to see that walks stay bounded */
} memimage;

static inline void mi_reset(memimage *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->p[i].bytes);
	m->n = 0;
	m->reads = 0;
}

/* Writes len bytes at addr over the image (later patches win). */
static inline void mi_write(memimage *m, uint64_t addr, const void *src, size_t len)
{
	if (m->n == MI_MAX_PATCHES || !len)
		return;
	mi_patch *p = &m->p[m->n++];
	p->addr = addr;
	p->len = len;
	p->bytes = malloc(len);
	memcpy(p->bytes, src, len);
}

static inline void mi_write_u64(memimage *m, uint64_t addr, uint64_t v)
{
	mi_write(m, addr, &v, 8);
}

/* Makes [addr, addr+len) unreadable. */
static inline void mi_hole(memimage *m, uint64_t addr, size_t len)
{
	if (m->n == MI_MAX_PATCHES || !len)
		return;
	mi_patch *p = &m->p[m->n++];
	p->addr = addr;
	p->len = len;
	p->bytes = NULL;
}

/* Reads the pristine image (no patches). 0 or -1. */
static inline int mi_read_base(memimage *m, uint64_t addr, void *dst, size_t n)
{
	return gs_target_read(m->base, addr, dst, n, NULL);
}

/* The read callback: the base image page by page (stopping at the first unreadable page),
 * then the patches; a hole cuts the read short where it starts. */
static inline size_t mi_read(void *ctx, uint64_t addr, void *dst, size_t n)
{
	memimage *m = ctx;
	m->reads++;
	size_t got = 0;
	while (got < n) {
		uint64_t a = addr + got;
		if (a < addr)
			break; /* wrapped */
		size_t chunk = 4096 - (size_t)(a & 4095);
		if (chunk > n - got)
			chunk = n - got;
		if (gs_target_read(m->base, a, (uint8_t *)dst + got, chunk, NULL) < 0)
			break;
		got += chunk;
	}
	for (size_t i = 0; i < m->n; i++) {
		const mi_patch *p = &m->p[i];
		uint64_t lo = p->addr, hi = p->addr + p->len;
		if (hi < lo)
			hi = UINT64_MAX;
		if (hi <= addr || lo >= addr + got)
			continue;
		if (!p->bytes) {
			got = lo > addr ? (size_t)(lo - addr) : 0;
			continue;
		}
		uint64_t s = lo > addr ? lo : addr;
		uint64_t e = hi < addr + got ? hi : addr + got;
		memcpy((uint8_t *)dst + (s - addr), p->bytes + (s - lo), (size_t)(e - s));
	}
	return got;
}

/* A callback target over the image with the base core's threads. */
static inline gs_target *mi_target(memimage *m)
{
	gs_target_callbacks cb = {m, mi_read};
	gs_target *t = gs_callback_target_new(&cb, NULL);
	for (size_t i = 0; t && i < gs_target_nthreads(m->base); i++)
		gs_target_add_thread(t, gs_target_thread(m->base, i));
	return t;
}

#endif
