/* Table types for runtime structs without a descriptor (see rtables.h). */
#include "rtables.h"

#include <stdlib.h>
#include <string.h>

#include "../binary/typedesc.h"
#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "heapwalk.h"
#include "model_internal.h"

/* mheap_ is ~66 KiB up to its arenas; allspans lies well inside. */
#define MHEAP_SCAN (80u << 10)
#define MAX_SPANS (1u << 24)

/* A struct of the given fields, each a word (uintptr) unless `types` says otherwise. */
static gs_dtype *table_struct(gs_rt *rt, gs_typedesc *td, const char *name, uint64_t size,
			      const char *const *fields, const uint64_t *offs, size_t n,
			      const gs_dtype *const *types)
{
	gs_dmember m[4];
	const gs_dtype *word = gs_dwarf_type(rt->dwarf, "uintptr", NULL);
	gs_dtype *t = gs_typedesc_new_type(td, name, GS_DK_STRUCT, size);
	if (!t)
		return NULL;
	for (size_t i = 0; i < n; i++)
		m[i] = (gs_dmember){fields[i], offs[i], types && types[i] ? types[i] : word};
	gs_typedesc_set_members(td, t, m, n);
	return t->members ? t : NULL; /* NULL: out of memory */
}

static int add_table(gs_dwarf *d, gs_dtype *t, gs_err *err)
{
	if (!t)
		return gs_errf(err, GS_EINTERNAL, "runtime type tables: out of memory");
	return gs_dwarf_add_type(d, t, err);
}

/* Runs while the layout is resolved, before the constants table is (it follows the layout):
 * the page size every Go release 1.19-1.27 has (runtime._PageSize). */
#define RT_PAGE_SIZE 8192u

/* A plausible *mspan: its startAddr page-aligned, a sane page count. */
static bool plausible_span(gs_rt *rt, const gs_dtype *span, uint64_t p)
{
	const gs_dmember *ms = gs_dwarf_member(span, "startAddr");
	const gs_dmember *mn = gs_dwarf_member(span, "npages");
	uint64_t start, npages;
	return p && !(p & 7) && ms && mn &&
	       gs_target_read_u64(rt->target, p + ms->offset, &start, NULL) == 0 &&
	       gs_target_read_u64(rt->target, p + mn->offset, &npages, NULL) == 0 && start &&
	       !(start & (RT_PAGE_SIZE - 1)) && npages && npages < (1u << 20);
}

/* -1 when not found, -2 when out of memory.
 * mheap.allspans: the longest []*mspan in mheap_ whose first and last elements are spans. */
static int64_t find_allspans(gs_rt *rt, uint64_t mheap)
{
	const gs_dtype *span = gs_dwarf_type(rt->dwarf, "runtime.mspan", NULL);
	if (!span)
		return -1;
	uint64_t *w = malloc(MHEAP_SCAN);
	if (!w)
		return -2; /* out of memory */
	int64_t best = -1;
	uint64_t best_len = 0;
	if (gs_target_read(rt->target, mheap, w, MHEAP_SCAN, NULL) == 0) {
		for (size_t i = 0; i + 3 <= MHEAP_SCAN / 8; i++) {
			uint64_t p = w[i], len = w[i + 1], cap = w[i + 2], first, last;
			if (!p || (p & 7) || !len || len > cap || cap > MAX_SPANS || len <= best_len)
				continue;
			if (gs_target_read_u64(rt->target, p, &first, NULL) < 0 ||
			    gs_target_read_u64(rt->target, p + 8 * (len - 1), &last, NULL) < 0 ||
			    !plausible_span(rt, span, first) || !plausible_span(rt, span, last))
				continue;
			best = (int64_t)(8 * i);
			best_len = len;
		}
	}
	free(w);
	return best;
}

int gs_rt_register_tables(gs_rt *rt, gs_err *err)
{
	gs_dwarf *d = rt->dwarf;
	gs_typedesc *td = gs_dwarf_descriptors(d);
	if (gs_dwarf_has_dwarf(d) || !td)
		return 0;
	/* semaRoot{lock mutex; treap *sudog; nwait}: 1.19-1.27 (without lock ranking). */
	if (add_table(d, table_struct(rt, td, "runtime.semaRoot", 24,
					  (const char *const[]){"treap"}, (const uint64_t[]){8}, 1, NULL), err) < 0)
		return -1;
	/* schedt{goidgen; lastpoll; ...}: lastpoll at 8 in every release. */
	if (add_table(d, table_struct(rt, td, "runtime.schedt", 16,
					  (const char *const[]){"goidgen", "lastpoll"},
					  (const uint64_t[]){0, 8}, 2, NULL), err) < 0)
		return -1;
	/* itabTableType{size, count uintptr; entries [itabInitSize]*itab}. */
	if (add_table(d, table_struct(rt, td, "runtime.itabTableType", 24,
					  (const char *const[]){"size", "count", "entries"},
					  (const uint64_t[]){0, 8, 16}, 3, NULL), err) < 0)
		return -1;
	uint64_t mheap;
	int64_t off = -1;
	if (gs_rt_global(rt, "runtime.mheap_", &mheap, NULL) == 0)
		off = find_allspans(rt, mheap);
	if (off == -2)
		return gs_errf(err, GS_EINTERNAL, "runtime type tables: out of memory (%u bytes)",
			       MHEAP_SCAN);
	if (off < 0)
		return 0;
	/* allspans is a []*mspan, three words, as the manifest expects */
	const gs_dtype *slice = gs_typedesc_new_type(td, "[]*runtime.mspan", GS_DK_SLICE, 24);
	if (!slice)
		return gs_errf(err, GS_EINTERNAL, "runtime type tables: out of memory");
	return add_table(d, table_struct(rt, td, "runtime.mheap", (uint64_t)off + 24,
					 (const char *const[]){"allspans"},
					 (const uint64_t[]){(uint64_t)off}, 1,
					 (const gs_dtype *const[]){slice}), err);
}
