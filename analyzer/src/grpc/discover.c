#include "discover.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../goruntime/heapwalk.h"
#include "../util/radix.h"
#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "grpc_fields.h"

#define MAX_ITABS 16
#define MAX_ITAB_TABLE (1u << 22)

typedef struct itab_set {
	uint64_t itab[MAX_ITABS];
	int server[MAX_ITABS];
	size_t n;
	uint64_t lo, span; /* [lo, lo + span] holds every itab of the set */
} itab_set;

/* The itabs of runtime.itabTable whose dynamic type is one of the two transport types. */
/* False when out of memory. */
static bool collect_itabs(gs_rt *rt, gs_types *ty, uint64_t tclient, uint64_t tserver,
			  itab_set *set)
{
	gs_target *t = gs_rt_target(rt);
	gs_dwarf *d = gs_rt_dwarf(rt);
	uint64_t tab;
	if (gs_rt_global(rt, "runtime.itabTable", &tab, NULL) < 0 ||
	    gs_target_read_u64(t, tab, &tab, NULL) < 0 || !tab)
		return true;
	const gs_dtype *tt = gs_dwarf_type(d, "runtime.itabTableType", NULL);
	const gs_dmember *msize = tt ? gs_dwarf_member(tt, "size") : NULL;
	const gs_dmember *ment = tt ? gs_dwarf_member(tt, "entries") : NULL;
	if (!msize || !ment)
		return true;
	uint64_t size;
	if (gs_target_read_u64(t, tab + msize->offset, &size, NULL) < 0 || size > MAX_ITAB_TABLE)
		return true;
	uint64_t *ents = calloc(size ? size : 1, 8);
	if (!ents)
		return false;
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
	return true;
}

/* False when out of memory (x is dropped). */
static bool push(uint64_t **v, size_t *n, uint64_t x)
{
	if ((*n & (*n - 1)) == 0 || *n == 0) {
		uint64_t *w = gs_reallocarray(*v, *n ? *n * 2 : 8, sizeof **v, NULL);
		if (!w)
			return false;
		*v = w;
	}
	(*v)[(*n)++] = x;
	return true;
}

/* The heap walk (goruntime/heapwalk.h) hands over the pointer-holding heap; what is kept
 * here is only what matches transports: one set of finds per walking thread. */
struct gs_heap_scan {
	gs_rt *rt;
	const gs_layout *gl;
	itab_set set;
	gs_found_transports part[GS_HEAP_PARTS];
	gs_heap_walk *walk;
	bool nomem; /* the itabs or the walk could not be set up */
};

/* A piece of heap: every itab word of the set followed by a non-nil word is an interface
 * value holding a candidate transport. */
static void match_itabs(void *ctx, int pi, uint64_t addr, const uint64_t *w, size_t nlook,
			size_t nwords)
{
	gs_heap_scan *hs = ctx;
	const itab_set *set = &hs->set;
	gs_found_transports *out = &hs->part[pi];
	for (size_t i = 0; i + 1 < nwords && i < nlook; i++) {
		/* One compare rejects almost every word: itabs sit close together. */
		if (w[i] - set->lo > set->span)
			continue;
		for (size_t k = 0; k < set->n; k++) {
			if (w[i] != set->itab[k] || !w[i + 1])
				continue;
			out->candidates++;
			if (set->server[k]) {
				out->nomem |= !push(&out->server, &out->nserver, w[i + 1]);
			} else {
				out->nomem |= !push(&out->client, &out->nclient, w[i + 1]);
				out->nomem |= !push(&out->client_holders, &out->nclient_holders,
						    addr + i * 8);
			}
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static size_t dedupe(uint64_t *v, size_t n)
{
	if (n) {
		uint64_t *tmp = malloc(n * sizeof *tmp);
		if (tmp)
			gs_radix_sort(v, n, sizeof *v, 0, tmp);
		else /* out of memory: sorted in place */
			qsort(v, n, sizeof *v, cmp_u64);
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
static int valid(gs_target *t, const gs_layout *l, uint64_t tr, bool server, uint64_t *bad)
{
	int cbf = server ? GS_CONTROLBUF : GC_CONTROLBUF, donef = server ? GS_DONE : GC_CTXDONE;
	uint64_t cb, done, cbdone;
	if (!gs_layout_has(l, cbf) || !gs_layout_has(l, donef) || !gs_layout_has(l, CB_DONE))
		return 0;
	if (gs_layout_read(l, cbf, t, tr, 0, &cb) < 0)
		return *bad = tr + (uint64_t)l->offsets[cbf], -1;
	if (gs_layout_read(l, donef, t, tr, 0, &done) < 0)
		return *bad = tr + (uint64_t)l->offsets[donef], -1;
	if (!cb || !done)
		return 0;
	if (gs_layout_read(l, CB_DONE, t, cb, 0, &cbdone) < 0)
		return *bad = cb + (uint64_t)l->offsets[CB_DONE], -1;
	return cbdone == done;
}

/* Keeps the valid transports; candidates that could not be told apart for unreadable
 * memory are listed in out->unreadable, not silently dropped. */
static size_t keep_valid(gs_target *t, const gs_layout *l, uint64_t *v, size_t n, bool server,
			 gs_found_transports *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t bad = 0;
		int r = valid(t, l, v[i], server, &bad);
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
	gs_heap_scan *hs = calloc(1, sizeof *hs);
	if (!hs)
		return NULL;
	hs->rt = rt;
	hs->gl = gl;
	uint64_t tc = 0, ts = 0;
	gs_type_addr_for_name(ty, "*transport.http2Client", &tc, NULL);
	gs_type_addr_for_name(ty, "*transport.http2Server", &ts, NULL);
	if (!tc && !ts)
		return hs; /* no grpc-go transports linked in */
	hs->nomem = !collect_itabs(rt, ty, tc ? tc : ~0ull, ts ? ts : ~0ull, &hs->set);
	if (hs->set.n == 0)
		return hs;
	uint64_t hi = hs->set.itab[0];
	hs->set.lo = hs->set.itab[0];
	for (size_t k = 1; k < hs->set.n; k++) {
		hs->set.lo = hs->set.itab[k] < hs->set.lo ? hs->set.itab[k] : hs->set.lo;
		hi = hs->set.itab[k] > hi ? hs->set.itab[k] : hi;
	}
	hs->set.span = hi - hs->set.lo;
	/* A noscan span holds no pointers, so no interface value: most of a busy heap
	 * (message bytes, frame buffers) is skipped. */
	gs_err e = {0};
	hs->walk = gs_heap_walk_start(rt, true, match_itabs, hs, &e);
	hs->nomem |= e.code != 0;
	return hs;
}

static bool append(uint64_t **v, size_t *n, const uint64_t *w, size_t m)
{
	bool ok = true;
	for (size_t i = 0; i < m; i++)
		ok &= push(v, n, w[i]);
	return ok;
}

int gs_find_transports_finish(gs_heap_scan *hs, gs_found_transports *out, gs_err *err)
{
	memset(out, 0, sizeof *out);
	if (!hs)
		return 0;
	gs_heap_walk_stats st;
	gs_heap_walk_finish(hs->walk, &st);
	*out = hs->part[0];
	const gs_found_transports *w = &hs->part[1];
	bool nomem = hs->nomem || st.nomem || out->nomem || w->nomem;
	nomem |= !append(&out->client, &out->nclient, w->client, w->nclient);
	nomem |= !append(&out->server, &out->nserver, w->server, w->nserver);
	nomem |= !append(&out->client_holders, &out->nclient_holders, w->client_holders, w->nclient_holders);
	out->candidates += w->candidates;
	out->ranges_scanned = st.runs;
	out->bytes_scanned = st.bytes;
	gs_found_transports_free(&hs->part[1]);
	/* The two threads split the spans by timing: sorting makes the order (and the order in
	 * which client conns are reported) the same on every run. */
	out->nclient_holders = dedupe(out->client_holders, out->nclient_holders);
	gs_target *t = gs_rt_target(hs->rt);
	out->nclient = keep_valid(t, hs->gl, out->client, dedupe(out->client, out->nclient),
				  false, out);
	out->nserver = keep_valid(t, hs->gl, out->server, dedupe(out->server, out->nserver),
				  true, out);
	free(hs);
	if (nomem) {
		gs_found_transports_free(out);
		return gs_errf(err, GS_EINTERNAL, "scanning the heap for transports: out of memory");
	}
	return 0;
}

int gs_find_transports(gs_rt *rt, gs_types *ty, const gs_layout *gl, gs_found_transports *out,
		       gs_err *err)
{
	gs_heap_scan *hs = gs_find_transports_start(rt, ty, gl);
	if (!hs) {
		memset(out, 0, sizeof *out);
		return gs_err_nomem(err, sizeof(gs_heap_scan));
	}
	return gs_find_transports_finish(hs, out, err);
}

void gs_found_transports_free(gs_found_transports *f)
{
	free(f->client);
	free(f->server);
	free(f->client_holders);
	memset(f, 0, sizeof *f);
}
