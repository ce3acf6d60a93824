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

#endif
