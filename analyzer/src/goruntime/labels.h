/* pprof labels of goroutines: what runtime/pprof's Do and SetGoroutineLabels attached.
 *
 * The runtime keeps only an unsafe.Pointer (g.labels) to runtime/pprof's labelMap, and a
 * goroutine started by a labelled one shares its creator's pointer. What it points to
 * changed: up to Go 1.23 labelMap is a map[string]string, from 1.24 a struct holding a
 * slice of key/value string pairs (LabelSet.list, then label.Set.List in 1.26). The layout
 * is the binary's own type runtime/pprof.labelMap, from DWARF or the type descriptors;
 * without it, the one of the binary's Go version. Every set is read once at load, checked
 * (counts, lengths, readable memory) and shared by the goroutines that point to it; a set
 * that fails the checks keeps its address and a problem instead of labels.
 */
#ifndef GS_GORUNTIME_LABELS_H
#define GS_GORUNTIME_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/strbuf.h"
#include "model.h"

/* More labels or longer strings than these are taken for damaged memory. */
#define GS_LABELS_MAX 512
#define GS_LABEL_MAX_BYTES 4096

typedef struct gs_label {
	char *key, *value; /* the snapshot's bytes, NUL-terminated (not escaped) */
} gs_label;

typedef struct gs_labels {
	uint64_t addr;   /* what g.labels points to */
	size_t n;
	gs_label *kv;    /* sorted by key */
	char *problem;   /* why they could not be read, or NULL */
} gs_labels;

/* Reads the label sets of every goroutine (the calling thread; gs_rt_load does it). */
void gs_labels_load(gs_rt *rt);
void gs_labels_free(gs_rt *rt);
/* g's labels, or NULL when it has none; only reads the model (any thread). */
const gs_labels *gs_rt_labels(const gs_rt *rt, const gs_goroutine *g);

/* A label's value, or NULL when l lacks the key. */
const char *gs_labels_get(const gs_labels *l, const char *key);
/* Whether l satisfies every filter: "KEY" (present) or "KEY=VALUE" (equal). l may be NULL. */
bool gs_labels_match(const gs_labels *l, const char *const *filters, size_t n);
/* "k=v, k2=v2", escaped for a terminal; "unreadable (why)" for a set that failed. */
void gs_labels_text(const gs_labels *l, gs_strbuf *out);
/* {"k":"v",...}; null for a set that failed. */
void gs_labels_json(const gs_labels *l, gs_strbuf *out);
/* Whether two goroutines' labels read the same (same set, or equal pairs). */
bool gs_labels_equal(const gs_labels *a, const gs_labels *b);

#endif
