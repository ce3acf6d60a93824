/* Heap object bounds: which object of the Go heap holds an address, from the in-use spans
 * of runtime.mheap_.allspans (start, pages, element size). Only spans that may hold
 * pointers are kept: an object of a noscan span refers to nothing.
 *
 * Built on demand by the abandoned-stream analysis, which follows pointers through heap
 * objects and must not read an object's neighbours as its own words. The span fields come
 * from the runtime manifest and the runtime's constants from heapwalk.h, as for the heap
 * walk (which copies span memory out and has no use for element sizes). */
#include <stdlib.h>

#include "../goruntime/heapwalk.h"
#include "grpc_internal.h"

#define MAX_SPANS (1u << 24)

typedef struct span { uint64_t start, end, elemsize; } span;

struct gs_heapobj_ix {
	span *v;
	size_t n;
};

static int cmp_span(const void *a, const void *b)
{
	const span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

gs_heapobj_ix *gs_heapobj_open(gs_grpc *g)
{
	const gs_layout *l = gs_rt_layout(g->rt);
	uint64_t mheap = 0, hdr[2];
	if (!gs_layout_has(l, RT_SPAN_START) || !gs_layout_has(l, RT_SPAN_NPAGES) ||
	    !gs_layout_has(l, RT_SPAN_STATE) || !gs_layout_has(l, RT_SPAN_ELEMSIZE) ||
	    gs_rt_global(g->rt, "runtime.mheap_", &mheap, NULL) < 0 || !mheap ||
	    gs_layout_read_words(l, RT_MHEAP_ALLSPANS, g->t, mheap, 0, 2, hdr) < 0 ||
	    !hdr[1] || hdr[1] > MAX_SPANS)
		return NULL;
	uint64_t *all = calloc(hdr[1], 8);
	gs_heapobj_ix *ix = calloc(1, sizeof *ix);
	if (ix)
		ix->v = calloc(hdr[1], sizeof *ix->v);
	if (!all || !ix || !ix->v) {
		g->nomem = true;
		free(all);
		gs_heapobj_close(ix);
		return NULL;
	}
	if (gs_target_read(g->t, hdr[0], all, hdr[1] * 8, NULL) < 0) {
		free(all);
		gs_heapobj_close(ix);
		return NULL;
	}
	for (uint64_t i = 0; i < hdr[1]; i++) {
		uint64_t start, npages, elemsize, state, sclass = 0;
		if (!all[i] || gs_layout_read(l, RT_SPAN_START, g->t, all[i], 0, &start) < 0 ||
		    gs_layout_read(l, RT_SPAN_NPAGES, g->t, all[i], 0, &npages) < 0 ||
		    gs_layout_read(l, RT_SPAN_ELEMSIZE, g->t, all[i], 0, &elemsize) < 0 ||
		    gs_layout_read(l, RT_SPAN_STATE, g->t, all[i], 0, &state) < 0)
			continue;
		if (state != GS_GO_SPAN_IN_USE(g->rt) || !npages || npages > (1u << 20) || !elemsize ||
		    elemsize > npages * GS_GO_PAGE_SIZE(g->rt))
			continue;
		if (gs_layout_has(l, RT_SPAN_CLASS) &&
		    (gs_layout_read(l, RT_SPAN_CLASS, g->t, all[i], 0, &sclass) < 0 ||
		     (sclass & GS_GO_SPANCLASS_NOSCAN(g->rt))))
			continue;
		ix->v[ix->n++] = (span){start, start + npages * GS_GO_PAGE_SIZE(g->rt), elemsize};
	}
	free(all);
	qsort(ix->v, ix->n, sizeof *ix->v, cmp_span);
	return ix;
}

bool gs_heapobj_find(const gs_heapobj_ix *ix, uint64_t p, uint64_t *base, uint64_t *size)
{
	size_t lo = 0, hi = ix ? ix->n : 0;
	while (lo < hi) { /* the last span starting at or below p */
		size_t mid = (lo + hi) / 2;
		if (ix->v[mid].start <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || p >= ix->v[lo - 1].end)
		return false;
	const span *s = &ix->v[lo - 1];
	*base = s->start + (p - s->start) / s->elemsize * s->elemsize;
	*size = s->elemsize;
	return *base + *size <= s->end;
}

void gs_heapobj_close(gs_heapobj_ix *ix)
{
	if (ix) {
		free(ix->v);
		free(ix);
	}
}
