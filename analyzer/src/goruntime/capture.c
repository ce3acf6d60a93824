#include "capture.h"

#include <stdlib.h>
#include <string.h>

#include "../util/strbuf.h"
#include "heapwalk.h"
#include "model_internal.h"

/* The span fields the copy is steered by; the same names the heap scan reads. */
enum { SP_START, SP_NPAGES, SP_STATE, SP_CLASS, SP_ALLSPANS, SP_ARENAS, SP_N };
static const gs_field_spec span_fields[SP_N] = {
	[SP_START] = {"runtime.mspan", "startAddr", NULL, false, NULL, GS_FK_U64},
	[SP_NPAGES] = {"runtime.mspan", "npages", NULL, false, NULL, GS_FK_U64},
	[SP_STATE] = {"runtime.mspan", "state", "s", false, NULL, GS_FK_U8},
	[SP_CLASS] = {"runtime.mspan", "spanclass", NULL, false, NULL, GS_FK_U8},
	[SP_ALLSPANS] = {"runtime.mheap", "allspans", NULL, false, NULL, GS_FK_ANY},
	/* the index of every heap arena (renamed in Go 1.25) */
	[SP_ARENAS] = {"runtime.mheap", "heapArenas|allArenas", NULL, false, NULL, GS_FK_SLICE},
};

#define ARENA_BYTES ((uint64_t)64 << 20) /* heapArenaBytes on linux/amd64 */
#define ARENA_BASE_OFFSET 0xffff800000000000ull /* arenaBaseOffset on amd64 */
#define MAX_ARENAS ((uint64_t)1 << 16)        /* 4 TiB of heap */
/* A pointer-free object larger than this, alone in its span, is a message or frame buffer
 * whose bytes no answer shows: not copied. Smaller ones hold strings and tables. */
#define LARGE_NOSCAN ((uint64_t)64 << 10)
#define MAX_SPANS ((uint64_t)1 << 24)
#define MAX_GS ((uint64_t)1 << 24)
#define MAX_STACK ((uint64_t)1 << 30)
#define BELOW_SP 256u
#define MAX_MS 100000
#define G_GAP ((uint64_t)4 << 10)
/* Stacks closer than this are copied as one range (with the unused bottom of the next):
 * ten thousand small ranges cost the kernel more than the few extra bytes. */
#define STACK_GAP ((uint64_t)4 << 10)
#define THREAD_STACK ((uint64_t)32 << 10)

typedef struct rangev {
	uint64_t (*v)[2];
	size_t n, cap;
} rangev;

static void add(rangev *r, uint64_t a, uint64_t len)
{
	if (!len)
		return;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->v = gs_xrealloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n][0] = a;
	r->v[r->n][1] = len;
	r->n++;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t u64_at(const uint8_t *p, int64_t off)
{
	uint64_t v;
	memcpy(&v, p + off, 8);
	return v;
}

static int cmp_range0(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Ranges closer than gap are joined: one copy of a few more bytes costs less than another
 * range for the kernel to look up and pin. */
static void join_near(rangev *r, uint64_t gap)
{
	if (!r->n || !gap)
		return;
	qsort(r->v, r->n, sizeof *r->v, cmp_range0);
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++) {
		uint64_t *last = k ? r->v[k - 1] : NULL;
		if (last && r->v[i][0] <= last[0] + last[1] + gap) {
			uint64_t end = r->v[i][0] + r->v[i][1];
			if (end > last[0] + last[1])
				last[1] = end - last[0];
		} else {
			r->v[k][0] = r->v[i][0];
			r->v[k][1] = r->v[i][1];
			k++;
		}
	}
	r->n = k;
}

static void add_chunks(rangev *arenas, uint64_t *chunks, size_t nch)
{
	qsort(chunks, nch, sizeof *chunks, cmp_u64);
	for (size_t i = 0; i < nch; i++) {
		if (i && chunks[i] == chunks[i - 1])
			continue;
		uint64_t a = chunks[i] * ARENA_BYTES;
		if (arenas->n && arenas->v[arenas->n - 1][0] + arenas->v[arenas->n - 1][1] == a)
			arenas->v[arenas->n - 1][1] += ARENA_BYTES;
		else
			add(arenas, a, ARENA_BYTES);
	}
}

/* The heap's spans: arenas (64 MiB chunks holding any span) into *arenas, unless it is NULL,
 * the spans worth copying into *heap. The span structs are copied here unless the image
 * has them already (structs_copied: they lie outside the arenas, copied with the mappings). */
static void list_spans(gs_rt *rt, const gs_layout *l, bool heap, bool structs_copied,
		       rangev *arenas, rangev *spans, gs_capture_stats *st)
{
	const int64_t *o = l->offsets;
	uint64_t mheap, hdr[2];
	gs_target *t = rt->target;
	if (o[SP_ALLSPANS] < 0 || o[SP_START] < 0 || o[SP_NPAGES] < 0 || o[SP_STATE] < 0 ||
	    gs_rt_global(rt, "runtime.mheap_", &mheap, NULL) < 0 ||
	    gs_target_read(t, mheap + (uint64_t)o[SP_ALLSPANS], hdr, sizeof hdr, NULL) < 0 ||
	    !hdr[1] || hdr[1] > MAX_SPANS)
		return;
	size_t n = (size_t)hdr[1], ssize = (size_t)l->sizes[SP_START];
	uint64_t *ptr = gs_xcalloc(n, 8);
	if (!ssize || gs_target_read(t, hdr[0], ptr, n * 8, NULL) < 0) {
		free(ptr);
		return;
	}
	/* The span structs in bulk, then read from the copy. */
	if (!structs_copied) {
		rangev sr = { 0 };
		for (size_t i = 0; i < n; i++)
			add(&sr, ptr[i], ssize);
		gs_target_capture(t, (const uint64_t(*)[2])sr.v, sr.n, gs_rt_exec(rt));
		free(sr.v);
	}
	size_t nch = 0, chcap = n * 2;
	uint64_t *chunks = gs_xmalloc(chcap * sizeof *chunks);
	uint8_t *buf = gs_xmalloc(ssize);
	for (size_t i = 0; i < n; i++) {
		if (!ptr[i] || gs_target_read_bulk(t, ptr[i], buf, ssize, NULL) < 0)
			continue;
		uint64_t start = u64_at(buf, o[SP_START]), np = u64_at(buf, o[SP_NPAGES]);
		uint8_t state = buf[o[SP_STATE]];
		if (!np || np > (1u << 20) || start + np * GS_GO_PAGE_SIZE(rt) < start)
			continue;
		/* every arena the span covers (a large one crosses several) */
		for (uint64_t c = start / ARENA_BYTES;
		     arenas && c <= (start + np * GS_GO_PAGE_SIZE(rt) - 1) / ARENA_BYTES; c++) {
			if (nch == chcap) {
				chcap *= 2;
				chunks = gs_xrealloc(chunks, chcap * sizeof *chunks);
			}
			chunks[nch++] = c;
		}
		if (!heap || state != GS_GO_SPAN_IN_USE(rt))
			continue;
		uint8_t cls = o[SP_CLASS] >= 0 ? buf[o[SP_CLASS]] : 0;
		if ((cls & GS_GO_SPANCLASS_NOSCAN) && cls >> 1 == 0 && np * GS_GO_PAGE_SIZE(rt) > LARGE_NOSCAN)
			continue; /* one large object without pointers: a buffer */
		add(spans, start, np * GS_GO_PAGE_SIZE(rt));
		st->spans++;
	}
	free(buf);
	free(ptr);
	if (arenas)
		add_chunks(arenas, chunks, nch);
	free(chunks);
}

/* The heap arenas as the runtime lists them (mheap_.heapArenas), into *arenas: known
 * without reading a span, so that the memory outside them — the span structs among it — is
 * copied first, once. 0, or -1 when the list is missing or implausible. */
static int heap_arenas(gs_rt *rt, const gs_layout *l, rangev *arenas)
{
	uint64_t mheap, hdr[2];
	if (l->offsets[SP_ARENAS] < 0 || gs_rt_global(rt, "runtime.mheap_", &mheap, NULL) < 0 ||
	    gs_target_read(rt->target, mheap + (uint64_t)l->offsets[SP_ARENAS], hdr, sizeof hdr,
			   NULL) < 0 || !hdr[1] || hdr[1] > MAX_ARENAS)
		return -1;
	size_t n = (size_t)hdr[1];
	uint64_t *idx = malloc(n * sizeof *idx);
	if (!idx || gs_target_read(rt->target, hdr[0], idx, n * sizeof *idx, NULL) < 0) {
		free(idx);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t base = idx[i] * ARENA_BYTES + ARENA_BASE_OFFSET; /* arenaBase(i) */
		if (idx[i] >= ((uint64_t)1 << 38) || base >= ((uint64_t)1 << 47)) {
			free(idx);
			return -1;
		}
		idx[i] = base / ARENA_BYTES;
	}
	add_chunks(arenas, idx, n);
	free(idx);
	return 0;
}

/* The addresses in runtime.allgs (n of them), or NULL. */
static uint64_t *g_pointers(gs_rt *rt, size_t *n)
{
	uint64_t allgs, hdr[2];
	*n = 0;
	if (gs_rt_global(rt, "runtime.allgs", &allgs, NULL) < 0 ||
	    gs_target_read(rt->target, allgs, hdr, sizeof hdr, NULL) < 0 || !hdr[1] ||
	    hdr[1] > MAX_GS)
		return NULL;
	uint64_t *ptr = gs_xcalloc((size_t)hdr[1], 8);
	if (gs_target_read(rt->target, hdr[0], ptr, (size_t)hdr[1] * 8, NULL) < 0) {
		free(ptr);
		return NULL;
	}
	*n = (size_t)hdr[1];
	return ptr;
}

/* The arenas between the lowest and the highest g, whose mappings are left out whole (the
 * heap is one stretch of addresses): enough for a command that reads no heap object but
 * g's and m's. */
static void g_arenas(gs_rt *rt, rangev *arenas)
{
	size_t n;
	uint64_t *ptr = g_pointers(rt, &n), lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ptr[i])
			continue;
		lo = ptr[i] < lo ? ptr[i] : lo;
		hi = ptr[i] > hi ? ptr[i] : hi;
	}
	if (hi >= lo && n)
		add(arenas, lo / ARENA_BYTES * ARENA_BYTES,
		    (hi / ARENA_BYTES - lo / ARENA_BYTES + 1) * ARENA_BYTES);
	free(ptr);
}

/* Every g, then (with stacks) the live part of each stack, read from the g's copy. */
static void copy_goroutines(gs_rt *rt, bool stacks, gs_capture_stats *st)
{
	const int64_t *o = rt->layout.offsets;
	gs_target *t = rt->target;
	size_t gsize = (size_t)rt->layout.sizes[RT_G_GOID], n;
	uint64_t *ptr = g_pointers(rt, &n);
	if (!gsize || !ptr) {
		free(ptr);
		return;
	}
	/* The g's with the little gaps between neighbours: they are read in runs (gread.c). */
	rangev gr = { 0 }, sr = { 0 };
	uint64_t *sorted = gs_xmalloc(n * sizeof *sorted);
	memcpy(sorted, ptr, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, cmp_u64);
	for (size_t i = 0; i < n; i++) {
		if (!sorted[i])
			continue;
		uint64_t *last = gr.n ? gr.v[gr.n - 1] : NULL;
		if (last && sorted[i] >= last[0] && sorted[i] - (last[0] + last[1]) <= G_GAP)
			last[1] = sorted[i] + gsize - last[0];
		else
			add(&gr, sorted[i], gsize);
		st->gs++;
	}
	free(sorted);
	if (!stacks) /* else they are in the heap spans, copied already */
		gs_target_capture(t, (const uint64_t(*)[2])gr.v, gr.n, gs_rt_exec(rt));
	uint8_t *g = gs_xmalloc(stacks ? gsize : 1);
	if (!stacks)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ptr[i] || gs_target_read_bulk(t, ptr[i], g, gsize, NULL) < 0)
			continue;
		uint32_t status = gs_rt_model_status(rt, (uint32_t)gs_layout_get(&rt->layout, RT_G_STATUS,
										    g, gsize, 0));
		if (status == GS_G_DEAD || status == GS_G_IDLE || status == GS_G_DEADEXTRA)
			continue;
		uint64_t lo = u64_at(g, o[RT_G_STACK_LO]), hi = u64_at(g, o[RT_G_STACK_HI]);
		uint64_t sp = u64_at(g, o[RT_G_SCHED] + o[RT_GOBUF_SP]);
		uint64_t ssp = o[RT_G_SYSCALLSP] >= 0 ? u64_at(g, o[RT_G_SYSCALLSP]) : 0;
		if (lo >= hi || hi - lo > MAX_STACK)
			continue;
		if (ssp >= lo && ssp < hi && (ssp < sp || sp < lo || sp >= hi))
			sp = ssp;
		/* A running goroutine's stack pointer is in its thread's registers: all of it. */
		if (sp < lo || sp >= hi || status == GS_G_RUNNING)
			sp = lo;
		/* A little below the stack pointer too: the unwinder looks at the frame pointer
		 * saved just under it. */
		sp = sp - lo > BELOW_SP ? sp - BELOW_SP : lo;
		add(&sr, sp, hi - sp);
	}
	/* Where each thread stands (a system stack: g0's, a signal stack) and what it calls. */
	for (size_t i = 0; stacks && i < gs_target_nthreads(t); i++) {
		uint64_t rsp = gs_target_thread(t, i)->regs.rsp;
		if (rsp > BELOW_SP)
			add(&sr, rsp - BELOW_SP, THREAD_STACK);
	}
	st->stacks = sr.n;
	join_near(&sr, STACK_GAP);
	gs_target_capture(t, (const uint64_t(*)[2])sr.v, sr.n, gs_rt_exec(rt));
	free(g);
	free(gr.v);
	free(sr.v);
	free(ptr);
}

/* The m's (threads as the runtime knows them): heap objects, copied even when the heap is
 * not, since loading the goroutines attaches them to their threads. */
static void copy_ms(gs_rt *rt)
{
	const int64_t *o = rt->layout.offsets;
	size_t msize = (size_t)rt->layout.sizes[RT_M_ALLLINK];
	uint64_t m;
	rangev mr = { 0 };
	if (!msize || o[RT_M_ALLLINK] < 0 || gs_rt_global(rt, "runtime.allm", &m, NULL) < 0 ||
	    gs_target_read_u64(rt->target, m, &m, NULL) < 0)
		return;
	for (size_t k = 0; m && k < MAX_MS; k++) {
		add(&mr, m, msize);
		if (gs_target_read_u64(rt->target, m + (uint64_t)o[RT_M_ALLLINK], &m, NULL) < 0)
			break;
	}
	gs_target_capture(rt->target, (const uint64_t(*)[2])mr.v, mr.n, gs_rt_exec(rt));
	free(mr.v);
}

void gs_rt_capture_prepare(gs_dwarf *d)
{
	gs_layout l;
	memset(&l, 0, sizeof l);
	gs_layout_resolve(&l, gs_runtime_fields, RT_NFIELDS, d, NULL);
	gs_layout_free(&l);
	memset(&l, 0, sizeof l);
	gs_layout_resolve(&l, span_fields, SP_N, d, NULL);
	gs_layout_free(&l);
}

void gs_rt_capture(gs_rt *rt, bool heap, gs_capture_stats *st)
{
	gs_capture_stats dummy;
	st = st ? st : &dummy;
	memset(st, 0, sizeof *st);
	uint64_t before = gs_target_image_bytes(rt->target);
	gs_layout l;
	memset(&l, 0, sizeof l);
	gs_layout_resolve(&l, span_fields, SP_N, rt->dwarf, NULL);
	rangev arenas = { 0 }, spans = { 0 };
	/* Outside the arenas: the runtime's globals, its off-heap structures (span structs,
	 * persistent chunks, poll descriptors), the threads' own stacks. With the runtime's own
	 * list of arenas, that comes first and the span structs are read from it. */
	if (heap && heap_arenas(rt, &l, &arenas) == 0) {
		gs_target_capture_mappings(rt->target, (const uint64_t(*)[2])arenas.v, arenas.n, false,
					   gs_rt_exec(rt));
		list_spans(rt, &l, heap, true, NULL, &spans, st);
	} else {
		arenas.n = 0;
		if (heap)
			list_spans(rt, &l, heap, false, &arenas, &spans, st);
		else /* without the span list: from the lowest g's arena to the highest's */
			g_arenas(rt, &arenas);
		gs_target_capture_mappings(rt->target, (const uint64_t(*)[2])arenas.v, arenas.n,
					   !heap, heap ? gs_rt_exec(rt) : NULL);
	}
	gs_target_capture(rt->target, (const uint64_t(*)[2])spans.v, spans.n, gs_rt_exec(rt));
	if (!heap)
		copy_ms(rt);
	copy_goroutines(rt, heap, st);
	st->bytes = gs_target_image_bytes(rt->target) - before;
	free(arenas.v);
	free(spans.v);
	gs_layout_free(&l);
}
