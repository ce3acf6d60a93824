/* The heap walk (see heapwalk.h): spans listed, merged into runs, runs visited in batches
 * by the worker and, from the finish on, by the caller too. */
#include "heapwalk.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/batch.h"
#include "../util/executor.h"
#include "../util/radix.h"
#include "../util/strbuf.h"
#include "layout.h"

#define MAX_SPANS (1u << 24)
#define MAX_SPAN_PAGES (1u << 20)
#define RUN_BATCH 4

typedef struct run {
	uint64_t start, len;
} run;

typedef struct part {
	uint8_t *buf; /* GS_HEAP_PIECE + one word */
	gs_heap_walk_stats st;
} part;

struct gs_heap_walk {
	gs_rt *rt;
	bool pointers_only;
	gs_heap_visit_fn fn;
	void *ctx;
	uint64_t mheap;
	gs_target *view; /* the worker's, for listing the spans; closed once listed */
	run *runs;       /* written by whoever lists them, before `listed` */
	size_t nruns, nspans;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool listed;
	atomic_size_t next;
	part part[GS_HEAP_PARTS];
	gs_job worker; /* joined by gs_heap_walk_finish */
	bool threaded;
	bool nomem; /* written by whoever lists the spans, before `listed` */
};

/* Copies one run in pieces and hands each to the visitor. */
static void visit_run(gs_heap_walk *w, int pi, uint64_t base, uint64_t len)
{
	gs_target *t = gs_rt_target(w->rt);
	part *p = &w->part[pi];
	for (uint64_t off = 0; off < len; off += GS_HEAP_PIECE) {
		uint64_t n = len - off < GS_HEAP_PIECE ? len - off : GS_HEAP_PIECE;
		uint64_t want = off + n + 8 <= len ? n + 8 : n;
		/* Copied, not mapped: the walked heap must not stay in the process's memory. */
		if (gs_target_read_bulk(t, base + off, p->buf, want, NULL) < 0) {
			p->st.unreadable++;
			continue;
		}
		p->st.bytes += n;
		w->fn(w->ctx, pi, base + off, (const uint64_t *)p->buf, (size_t)(n / 8),
		      (size_t)(want / 8));
	}
}

static void visit_batches(gs_heap_walk *w, int pi)
{
	size_t b, e;
	while (gs_batch_claim(&w->next, w->nruns, RUN_BATCH, &b, &e))
		for (size_t i = b; i < e; i++) {
			w->part[pi].st.runs++;
			visit_run(w, pi, w->runs[i].start, w->runs[i].len);
		}
}

static int cmp_run(const void *a, const void *b)
{
	uint64_t x = ((const run *)a)->start, y = ((const run *)b)->start;
	return x < y ? -1 : x > y;
}

/* Adjacent spans become one run of at most GS_HEAP_RUN_MAX bytes. */
static void merge_adjacent(gs_heap_walk *w)
{
	if (w->nruns) {
		run *tmp = malloc(w->nruns * sizeof *tmp);
		if (tmp)
			gs_radix_sort(w->runs, w->nruns, sizeof *w->runs, offsetof(run, start), tmp);
		else /* out of memory: sorted in place (starts are distinct: the same order) */
			qsort(w->runs, w->nruns, sizeof *w->runs, cmp_run);
		free(tmp);
	}
	size_t k = 0;
	for (size_t i = 0; i < w->nruns; i++) {
		run *last = k ? &w->runs[k - 1] : NULL;
		if (last && last->start + last->len == w->runs[i].start &&
		    last->len + w->runs[i].len <= GS_HEAP_RUN_MAX)
			last->len += w->runs[i].len;
		else
			w->runs[k++] = w->runs[i];
	}
	w->nruns = k;
}

/* Whether span s (a *mspan) is visited, and its memory. */
static bool span_wanted(gs_heap_walk *w, gs_target *t, const gs_layout *l, uint64_t s,
			uint64_t *start, uint64_t *len)
{
	uint64_t npages, state, sclass = 0;
	if (!s || gs_layout_read(l, RT_SPAN_START, t, s, 0, start) < 0 ||
	    gs_layout_read(l, RT_SPAN_NPAGES, t, s, 0, &npages) < 0 ||
	    gs_layout_read(l, RT_SPAN_STATE, t, s, 0, &state) < 0)
		return false;
	if (state != GS_GO_SPAN_IN_USE(w->rt) || npages == 0 || npages > MAX_SPAN_PAGES)
		return false;
	if (w->pointers_only && gs_layout_has(l, RT_SPAN_CLASS) &&
	    (gs_layout_read(l, RT_SPAN_CLASS, t, s, 0, &sclass) < 0 ||
	     (sclass & GS_GO_SPANCLASS_NOSCAN(w->rt))))
		return false;
	*len = npages * GS_GO_PAGE_SIZE(w->rt);
	return true;
}

/* The wanted spans of runtime.mheap_.allspans, read through t, as runs. */
static void list_spans(gs_heap_walk *w, gs_target *t)
{
	const gs_layout *l = gs_rt_layout(w->rt);
	uint64_t hdr[2]; /* the slice's array and length */
	if (gs_layout_read_words(l, RT_MHEAP_ALLSPANS, t, w->mheap, 0, 2, hdr) < 0 ||
	    hdr[1] > MAX_SPANS)
		return;
	uint64_t n = hdr[1];
	uint64_t *spans = calloc(n ? n : 1, 8);
	w->runs = calloc(n ? n : 1, sizeof *w->runs);
	if (!spans || !w->runs) { /* nothing visited; the finish says why */
		free(spans);
		w->nomem = true;
		return;
	}
	if (n && gs_target_read(t, hdr[0], spans, n * 8, NULL) == 0) {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t start, len;
			if (span_wanted(w, t, l, spans[i], &start, &len))
				w->runs[w->nruns++] = (run){start, len};
		}
	}
	free(spans);
	w->nspans = w->nruns;
	merge_adjacent(w);
}

static void set_listed(gs_heap_walk *w)
{
	pthread_mutex_lock(&w->lock);
	w->listed = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* The worker lists the spans through its view (thousands of span structs want a page
 * cache) while the caller does other work, then visits runs. */
static void walk_worker(void *arg)
{
	gs_heap_walk *w = arg;
	list_spans(w, w->view);
	/* Visiting copies with bulk reads: the view's cache goes before the heap is copied. */
	gs_target_close(w->view);
	w->view = NULL;
	set_listed(w);
	visit_batches(w, 1);
}

gs_heap_walk *gs_heap_walk_start(gs_rt *rt, bool pointers_only, gs_heap_visit_fn fn, void *ctx,
				 gs_err *err)
{
	const int64_t *o = gs_rt_layout(rt)->offsets;
	uint64_t mheap;
	if (o[RT_MHEAP_ALLSPANS] < 0 || o[RT_SPAN_START] < 0 || o[RT_SPAN_NPAGES] < 0 ||
	    o[RT_SPAN_STATE] < 0 || gs_rt_global(rt, "runtime.mheap_", &mheap, NULL) < 0 ||
	    !mheap)
		return NULL;
	gs_heap_walk *w = gs_calloc(1, sizeof *w, err);
	if (!w)
		return NULL;
	for (int k = 0; k < GS_HEAP_PARTS; k++)
		if (!(w->part[k].buf = gs_malloc(GS_HEAP_PIECE + 8, err))) {
			free(w->part[0].buf);
			free(w);
			return NULL;
		}
	w->rt = rt;
	w->pointers_only = pointers_only;
	w->fn = fn;
	w->ctx = ctx;
	w->mheap = mheap;
	atomic_init(&w->next, 0);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->view = gs_target_view(gs_rt_target(rt));
	w->threaded = w->view && gs_exec_submit(gs_rt_exec(rt), &w->worker, walk_worker, w);
	if (!w->threaded) {
		list_spans(w, gs_rt_target(rt));
		w->listed = true;
	}
	return w;
}

void gs_heap_walk_finish(gs_heap_walk *w, gs_heap_walk_stats *stats)
{
	if (stats)
		memset(stats, 0, sizeof *stats);
	if (!w)
		return;
	if (w->threaded) {
		pthread_mutex_lock(&w->lock);
		while (!w->listed)
			pthread_cond_wait(&w->cond, &w->lock);
		pthread_mutex_unlock(&w->lock);
	}
	visit_batches(w, 0);
	gs_exec_join(&w->worker);
	gs_target_close(w->view); /* not submitted: the worker closes its own */
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	for (int k = 0; k < GS_HEAP_PARTS; k++) {
		if (stats) {
			stats->runs += w->part[k].st.runs;
			stats->bytes += w->part[k].st.bytes;
			stats->unreadable += w->part[k].st.unreadable;
		}
		free(w->part[k].buf);
	}
	if (stats) {
		stats->spans = w->nspans;
		stats->nomem = w->nomem;
	}
	free(w->runs);
	free(w);
}
