/* Narrowing a diagnosis to goroutines with given pprof labels (why-blocked --label). */
#ifndef GS_DIAGNOSE_LABEL_FILTER_H
#define GS_DIAGNOSE_LABEL_FILTER_H

#include <stddef.h>

#include "verdicts.h"

/* Keeps the verdicts of goroutines whose labels satisfy every filter ("KEY" or
 * "KEY=VALUE"), and every verdict their chains reach; frees the others. */
/* -1 when out of memory (dg is then unfiltered). */
int gs_diagnosis_filter_labels(gs_rt *rt, gs_diagnosis *dg, const char *const *filters,
			       size_t n);

/* The same over the n snapshots of a set (dg[i]: snapshot i's diagnosis, rt[i] its
 * runtime): one filter, not one per snapshot. A verdict stays when its goroutine's labels
 * satisfy the filters in its own snapshot, or when a kept verdict's chain reaches it, in its
 * snapshot or across (peer_chain, across), transitively. -1 when out of memory (the set is
 * left whole). */
int gs_diagnosis_set_filter_labels(gs_rt *const *rt, gs_diagnosis *dg, size_t nsnap,
				   const char *const *filters, size_t n);

#endif
