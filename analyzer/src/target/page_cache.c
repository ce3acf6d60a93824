#include "page_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>


#define PAGE_MASK ((uint64_t)GS_PAGE_SIZE - 1)
#define NIL UINT32_MAX
#define MAX_PAGES ((size_t)1 << 24)

/* PAGE_DIRECT: partly readable, but its bits could not be allocated: read from the source. */
enum { PAGE_NONE, PAGE_FULL, PAGE_PARTIAL, PAGE_DIRECT };

typedef struct pc_entry {
	uint64_t page;
	uint8_t *valid; /* bit per byte, only for PAGE_PARTIAL */
	uint32_t hnext; /* hash chain */
	uint32_t prev, next; /* LRU list, head = most recently used */
	uint8_t state;
} pc_entry;

struct gs_page_cache {
	gs_page_source src;
	pc_entry *entries;
	uint8_t *data; /* cap pages, entry i's at data + i * GS_PAGE_SIZE */
	size_t data_bytes;
	uint32_t cap, used;
	uint32_t last; /* entry of the previous read: most reads repeat a page */
	uint32_t populated; /* entries whose data pages are known present */
	uint32_t *buckets;
	uint32_t bucket_bits;
	uint32_t head, tail;
	gs_page_cache_stats stats;
};

static uint32_t bucket_of(const gs_page_cache *pc, uint64_t page)
{
	/* Fibonacci hashing: page numbers are dense and would collide under a plain mask. */
	return (uint32_t)(((page >> 12) * 0x9E3779B97F4A7C15ull) >> (64 - pc->bucket_bits));
}

gs_page_cache *gs_page_cache_new(const gs_page_source *src, size_t max_bytes)
{
	gs_page_cache *pc = calloc(1, sizeof *pc);
	if (!pc)
		return NULL;
	size_t cap = max_bytes / GS_PAGE_SIZE;
	if (cap < 1)
		cap = 1;
	if (cap > MAX_PAGES)
		cap = MAX_PAGES;
	pc->src = *src;
	pc->cap = (uint32_t)cap;
	pc->entries = calloc(cap, sizeof *pc->entries);
	/* One block, made present in steps as entries come into use (populate_upto): faulting
	 * fresh pages in one by one costs more than the reads the cache saves, and a small
	 * snapshot should not pay for the whole cache. */
	pc->data_bytes = cap * GS_PAGE_SIZE;
	void *d = mmap(NULL, pc->data_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pc->data = d == MAP_FAILED ? malloc(pc->data_bytes) : d;
#ifdef MADV_HUGEPAGE
	/* 2 MiB pages where the system has them: one fault (and one TLB entry) for 512 cache
	 * pages instead of one each. */
	if (d != MAP_FAILED)
		madvise(d, pc->data_bytes, MADV_HUGEPAGE);
#endif
	if (d == MAP_FAILED)
		pc->data_bytes = 0; /* malloc'd: freed, not unmapped */
	pc->bucket_bits = 1;
	while (((size_t)1 << pc->bucket_bits) < cap * 2)
		pc->bucket_bits++;
	pc->buckets = malloc(sizeof *pc->buckets << pc->bucket_bits);
	if (!pc->entries || !pc->data || !pc->buckets) {
		if (!pc->entries)
			pc->cap = 0;
		gs_page_cache_free(pc);
		return NULL;
	}
	gs_page_cache_invalidate(pc);
	return pc;
}

void gs_page_cache_free(gs_page_cache *pc)
{
	if (!pc)
		return;
	for (uint32_t i = 0; i < pc->cap; i++)
		free(pc->entries[i].valid);
	if (pc->data_bytes)
		munmap(pc->data, pc->data_bytes);
	else
		free(pc->data);
	free(pc->entries);
	free(pc->buckets);
	free(pc);
}

void gs_page_cache_release(gs_page_cache *pc)
{
	gs_page_cache_invalidate(pc);
	if (pc->data_bytes && pc->populated)
		madvise(pc->data, (size_t)pc->populated * GS_PAGE_SIZE, MADV_DONTNEED);
	pc->populated = 0;
}

void gs_page_cache_invalidate(gs_page_cache *pc)
{
	for (uint32_t i = 0; i < pc->used; i++) {
		free(pc->entries[i].valid);
		pc->entries[i].valid = NULL;
	}
	pc->used = 0;
	pc->last = NIL;
	pc->head = pc->tail = NIL;
	memset(pc->buckets, 0xff, sizeof *pc->buckets << pc->bucket_bits);
}

void gs_page_cache_get_stats(const gs_page_cache *pc, gs_page_cache_stats *out)
{
	*out = pc->stats;
}

static void lru_unlink(gs_page_cache *pc, uint32_t i)
{
	pc_entry *e = &pc->entries[i];
	if (e->prev != NIL)
		pc->entries[e->prev].next = e->next;
	else
		pc->head = e->next;
	if (e->next != NIL)
		pc->entries[e->next].prev = e->prev;
	else
		pc->tail = e->prev;
}

static void lru_push_front(gs_page_cache *pc, uint32_t i)
{
	pc_entry *e = &pc->entries[i];
	e->prev = NIL;
	e->next = pc->head;
	if (pc->head != NIL)
		pc->entries[pc->head].prev = i;
	pc->head = i;
	if (pc->tail == NIL)
		pc->tail = i;
}

static void hash_unlink(gs_page_cache *pc, uint32_t i)
{
	uint32_t *link = &pc->buckets[bucket_of(pc, pc->entries[i].page)];
	while (*link != NIL && *link != i)
		link = &pc->entries[*link].hnext;
	if (*link == i)
		*link = pc->entries[i].hnext;
}

static uint32_t lookup(gs_page_cache *pc, uint64_t page)
{
	for (uint32_t i = pc->buckets[bucket_of(pc, page)]; i != NIL; i = pc->entries[i].hnext)
		if (pc->entries[i].page == page)
			return i;
	return NIL;
}

static void set_bits(uint8_t *bits, size_t from, size_t to)
{
	for (size_t b = from; b < to; b++)
		bits[b >> 3] |= (uint8_t)(1u << (b & 7));
}

static int bit(const uint8_t *bits, size_t b)
{
	return bits[b >> 3] >> (b & 7) & 1;
}

/* Reads one page from the source, hopping over holes when the source can say where the
 * next readable bytes are. */
static uint8_t *data_of(const gs_page_cache *pc, const pc_entry *e)
{
	return pc->data + (size_t)(e - pc->entries) * GS_PAGE_SIZE;
}

static void fill(gs_page_cache *pc, pc_entry *e)
{
	uint8_t bits[GS_PAGE_SIZE / 8];
	uint8_t *data = data_of(pc, e);
	size_t p = 0, total = 0;
	bool first = true;
	while (p < GS_PAGE_SIZE) {
		size_t k = pc->src.read(pc->src.ctx, e->page + p, data + p, GS_PAGE_SIZE - p);
		pc->stats.source_reads++;
		if (k > GS_PAGE_SIZE - p)
			k = GS_PAGE_SIZE - p;
		if (first && k == GS_PAGE_SIZE) {
			e->state = PAGE_FULL; /* the common case, without the bookkeeping below */
			return;
		}
		if (first)
			memset(bits, 0, sizeof bits);
		first = false;
		set_bits(bits, p, p + k);
		total += k;
		p += k;
		if (p >= GS_PAGE_SIZE || !pc->src.next)
			break;
		uint64_t q = pc->src.next(pc->src.ctx, e->page + p);
		if (q <= e->page + p || q - e->page >= GS_PAGE_SIZE)
			break;
		p = (size_t)(q - e->page);
	}
	if (total == GS_PAGE_SIZE) {
		e->state = PAGE_FULL;
	} else if (total == 0) {
		e->state = PAGE_NONE;
	} else {
		e->valid = malloc(sizeof bits);
		e->state = e->valid ? PAGE_PARTIAL : PAGE_DIRECT;
		if (e->valid)
			memcpy(e->valid, bits, sizeof bits);
	}
}

#define POPULATE_STEP 1024u /* entries: 4 MiB */

static void populate_upto(gs_page_cache *pc, uint32_t i)
{
	uint32_t to = i + POPULATE_STEP < pc->cap ? i + POPULATE_STEP : pc->cap;
#ifdef MADV_POPULATE_WRITE
	if (pc->data_bytes)
		madvise(pc->data + (size_t)pc->populated * GS_PAGE_SIZE,
			(size_t)(to - pc->populated) * GS_PAGE_SIZE, MADV_POPULATE_WRITE);
#endif
	pc->populated = to;
}

static pc_entry *get_page(gs_page_cache *pc, uint64_t page)
{
	/* The previous page is already at the front of the LRU list. */
	if (pc->last != NIL && pc->entries[pc->last].page == page) {
		pc->stats.hits++;
		return &pc->entries[pc->last];
	}
	uint32_t i = lookup(pc, page);
	if (i != NIL) {
		pc->stats.hits++;
		lru_unlink(pc, i);
		lru_push_front(pc, i);
		pc->last = i;
		return &pc->entries[i];
	}
	pc->stats.misses++;
	if (pc->used < pc->cap) {
		i = pc->used++;
		if (i >= pc->populated)
			populate_upto(pc, i);
	} else {
		i = pc->tail;
		pc->stats.evictions++;
		lru_unlink(pc, i);
		hash_unlink(pc, i);
		free(pc->entries[i].valid);
		pc->entries[i].valid = NULL;
	}
	pc_entry *e = &pc->entries[i];
	e->page = page;
	fill(pc, e);
	uint32_t b = bucket_of(pc, page);
	e->hnext = pc->buckets[b];
	pc->buckets[b] = i;
	lru_push_front(pc, i);
	pc->last = i;
	return e;
}

size_t gs_page_cache_read(gs_page_cache *pc, uint64_t addr, void *dst, size_t n)
{
	uint8_t *out = dst;
	size_t done = 0;
	/* Never wrap past the top of the address space. */
	if (addr && n > (uint64_t)0 - addr)
		n = (size_t)((uint64_t)0 - addr);
	while (done < n) {
		uint64_t a = addr + done;
		uint64_t page = a & ~PAGE_MASK;
		size_t off = (size_t)(a - page);
		size_t chunk = GS_PAGE_SIZE - off;
		if (chunk > n - done)
			chunk = n - done;
		pc_entry *e = get_page(pc, page);
		if (e->state == PAGE_NONE)
			break;
		size_t ok = chunk;
		if (e->state == PAGE_DIRECT) {
			ok = pc->src.read(pc->src.ctx, a, out + done, chunk);
			done += ok < chunk ? ok : chunk;
			if (ok < chunk)
				break;
			continue;
		}
		if (e->state == PAGE_PARTIAL)
			for (ok = 0; ok < chunk && bit(e->valid, off + ok); ok++)
				;
		memcpy(out + done, data_of(pc, e) + off, ok);
		done += ok;
		if (ok < chunk)
			break;
	}
	return done;
}
