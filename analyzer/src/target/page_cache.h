/* A bounded cache of 4 KiB pages in front of a target's memory source.
 *
 * Every target backend (pread on a core, /proc/PID/mem, host-debugger callbacks) is
 * syscall-bound when read a few bytes at a time, and the layers above read small fields
 * over and over. The cache fetches whole pages, remembers pages (or parts of pages) that
 * could not be read, and evicts the least recently used page when full. Its memory is one
 * block, made present a few MiB at a time as it fills, so its share of RSS is bounded by
 * max_bytes and small snapshots pay little. Not thread-safe.
 *
 * A page may be partly readable (a core segment or a backing region that starts or ends
 * inside it); the cache keeps a per-byte validity map for such pages. It knows nothing of
 * where the bytes come from: the source supplies a read function and, optionally, a way to
 * skip a hole.
 */
#ifndef GS_TARGET_PAGE_CACHE_H
#define GS_TARGET_PAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define GS_PAGE_SIZE 4096u
/* 32 MiB: on a 50,000-goroutine core the model's reads touch ~27,000 pages; 32 MiB misses
 * 6,000 more of them than 64 MiB (milliseconds), 24 MiB 50,000 more, and the memory counts
 * towards the peak RSS of every command. */
#define GS_PAGE_CACHE_DEFAULT_BYTES ((size_t)32 << 20)
/* A view's (a worker thread's): its passes (waits, span lists) revisit few pages, and a
 * view fills while the caller's cache does (the waits beside the gRPC model): 4 MiB. */
#define GS_PAGE_CACHE_VIEW_BYTES ((size_t)4 << 20)

typedef struct gs_page_source {
	void *ctx;
	/* Copies up to n bytes at addr to dst; returns how many bytes from addr on were
	 * readable (a contiguous prefix, 0..n). */
	size_t (*read)(void *ctx, uint64_t addr, void *dst, size_t n);
	/* After read stopped short at addr: the lowest address > addr where readable bytes
	 * may start again (UINT64_MAX if none). NULL: memory is readable or not in whole
	 * pages, so the rest of the page is a hole. */
	uint64_t (*next)(void *ctx, uint64_t addr);
} gs_page_source;

typedef struct gs_page_cache_stats {
	uint64_t hits, misses, evictions, source_reads;
} gs_page_cache_stats;

typedef struct gs_page_cache gs_page_cache;

/* max_bytes bounds the cached pages (at least one page is kept). NULL when out of
 * memory. */
gs_page_cache *gs_page_cache_new(const gs_page_source *src, size_t max_bytes);
void gs_page_cache_free(gs_page_cache *pc);

/* Copies up to n bytes at addr; returns how many bytes from addr on were readable. */
size_t gs_page_cache_read(gs_page_cache *pc, uint64_t addr, void *dst, size_t n);

/* Forgets every page: the source changed (a backing file was added, a process resumed). */
void gs_page_cache_invalidate(gs_page_cache *pc);
/* Forgets every page and gives their memory back to the system (the cache refills). */
void gs_page_cache_release(gs_page_cache *pc);

void gs_page_cache_get_stats(const gs_page_cache *pc, gs_page_cache_stats *out);

#endif
