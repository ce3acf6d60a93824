#include "capture.h"

#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "heapwalk.h"
#include "model_internal.h"

#define MAX_ARENAS ((uint64_t)1 << 16) /* 4 TiB of heap */
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
	bool nomem; /* a range was dropped: the copy fails (gs_rt_capture) */
} rangev;

static void add(rangev *r, uint64_t a, uint64_t len)
{
	if (!len || r->nomem)
		return;
	if (r->n == r->cap) {
		void *v = gs_reallocarray(r->v, r->cap ? r->cap * 2 : 1024, sizeof *r->v, NULL);
		if (!v) {
			r->nomem = true;
			return;
		}
		r->v = v;
		r->cap = r->cap ? r->cap * 2 : 1024;
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

static void add_chunks(gs_rt *rt, rangev *arenas, uint64_t *chunks, size_t nch)
{
	uint64_t arena = GS_GO_HEAP_ARENA_BYTES(rt);
	qsort(chunks, nch, sizeof *chunks, cmp_u64);
	for (size_t i = 0; i < nch; i++) {
		if (i && chunks[i] == chunks[i - 1])
			continue;
		uint64_t a = chunks[i] * arena;
		if (arenas->n && arenas->v[arenas->n - 1][0] + arenas->v[arenas->n - 1][1] == a)
			arenas->v[arenas->n - 1][1] += arena;
		else
			add(arenas, a, arena);
	}
}

/* The heap's spans: arenas (heapArenaBytes chunks holding any span) into *arenas, unless it
 * is NULL, the spans worth copying into *heap. The span structs are copied here unless the
 * image has them already (structs_copied: they lie outside the arenas, copied with the
 * mappings). False when out of memory. */
static bool list_spans(gs_rt *rt, bool heap, bool structs_copied, rangev *arenas, rangev *spans,
		       gs_capture_stats *st)
{
	const gs_layout *l = &rt->layout;
	uint64_t mheap, hdr[2];
	gs_target *t = rt->target;
	if (!gs_layout_has(l, RT_SPAN_START) || !gs_layout_has(l, RT_SPAN_NPAGES) ||
	    !gs_layout_has(l, RT_SPAN_STATE) || gs_rt_global(rt, "runtime.mheap_", &mheap, NULL) < 0 ||
	    gs_layout_read_words(l, RT_MHEAP_ALLSPANS, t, mheap, 0, 2, hdr) < 0 ||
	    !hdr[1] || hdr[1] > MAX_SPANS)
		return true;
	size_t n = (size_t)hdr[1], ssize = (size_t)l->sizes[RT_SPAN_START];
	uint64_t *ptr = gs_calloc(n, 8, NULL);
	if (!ptr)
		return false;
	if (!ssize || gs_target_read(t, hdr[0], ptr, n * 8, NULL) < 0) {
		free(ptr);
		return true;
	}
	/* The span structs in bulk, then read from the copy. */
	bool sr_nomem = false;
	if (!structs_copied) {
		rangev sr = { 0 };
		for (size_t i = 0; i < n; i++)
			add(&sr, ptr[i], ssize);
		gs_target_capture(t, (const uint64_t(*)[2])sr.v, sr.n, gs_rt_exec(rt));
		free(sr.v);
		sr_nomem = sr.nomem;
	}
	uint64_t arena = GS_GO_HEAP_ARENA_BYTES(rt), page = GS_GO_PAGE_SIZE(rt);
	size_t nch = 0, chcap = arenas ? n * 2 : 0; /* no arena list asked: no chunks */
	uint64_t *chunks = chcap ? gs_calloc(chcap, sizeof *chunks, NULL) : NULL;
	uint8_t *buf = gs_malloc(ssize, NULL);
	bool ok = !sr_nomem && (chunks || !chcap) && buf;
	for (size_t i = 0; ok && i < n; i++) {
		if (!ptr[i] || gs_target_read_bulk(t, ptr[i], buf, ssize, NULL) < 0)
			continue;
		uint64_t start = gs_layout_get(l, RT_SPAN_START, buf, ssize, 0);
		uint64_t np = gs_layout_get(l, RT_SPAN_NPAGES, buf, ssize, 0);
		uint64_t state = gs_layout_get(l, RT_SPAN_STATE, buf, ssize, 0);
		if (!np || np > (1u << 20) || start + np * page < start)
			continue;
		/* every arena the span covers (a large one crosses several) */
		for (uint64_t c = start / arena; arenas && c <= (start + np * page - 1) / arena; c++) {
			if (nch == chcap) {
				uint64_t *more = gs_reallocarray(chunks, chcap * 2, sizeof *chunks, NULL);
				if (!more) {
					ok = false;
					break;
				}
				chunks = more;
				chcap *= 2;
			}
			chunks[nch++] = c;
		}
		if (!heap || state != GS_GO_SPAN_IN_USE(rt))
			continue;
		uint64_t cls = gs_layout_get(l, RT_SPAN_CLASS, buf, ssize, 0);
		if ((cls & GS_GO_SPANCLASS_NOSCAN(rt)) && cls >> 1 == 0 && np * page > LARGE_NOSCAN)
			continue; /* one large object without pointers: a buffer */
		add(spans, start, np * page);
		st->spans++;
	}
	free(buf);
	free(ptr);
	if (ok && arenas)
		add_chunks(rt, arenas, chunks, nch);
	free(chunks);
	return ok;
}

/* The heap arenas as the runtime lists them (mheap_.heapArenas), into *arenas: known
 * without reading a span, so that the memory outside them — the span structs among it — is
 * copied first, once. 0; -1 when the list is missing or implausible; -2 out of memory. */
static int heap_arenas(gs_rt *rt, rangev *arenas)
{
	const gs_layout *l = &rt->layout;
	uint64_t mheap, hdr[2];
	if (!gs_layout_has(l, RT_MHEAP_ARENAS) ||
	    gs_rt_global(rt, "runtime.mheap_", &mheap, NULL) < 0 ||
	    gs_layout_read_words(l, RT_MHEAP_ARENAS, rt->target, mheap, 0, 2, hdr) < 0 ||
	    !hdr[1] || hdr[1] > MAX_ARENAS)
		return -1;
	size_t n = (size_t)hdr[1];
	uint64_t *idx = gs_calloc(n, sizeof *idx, NULL);
	if (!idx)
		return -2;
	if (gs_target_read(rt->target, hdr[0], idx, n * sizeof *idx, NULL) < 0) {
		free(idx);
		return -1;
	}
	uint64_t arena = GS_GO_HEAP_ARENA_BYTES(rt), base_off = GS_GO_ARENA_BASE_OFFSET(rt);
	for (size_t i = 0; i < n; i++) {
		uint64_t base = idx[i] * arena + base_off; /* arenaBase(i) */
		if (idx[i] >= ((uint64_t)1 << 38) || base >= ((uint64_t)1 << 47)) {
			free(idx);
			return -1;
		}
		idx[i] = base / arena;
	}
	add_chunks(rt, arenas, idx, n);
	free(idx);
	return 0;
}

/* The addresses in runtime.allgs (n of them), or NULL (*nomem set when for want of memory). */
static uint64_t *g_pointers(gs_rt *rt, size_t *n, bool *nomem)
{
	uint64_t allgs, hdr[2];
	*n = 0;
	if (gs_rt_global(rt, "runtime.allgs", &allgs, NULL) < 0 ||
	    gs_target_read(rt->target, allgs, hdr, sizeof hdr, NULL) < 0 || !hdr[1] ||
	    hdr[1] > MAX_GS)
		return NULL;
	uint64_t *ptr = gs_calloc((size_t)hdr[1], 8, NULL);
	if (!ptr) {
		*nomem = true;
		return NULL;
	}
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
	uint64_t *ptr = g_pointers(rt, &n, &arenas->nomem), lo = UINT64_MAX, hi = 0;
	uint64_t arena = GS_GO_HEAP_ARENA_BYTES(rt);
	for (size_t i = 0; i < n; i++) {
		if (!ptr[i])
			continue;
		lo = ptr[i] < lo ? ptr[i] : lo;
		hi = ptr[i] > hi ? ptr[i] : hi;
	}
	if (hi >= lo && n)
		add(arenas, lo / arena * arena, (hi / arena - lo / arena + 1) * arena);
	free(ptr);
}

/* Every g, then (with stacks) the live part of each stack, read from the g's copy. False
 * when out of memory. */
static bool copy_goroutines(gs_rt *rt, bool stacks, gs_capture_stats *st)
{
	const int64_t *o = rt->layout.offsets;
	gs_target *t = rt->target;
	size_t gsize = (size_t)rt->layout.sizes[RT_G_GOID], n;
	bool nomem = false;
	uint64_t *ptr = g_pointers(rt, &n, &nomem);
	if (!gsize || !ptr) {
		free(ptr);
		return !nomem;
	}
	/* The g's with the little gaps between neighbours: they are read in runs (gread.c). */
	rangev gr = { 0 }, sr = { 0 };
	uint64_t *sorted = gs_calloc(n, sizeof *sorted, NULL);
	uint8_t *g = gs_malloc(stacks ? gsize : 1, NULL);
	if (!sorted || !g) {
		free(sorted);
		free(g);
		free(ptr);
		return false;
	}
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
	if (!stacks)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ptr[i] || gs_target_read_bulk(t, ptr[i], g, gsize, NULL) < 0)
			continue;
		uint32_t status = gs_rt_model_status(rt, (uint32_t)gs_layout_get(&rt->layout, RT_G_STATUS,
										    g, gsize, 0));
		if (status == GS_G_DEAD || status == GS_G_IDLE || status == GS_G_DEADEXTRA)
			continue;
		const gs_layout *l = &rt->layout;
		uint64_t lo = gs_layout_get(l, RT_G_STACK_LO, g, gsize, 0);
		uint64_t hi = gs_layout_get(l, RT_G_STACK_HI, g, gsize, 0);
		uint64_t sp = gs_layout_get(l, RT_GOBUF_SP, g, gsize, o[RT_G_SCHED]);
		uint64_t ssp = gs_layout_get(l, RT_G_SYSCALLSP, g, gsize, 0);
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
	return !gr.nomem && !sr.nomem;
}

/* The m's (threads as the runtime knows them): heap objects, copied even when the heap is
 * not, since loading the goroutines attaches them to their threads. */
/* False when out of memory. */
static bool copy_ms(gs_rt *rt)
{
	size_t msize = (size_t)rt->layout.sizes[RT_M_ALLLINK];
	uint64_t m;
	rangev mr = { 0 };
	if (!msize || !gs_layout_has(&rt->layout, RT_M_ALLLINK) ||
	    gs_rt_global(rt, "runtime.allm", &m, NULL) < 0 ||
	    gs_target_read_u64(rt->target, m, &m, NULL) < 0)
		return true;
	for (size_t k = 0; m && k < MAX_MS; k++) {
		add(&mr, m, msize);
		if (gs_layout_read(&rt->layout, RT_M_ALLLINK, rt->target, m, 0, &m) < 0)
			break;
	}
	gs_target_capture(rt->target, (const uint64_t(*)[2])mr.v, mr.n, gs_rt_exec(rt));
	free(mr.v);
	return !mr.nomem;
}

void gs_rt_capture_prepare(gs_dwarf *d)
{
	gs_layout l;
	memset(&l, 0, sizeof l);
	gs_layout_resolve(&l, gs_runtime_fields, RT_NFIELDS, d, NULL);
	gs_layout_free(&l);
}

int gs_rt_capture(gs_rt *rt, bool heap, gs_capture_stats *st, gs_err *err)
{
	gs_capture_stats dummy;
	st = st ? st : &dummy;
	memset(st, 0, sizeof *st);
	uint64_t before = gs_target_image_bytes(rt->target);
	rangev arenas = { 0 }, spans = { 0 };
	bool ok = true;
	/* Outside the arenas: the runtime's globals, its off-heap structures (span structs,
	 * persistent chunks, poll descriptors), the threads' own stacks. With the runtime's own
	 * list of arenas, that comes first and the span structs are read from it. */
	int ha = heap ? heap_arenas(rt, &arenas) : -1;
	if (ha == -2) {
		ok = false;
	} else if (ha == 0) {
		gs_target_capture_mappings(rt->target, (const uint64_t(*)[2])arenas.v, arenas.n, false,
					   gs_rt_exec(rt));
		ok = list_spans(rt, heap, true, NULL, &spans, st);
	} else {
		arenas.n = 0;
		if (heap)
			ok = list_spans(rt, heap, false, &arenas, &spans, st);
		else /* without the span list: from the lowest g's arena to the highest's */
			g_arenas(rt, &arenas);
		gs_target_capture_mappings(rt->target, (const uint64_t(*)[2])arenas.v, arenas.n,
					   !heap, heap ? gs_rt_exec(rt) : NULL);
	}
	gs_target_capture(rt->target, (const uint64_t(*)[2])spans.v, spans.n, gs_rt_exec(rt));
	if (!heap)
		ok &= copy_ms(rt);
	ok &= copy_goroutines(rt, heap, st);
	st->bytes = gs_target_image_bytes(rt->target) - before;
	ok &= !arenas.nomem && !spans.nomem;
	free(arenas.v);
	free(spans.v);
	/* A range left out would read as memory the process lacked: no answer instead. */
	return ok ? 0 : gs_errf(err, GS_EINTERNAL, "copying the process: out of memory");
}
