#include "labels.h"

#include "../util/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"
#include "model_internal.h"

/* How a label set is laid out in this binary. */
enum lab_kind { LAB_NONE, LAB_MAP, LAB_SLICE };

typedef struct lab_layout {
	enum lab_kind kind;
	gs_map_layout map;          /* LAB_MAP: labelMap is map[string]string */
	uint64_t slice_off;         /* LAB_SLICE: the []label header inside labelMap */
	uint64_t elem_size, key_off, val_off;
	bool manifest;              /* the list is RT_LABELMAP_LIST (else the version's layout) */
} lab_layout;

struct gs_label_index {
	gs_labels *sets; /* sorted by addr */
	size_t n;
};

static const gs_dtype *peel(const gs_dtype *t)
{
	for (int i = 0; t && t->kind == GS_DK_TYPEDEF && t->elem && i < 16; i++)
		t = t->elem;
	return t;
}

/* The binary's runtime/pprof.labelMap: a map (up to 1.23), else the list the manifest
 * resolved (a slice of key/value strings, kinds checked); without either, the shape of its
 * Go version built from the string type's size (a program that sets labels links runtime/pprof, so the type is there unless
 * the linker dropped it). */
static void resolve(gs_rt *rt, lab_layout *l)
{
	*l = (lab_layout){0};
	const gs_dtype *t = gs_dwarf_type(rt->dwarf, "runtime/pprof.labelMap", NULL);
	const gs_dtype *p = peel(t);
	if (p && p->kind == GS_DK_MAP) {
		if (gs_map_layout_resolve(rt->dwarf, t, &l->map, NULL) == 0)
			l->kind = LAB_MAP;
		return;
	}
	const gs_layout *ly = &rt->layout;
	bool old = gs_layout_has(ly, RT_LABEL_KEY);
	int key = old ? RT_LABEL_KEY : RT_LABEL2_KEY, val = old ? RT_LABEL_VALUE : RT_LABEL2_VALUE;
	if (p && gs_layout_has(ly, RT_LABELMAP_LIST) && gs_layout_has(ly, key) &&
	    gs_layout_has(ly, val) && ly->sizes[key]) {
		*l = (lab_layout){LAB_SLICE, {0}, (uint64_t)ly->offsets[RT_LABELMAP_LIST],
				  ly->sizes[key], (uint64_t)ly->offsets[key],
				  (uint64_t)ly->offsets[val], true};
		return;
	}
	/* 1.24+ without the label types: labelMap's first member is the []label, a label is
	 * {key, value string}; the string's size is the manifest's (RT_STRING_*), not assumed. */
	int minor = rt->consts.go_minor;
	uint64_t str = ly->sizes[RT_STRING_STR];
	if (minor >= 24 && str) {
		*l = (lab_layout){LAB_SLICE, {0}, 0, 2 * str, 0, str, false};
	} else if (minor >= 19 && minor < 24) {
		const gs_dtype *m = gs_dwarf_type(rt->dwarf, "map[string]string", NULL);
		if (m && gs_map_layout_resolve(rt->dwarf, m, &l->map, NULL) == 0)
			l->kind = LAB_MAP;
	}
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const gs_label *)a)->key, ((const gs_label *)b)->key);
}

static int cmp_set(const void *a, const void *b)
{
	const gs_labels *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}


/* What all sets together may read: damaged memory can make every goroutine point to a
 * different set of the largest plausible size. */
#define LABEL_BYTES_BUDGET ((uint64_t)64 << 20)

typedef struct reader {
	gs_rt *rt;
	gs_labels *s;
	uint64_t budget; /* bytes left for strings */
} reader;

/* Out of memory marks the model (gs_rt_alloc_check), never a label set read in part. */
static void set_problem(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_problem(reader *r, const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	r->s->problem = strdup(buf);
	r->rt->nomem |= !r->s->problem;
}

/* A Go string header at addr, copied; false (with s->problem) when implausible. */
static bool read_gostring(reader *r, uint64_t addr, char **out)
{
	gs_rt *rt = r->rt;
	uint64_t hdr[2]; /* the runtime manifest's string fields, widths checked */
	if (gs_layout_read(&rt->layout, RT_STRING_STR, rt->target, addr, 0, &hdr[0]) < 0 ||
	    gs_layout_read(&rt->layout, RT_STRING_LEN, rt->target, addr, 0, &hdr[1]) < 0) {
		set_problem(r, "string header at 0x%llx unreadable", (unsigned long long)addr);
		return false;
	}
	if (hdr[1] > GS_LABEL_MAX_BYTES) {
		set_problem(r, "string at 0x%llx is %llu bytes long", (unsigned long long)addr,
			    (unsigned long long)hdr[1]);
		return false;
	}
	if (hdr[1] > r->budget) {
		set_problem(r, "more label bytes than %llu in this snapshot",
			    (unsigned long long)LABEL_BYTES_BUDGET);
		return false;
	}
	r->budget -= hdr[1];
	char *b = malloc(hdr[1] + 1);
	if (!b) {
		rt->nomem = true;
		return false;
	}
	if (hdr[1] && (!hdr[0] || gs_target_read(rt->target, hdr[0], b, hdr[1], NULL) < 0)) {
		free(b);
		set_problem(r, "string bytes at 0x%llx (%llu bytes) unreadable",
			    (unsigned long long)hdr[0], (unsigned long long)hdr[1]);
		return false;
	}
	b[hdr[1]] = 0;
	*out = b;
	return true;
}

static bool add_pair(reader *r, uint64_t kaddr, uint64_t vaddr)
{
	gs_labels *s = r->s;
	if (s->n >= GS_LABELS_MAX) {
		set_problem(r, "more than %d labels", GS_LABELS_MAX);
		return false;
	}
	gs_label lb = {NULL, NULL};
	if (!read_gostring(r, kaddr, &lb.key))
		return false;
	if (!read_gostring(r, vaddr, &lb.value)) {
		free(lb.key);
		return false;
	}
	gs_label *kv = gs_reallocarray(s->kv, s->n + 1, sizeof *s->kv, NULL);
	if (!kv) {
		r->rt->nomem = true;
		free(lb.key);
		free(lb.value);
		return false;
	}
	s->kv = kv;
	s->kv[s->n++] = lb;
	return true;
}

static int visit(void *ctx, uint64_t kaddr, uint64_t vaddr)
{
	return add_pair(ctx, kaddr, vaddr) ? 0 : 1;
}

static void read_set(reader *r, const lab_layout *l)
{
	gs_rt *rt = r->rt;
	gs_labels *s = r->s;
	if (l->kind == LAB_NONE) {
		set_problem(r, "this binary's label layout (runtime/pprof.labelMap) is unknown");
		return;
	}
	if (l->kind == LAB_MAP) {
		uint64_t m, count;
		if (gs_target_read_u64(rt->target, s->addr, &m, NULL) < 0) {
			set_problem(r, "label map at 0x%llx unreadable", (unsigned long long)s->addr);
			return;
		}
		if (gs_map_count_layout(rt->target, &l->map, m, &count, NULL) < 0) {
			set_problem(r, "label map header at 0x%llx unreadable", (unsigned long long)m);
			return;
		}
		if (count > GS_LABELS_MAX) {
			set_problem(r, "label map at 0x%llx holds %llu entries", (unsigned long long)m,
			    (unsigned long long)count);
			return;
		}
		gs_err e = {0};
		int64_t n = gs_map_walk(rt->target, &l->map, m, visit, r, &e);
		if (n < 0 && !s->problem)
			set_problem(r, "%s", e.msg[0] ? e.msg : "label map unreadable");
		gs_err_clear(&e);
	} else {
		uint64_t hdr[3];
		if (l->manifest ? gs_layout_read_words(&rt->layout, RT_LABELMAP_LIST, rt->target,
						       s->addr, 0, 3, hdr) < 0
				: gs_target_read(rt->target, s->addr + l->slice_off, hdr, sizeof hdr,
						 NULL) < 0) {
			set_problem(r, "label set at 0x%llx unreadable", (unsigned long long)s->addr);
			return;
		}
		if (hdr[1] > hdr[2] || hdr[1] > GS_LABELS_MAX || (hdr[1] && !hdr[0])) {
			set_problem(r, "label list at 0x%llx: length %llu of %llu",
			    (unsigned long long)hdr[0], (unsigned long long)hdr[1], (unsigned long long)hdr[2]);
			return;
		}
		for (uint64_t i = 0; i < hdr[1]; i++) {
			uint64_t e = hdr[0] + i * l->elem_size;
			if (!add_pair(r, e + l->key_off, e + l->val_off))
				break;
		}
	}
	if (s->problem) {
		for (size_t i = 0; i < s->n; i++) {
			free(s->kv[i].key);
			free(s->kv[i].value);
		}
		free(s->kv);
		s->kv = NULL;
		s->n = 0;
		return;
	}
	if (s->n > 1)
		qsort(s->kv, s->n, sizeof *s->kv, cmp_label);
}

void gs_labels_load(gs_rt *rt)
{
	size_t n = 0;
	for (size_t i = 0; i < rt->ngs; i++)
		n += rt->gs[i].labels != 0;
	if (!n)
		return;
	struct gs_label_index *ix = calloc(1, sizeof *ix);
	if (ix && !(ix->sets = calloc(n, sizeof *ix->sets))) {
		free(ix);
		ix = NULL;
	}
	if (!ix) {
		rt->nomem = true;
		return;
	}
	for (size_t i = 0; i < rt->ngs; i++)
		if (rt->gs[i].labels)
			ix->sets[ix->n++].addr = rt->gs[i].labels;
	qsort(ix->sets, ix->n, sizeof *ix->sets, cmp_set);
	size_t u = 0; /* children share their creator's set: read each once */
	for (size_t i = 0; i < ix->n; i++)
		if (!u || ix->sets[u - 1].addr != ix->sets[i].addr)
			ix->sets[u++] = ix->sets[i];
	ix->n = u;
	lab_layout l;
	resolve(rt, &l);
	reader r = {rt, NULL, LABEL_BYTES_BUDGET};
	for (size_t i = 0; i < ix->n; i++) {
		r.s = &ix->sets[i];
		read_set(&r, &l);
	}
	rt->labels = ix;
}

void gs_labels_free(gs_rt *rt)
{
	struct gs_label_index *ix = rt->labels;
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n; i++) {
		for (size_t k = 0; k < ix->sets[i].n; k++) {
			free(ix->sets[i].kv[k].key);
			free(ix->sets[i].kv[k].value);
		}
		free(ix->sets[i].kv);
		free(ix->sets[i].problem);
	}
	free(ix->sets);
	free(ix);
	rt->labels = NULL;
}

const gs_labels *gs_rt_labels(const gs_rt *rt, const gs_goroutine *g)
{
	if (!g || !g->labels || !rt->labels)
		return NULL;
	gs_labels key = {.addr = g->labels};
	return bsearch(&key, rt->labels->sets, rt->labels->n, sizeof key, cmp_set);
}
