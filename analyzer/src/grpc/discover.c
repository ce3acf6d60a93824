#include "discover.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../goruntime/constants.h"
#include "../util/batch.h"
#include "../util/executor.h"
#include "../util/radix.h"
#include "../util/strbuf.h"
#include "grpc_fields.h"

#define MAX_ITABS 16
#define MAX_ITAB_TABLE (1u << 22)
#define MAX_SPANS (1u << 24)
#define CHUNK (1u << 20)

typedef struct itab_set {
	uint64_t itab[MAX_ITABS];
	int server[MAX_ITABS];
	size_t n;
	uint64_t lo, span; /* [lo, lo + span] holds every itab of the set */
} itab_set;

/* The itabs of runtime.itabTable whose dynamic type is one of the two transport types. */
static void collect_itabs(gs_rt *rt, gs_types *ty, uint64_t tclient, uint64_t tserver,
			  itab_set *set)
{
	gs_target *t = gs_rt_target(rt);
	gs_dwarf *d = gs_rt_dwarf(rt);
	uint64_t tab;
	if (gs_rt_global(rt, "runtime.itabTable", &tab, NULL) < 0 ||
	    gs_target_read_u64(t, tab, &tab, NULL) < 0 || !tab)
		return;
	const gs_dtype *tt = gs_dwarf_type(d, "runtime.itabTableType", NULL);
	const gs_dmember *msize = tt ? gs_dwarf_member(tt, "size") : NULL;
	const gs_dmember *ment = tt ? gs_dwarf_member(tt, "entries") : NULL;
	if (!msize || !ment)
		return;
	uint64_t size;
	if (gs_target_read_u64(t, tab + msize->offset, &size, NULL) < 0 || size > MAX_ITAB_TABLE)
		return;
	uint64_t *ents = gs_xcalloc(size ? size : 1, 8);
	if (size && gs_target_read(t, tab + ment->offset, ents, size * 8, NULL) == 0) {
		for (uint64_t i = 0; i < size && set->n < MAX_ITABS; i++) {
			uint64_t typ;
			if (!ents[i] || gs_itab_type(ty, ents[i], &typ, NULL) < 0)
				continue;
			if (typ == tclient || typ == tserver) {
				set->itab[set->n] = ents[i];
				set->server[set->n++] = typ == tserver;
			}
		}
	}
	free(ents);
}

static void push(uint64_t **v, size_t *n, uint64_t x)
{
	if ((*n & (*n - 1)) == 0 || *n == 0)
		*v = gs_xrealloc(*v, (*n ? *n * 2 : 8) * sizeof **v);
	(*v)[(*n)++] = x;
}

/* Scans one span's memory for itab words; the next word is a candidate transport. */
static void scan_span(gs_target *t, uint64_t base, uint64_t len, const itab_set *set,
		      uint8_t *buf, gs_found_transports *out)
{
	for (uint64_t off = 0; off < len; off += CHUNK) {
		uint64_t n = len - off < CHUNK ? len - off : CHUNK;
		/* One extra word so that a pair split across chunks is still seen. */
		uint64_t want = off + n + 8 <= len ? n + 8 : n;
		/* Copied, not mapped: the scanned heap must not stay in the process's memory
		 * (and a fault on a mapped core maps the pages around it too). */
		if (gs_target_read_bulk(t, base + off, buf, want, NULL) < 0)
			continue;
		const uint64_t *w = (const uint64_t *)buf;
		out->bytes_scanned += n;
		size_t words = (size_t)(want / 8);
		for (size_t i = 0; i + 1 < words && i < n / 8; i++) {
			/* One compare rejects almost every word: itabs sit close together. */
			if (w[i] - set->lo > set->span)
				continue;
			for (size_t k = 0; k < set->n; k++) {
				if (w[i] != set->itab[k] || !w[i + 1])
					continue;
				out->candidates++;
				if (set->server[k]) {
					push(&out->server, &out->nserver, w[i + 1]);
				} else {
					push(&out->client, &out->nclient, w[i + 1]);
					push(&out->client_holders, &out->nclient_holders,
					     base + off + i * 8);
				}
			}
		}
	}
}

/* The scan: spans listed by the worker thread, then taken in batches by it and, once
 * gs_find_transports_finish is called, by the caller too (after the listing is done).
 * Scanning only copies memory with the target's bulk read (pread on a core), so the two
 * share nothing but the batch counter; other targets (live, debugger callbacks) are
 * listed and scanned by the caller alone. */
#define SPAN_BATCH 4
#define MERGE_MAX (256u << 10)

typedef struct span_range {
	uint64_t start, len;
} span_range;

typedef struct scan_part {
	gs_found_transports found;
	uint8_t *buf;
} scan_part;

struct gs_heap_scan {
	gs_rt *rt;
	const gs_layout *gl;
	itab_set set;
	uint64_t mheap;    /* runtime.mheap_, 0 when unknown */
	gs_target *view;   /* the worker's, for listing the spans */
	span_range *spans; /* written by whoever lists them, before `listed` */
	size_t nspans;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool listed;
	atomic_size_t next;
	scan_part part[2]; /* [0] the caller's, [1] the worker's */
	gs_job worker;     /* joined by gs_find_transports_finish (gs_grpc_close too) */
	bool threaded;
};

static void scan_batches(gs_heap_scan *hs, scan_part *p)
{
	gs_target *t = gs_rt_target(hs->rt);
	size_t b, e;
	while (gs_batch_claim(&hs->next, hs->nspans, SPAN_BATCH, &b, &e)) {
		for (size_t i = b; i < e; i++) {
			p->found.ranges_scanned++;
			scan_span(t, hs->spans[i].start, hs->spans[i].len, &hs->set, p->buf, &p->found);
		}
	}
}

static void list_spans(gs_heap_scan *hs, gs_target *t);

/* The worker lists the spans itself (through a view of the target: reading thousands of
 * span structs takes a page cache) while the caller unwinds, then scans. */
static void scan_worker(void *arg)
{
	gs_heap_scan *hs = arg;
	list_spans(hs, hs->view);
	pthread_mutex_lock(&hs->lock);
	hs->listed = true;
	pthread_cond_signal(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
	scan_batches(hs, &hs->part[1]);
}

/* Spans that follow each other in memory are read as one range of up to MERGE_MAX bytes:
 * a busy heap is tens of thousands of one-page spans, and a read each costs more in system
 * calls than in copying. No object straddles two spans, so no interface word pair does. */
static void merge_adjacent(gs_heap_scan *hs)
{
	if (hs->nspans) {
		span_range *tmp = gs_xmalloc(hs->nspans * sizeof *tmp);
		gs_radix_sort(hs->spans, hs->nspans, sizeof *hs->spans, offsetof(span_range, start), tmp);
		free(tmp);
	}
	size_t k = 0;
	for (size_t i = 0; i < hs->nspans; i++) {
		span_range *last = k ? &hs->spans[k - 1] : NULL;
		if (last && last->start + last->len == hs->spans[i].start &&
		    last->len + hs->spans[i].len <= MERGE_MAX)
			last->len += hs->spans[i].len;
		else
			hs->spans[k++] = hs->spans[i];
	}
	hs->nspans = k;
}

/* The in-use, pointer-holding spans of runtime.mheap_.allspans, read through t. */
static void list_spans(gs_heap_scan *hs, gs_target *t)
{
	const int64_t *o = hs->gl->offsets;
	uint64_t mheap = hs->mheap, hdr[2];
	if (o[MHEAP_ALLSPANS] < 0 || o[SPAN_START] < 0 || o[SPAN_NPAGES] < 0 ||
	    o[SPAN_STATE] < 0 || !mheap ||
	    gs_target_read(t, mheap + (uint64_t)o[MHEAP_ALLSPANS], hdr, sizeof hdr, NULL) < 0 ||
	    hdr[1] > MAX_SPANS)
		return;
	uint64_t nspans = hdr[1];
	uint64_t *spans = gs_xcalloc(nspans ? nspans : 1, 8);
	hs->spans = gs_xcalloc(nspans ? nspans : 1, sizeof *hs->spans);
	if (nspans && gs_target_read(t, hdr[0], spans, nspans * 8, NULL) == 0) {
		for (uint64_t i = 0; i < nspans; i++) {
			uint64_t start, npages;
			uint8_t state, sclass = 0;
			if (!spans[i] ||
			    gs_target_read_u64(t, spans[i] + (uint64_t)o[SPAN_START], &start, NULL) < 0 ||
			    gs_target_read_u64(t, spans[i] + (uint64_t)o[SPAN_NPAGES], &npages, NULL) < 0 ||
			    gs_target_read(t, spans[i] + (uint64_t)o[SPAN_STATE], &state, 1, NULL) < 0)
				continue;
			if (state != gs_const(gs_rt_consts(hs->rt), GS_K_SPAN_IN_USE) || npages == 0 || npages > (1u << 20))
				continue;
			/* A noscan span holds no pointers, so no interface value: most of a busy
			 * heap (message bytes, frame buffers) is skipped here. */
			if (o[SPAN_CLASS] >= 0 &&
			    (gs_target_read(t, spans[i] + (uint64_t)o[SPAN_CLASS], &sclass, 1, NULL) < 0 ||
			     (sclass & 1)))
				continue;
			hs->spans[hs->nspans++] = (span_range){start, npages * (uint64_t)gs_const(gs_rt_consts(hs->rt), GS_K_PAGE_SIZE)};
		}
	}
	free(spans);
	merge_adjacent(hs);
}

static size_t dedupe(uint64_t *v, size_t n)
{
	if (n) {
		uint64_t *tmp = gs_xmalloc(n * sizeof *tmp);
		gs_radix_sort(v, n, sizeof *v, 0, tmp);
		free(tmp);
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

/* A real transport's control buffer reports the transport's own done channel: 1 when it
 * does, 0 when it does not, -1 with *bad set when the memory to tell is unreadable. */
static int valid(gs_target *t, const int64_t *o, uint64_t tr, bool server, uint64_t *bad)
{
	int64_t cbo = o[server ? GS_CONTROLBUF : GC_CONTROLBUF];
	int64_t doneo = o[server ? GS_DONE : GC_CTXDONE];
	uint64_t cb, done, cbdone;
	if (cbo < 0 || doneo < 0 || o[CB_DONE] < 0)
		return 0;
	if (gs_target_read_u64(t, tr + (uint64_t)cbo, &cb, NULL) < 0)
		return *bad = tr + (uint64_t)cbo, -1;
	if (gs_target_read_u64(t, tr + (uint64_t)doneo, &done, NULL) < 0)
		return *bad = tr + (uint64_t)doneo, -1;
	if (!cb || !done)
		return 0;
	if (gs_target_read_u64(t, cb + (uint64_t)o[CB_DONE], &cbdone, NULL) < 0)
		return *bad = cb + (uint64_t)o[CB_DONE], -1;
	return cbdone == done;
}

/* Keeps the valid transports; candidates that could not be told apart for unreadable
 * memory are listed in out->unreadable, not silently dropped. */
static size_t keep_valid(gs_target *t, const int64_t *o, uint64_t *v, size_t n, bool server,
			 gs_found_transports *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t bad = 0;
		int r = valid(t, o, v[i], server, &bad);
		if (r > 0) {
			v[k++] = v[i];
		} else if (r < 0 && out->nunreadable < GS_MAX_UNREADABLE_TRANSPORTS) {
			out->unreadable[out->nunreadable++] =
				(gs_unreadable_transport){v[i], bad, server};
		}
	}
	return k;
}

gs_heap_scan *gs_find_transports_start(gs_rt *rt, gs_types *ty, const gs_layout *gl)
{
	gs_heap_scan *hs = gs_xcalloc(1, sizeof *hs);
	hs->rt = rt;
	hs->gl = gl;
	atomic_init(&hs->next, 0);
	pthread_mutex_init(&hs->lock, NULL);
	pthread_cond_init(&hs->cond, NULL);
	uint64_t tc = 0, ts = 0;
	gs_type_addr_for_name(ty, "*transport.http2Client", &tc, NULL);
	gs_type_addr_for_name(ty, "*transport.http2Server", &ts, NULL);
	if (!tc && !ts)
		return hs; /* no grpc-go transports linked in */
	collect_itabs(rt, ty, tc ? tc : ~0ull, ts ? ts : ~0ull, &hs->set);
	if (hs->set.n == 0)
		return hs;
	uint64_t hi = hs->set.itab[0];
	hs->set.lo = hs->set.itab[0];
	for (size_t k = 1; k < hs->set.n; k++) {
		hs->set.lo = hs->set.itab[k] < hs->set.lo ? hs->set.itab[k] : hs->set.lo;
		hi = hs->set.itab[k] > hi ? hs->set.itab[k] : hi;
	}
	hs->set.span = hi - hs->set.lo;
	if (gs_rt_global(rt, "runtime.mheap_", &hs->mheap, NULL) < 0)
		hs->mheap = 0;
	for (int k = 0; k < 2; k++)
		hs->part[k].buf = gs_xmalloc(CHUNK + 8);
	hs->view = gs_target_view(gs_rt_target(rt));
	hs->threaded = hs->view && gs_exec_submit(gs_rt_exec(rt), &hs->worker, scan_worker, hs);
	if (!hs->threaded) {
		list_spans(hs, gs_rt_target(rt));
		hs->listed = true;
	}
	return hs;
}

static void append(uint64_t **v, size_t *n, const uint64_t *w, size_t m)
{
	for (size_t i = 0; i < m; i++)
		push(v, n, w[i]);
}

int gs_find_transports_finish(gs_heap_scan *hs, gs_found_transports *out, gs_err *err)
{
	(void)err;
	memset(out, 0, sizeof *out);
	if (!hs)
		return 0;
	if (hs->threaded) {
		pthread_mutex_lock(&hs->lock);
		while (!hs->listed)
			pthread_cond_wait(&hs->cond, &hs->lock);
		pthread_mutex_unlock(&hs->lock);
	}
	scan_batches(hs, &hs->part[0]);
	gs_exec_join(&hs->worker);
	gs_target_close(hs->view);
	pthread_mutex_destroy(&hs->lock);
	pthread_cond_destroy(&hs->cond);
	*out = hs->part[0].found;
	const gs_found_transports *w = &hs->part[1].found;
	append(&out->client, &out->nclient, w->client, w->nclient);
	append(&out->server, &out->nserver, w->server, w->nserver);
	append(&out->client_holders, &out->nclient_holders, w->client_holders, w->nclient_holders);
	out->candidates += w->candidates;
	out->ranges_scanned += w->ranges_scanned;
	out->bytes_scanned += w->bytes_scanned;
	gs_found_transports_free(&hs->part[1].found);
	/* The two threads split the spans by timing: sorting makes the order (and the order in
	 * which client conns are reported) the same on every run. */
	out->nclient_holders = dedupe(out->client_holders, out->nclient_holders);
	gs_target *t = gs_rt_target(hs->rt);
	out->nclient = keep_valid(t, hs->gl->offsets, out->client, dedupe(out->client, out->nclient),
				  false, out);
	out->nserver = keep_valid(t, hs->gl->offsets, out->server, dedupe(out->server, out->nserver),
				  true, out);
	free(hs->part[0].buf);
	free(hs->part[1].buf);
	free(hs->spans);
	free(hs);
	return 0;
}

int gs_find_transports(gs_rt *rt, gs_types *ty, const gs_layout *gl, gs_found_transports *out,
		       gs_err *err)
{
	return gs_find_transports_finish(gs_find_transports_start(rt, ty, gl), out, err);
}

void gs_found_transports_free(gs_found_transports *f)
{
	free(f->client);
	free(f->server);
	free(f->client_holders);
	memset(f, 0, sizeof *f);
}
