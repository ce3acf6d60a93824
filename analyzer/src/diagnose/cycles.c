#include "cycles.h"

#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"

typedef struct gidx {
	uint64_t goid;
	size_t idx;
} gidx;

static int cmp_gidx(const void *a, const void *b)
{
	const gidx *x = a, *y = b;
	return (x->goid > y->goid) - (x->goid < y->goid);
}

typedef struct tarjan {
	const gs_diagnosis *dg;
	const gidx *ix;
	long *index, *low, *comp;
	bool *onstack;
	size_t *stack, sp, next_index;
	size_t *node, *edge; /* the explicit call stack: (node, next chain entry) */
	long ncomp;
} tarjan;

static long verdict_of(const tarjan *t, uint64_t goid)
{
	gidx key = {goid, 0};
	const gidx *hit = t->dg->n ? bsearch(&key, t->ix, t->dg->n, sizeof key, cmp_gidx) : NULL;
	return hit ? (long)hit->idx : -1;
}

static void visit(tarjan *t, size_t v)
{
	t->index[v] = t->low[v] = (long)t->next_index++;
	t->stack[t->sp++] = v;
	t->onstack[v] = true;
}

static void strongconnect(tarjan *t, size_t root)
{
	size_t depth = 0;
	t->node[0] = root;
	t->edge[0] = 0;
	visit(t, root);
	for (;;) {
		size_t v = t->node[depth];
		const gs_verdict *vv = &t->dg->v[v];
		if (t->edge[depth] < vv->nchain) {
			size_t k = t->edge[depth]++;
			long w = vv->co && vv->co[k] ? -1 : verdict_of(t, vv->chain[k]);
			if (w < 0)
				continue;
			if (t->index[w] < 0) {
				visit(t, (size_t)w);
				t->node[++depth] = (size_t)w;
				t->edge[depth] = 0;
			} else if (t->onstack[w] && t->index[w] < t->low[v]) {
				t->low[v] = t->index[w];
			}
			continue;
		}
		if (t->low[v] == t->index[v]) {
			size_t w;
			do {
				w = t->stack[--t->sp];
				t->onstack[w] = false;
				t->comp[w] = t->ncomp;
			} while (w != v);
			t->ncomp++;
		}
		if (depth == 0)
			break;
		size_t parent = t->node[--depth];
		if (t->low[v] < t->low[parent])
			t->low[parent] = t->low[v];
	}
}

/* The order cycles start in: verdict code, the stream's side and method, goroutine id. */
static int step_cmp(const gs_grpc *g, const gs_diagnosis *dg, size_t a, size_t b)
{
	const gs_verdict *x = &dg->v[a], *y = &dg->v[b];
	int c = strcmp(x->code, y->code);
	if (c)
		return c;
	const gs_stream *sx = g && x->stream >= 0 ? gs_grpc_stream(g, (size_t)x->stream) : NULL;
	const gs_stream *sy = g && y->stream >= 0 ? gs_grpc_stream(g, (size_t)y->stream) : NULL;
	if (!sx != !sy)
		return sx ? -1 : 1;
	if (sx && sx->side != sy->side)
		return sx->side == GS_CLIENT ? -1 : 1;
	if (sx && (c = strcmp(sx->method, sy->method)))
		return c;
	return (x->goid > y->goid) - (x->goid < y->goid);
}

static void reverse(size_t *v, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		size_t x = v[i];
		v[i] = v[n - 1 - i];
		v[n - 1 - i] = x;
	}
}

/* One elementary cycle through component k, written to out (cycle order, canonical start):
 * from its least member, follow the first chain entry that stays in the component until a
 * goroutine repeats. Returns its length; pos is scratch (verdict -> position, or -1). */
static size_t one_cycle(const tarjan *t, const gs_grpc *g, const size_t *members, size_t nm,
			long *pos, size_t *out)
{
	size_t start = members[0];
	for (size_t i = 1; i < nm; i++)
		if (step_cmp(g, t->dg, members[i], start) < 0)
			start = members[i];
	size_t len = 0, v = start;
	while (pos[v] < 0) {
		pos[v] = (long)len;
		out[len++] = v;
		const gs_verdict *vv = &t->dg->v[v];
		long next = -1;
		for (size_t k = 0; k < vv->nchain && next < 0; k++) {
			long w = vv->co && vv->co[k] ? -1 : verdict_of(t, vv->chain[k]);
			if (w >= 0 && t->comp[w] == t->comp[start])
				next = w;
		}
		if (next < 0) /* cannot happen in a component of two or more */
			break;
		v = (size_t)next;
	}
	size_t from = pos[v] >= 0 ? (size_t)pos[v] : 0;
	for (size_t i = 0; i < len; i++)
		pos[out[i]] = -1;
	memmove(out, out + from, (len - from) * sizeof *out);
	len -= from;
	size_t least = 0;
	for (size_t i = 1; i < len; i++)
		if (step_cmp(g, t->dg, out[i], out[least]) < 0)
			least = i;
	reverse(out, least); /* rotate left by least, in place */
	reverse(out + least, len - least);
	reverse(out, len);
	return len;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

/* Cycles in the order of their first goroutine's id. */
static bool sort_cycles(const gs_diagnosis *dg, gs_cycles *out)
{
	gidx *k = gs_calloc(out->n, sizeof *k, NULL);
	gs_cycle *c = gs_calloc(out->n, sizeof *c, NULL);
	if (!k || !c) {
		free(k);
		free(c);
		return false;
	}
	for (size_t i = 0; i < out->n; i++)
		k[i] = (gidx){dg->v[out->c[i].members[0]].goid, i};
	qsort(k, out->n, sizeof *k, cmp_gidx);
	for (size_t i = 0; i < out->n; i++)
		c[i] = out->c[k[i].idx];
	free(out->c);
	out->c = c;
	free(k);
	return true;
}

void gs_find_cycles(const gs_grpc *g, const gs_diagnosis *dg, gs_cycles *out)
{
	memset(out, 0, sizeof *out);
	size_t n = dg->n, n1 = n ? n : 1;
	gidx *ix = gs_calloc(n1, sizeof *ix, NULL);
	tarjan t = {dg, ix, gs_calloc(n1, sizeof(long), NULL), gs_calloc(n1, sizeof(long), NULL),
		    gs_calloc(n1, sizeof(long), NULL), gs_calloc(n1, sizeof(bool), NULL),
		    gs_calloc(n1, sizeof(size_t), NULL), 0, 0, gs_calloc(n1, sizeof(size_t), NULL),
		    gs_calloc(n1, sizeof(size_t), NULL), 0};
	size_t nc = 0, *start = NULL, *by = NULL, *fill = NULL;
	if (!ix || !t.index || !t.low || !t.comp || !t.onstack || !t.stack || !t.node || !t.edge)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		ix[i] = (gidx){dg->v[i].goid, i};
	if (n)
		qsort(ix, n, sizeof *ix, cmp_gidx);
	for (size_t i = 0; i < n; i++)
		t.index[i] = -1;
	for (size_t i = 0; i < n; i++)
		if (t.index[i] < 0)
			strongconnect(&t, i);

	/* Verdicts by component (counting sort), then a cycle per component of two or more. */
	nc = (size_t)t.ncomp;
	start = gs_calloc(nc + 1, sizeof *start, NULL);
	by = gs_calloc(n1, sizeof *by, NULL);
	fill = gs_calloc(nc ? nc : 1, sizeof *fill, NULL);
	out->store = gs_calloc(n1, sizeof *out->store, NULL);
	if (!start || !by || !fill || !out->store)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		start[t.comp[i] + 1]++;
	for (size_t c = 0; c < nc; c++)
		start[c + 1] += start[c];
	memcpy(fill, start, nc * sizeof *fill);
	for (size_t i = 0; i < n; i++)
		by[fill[t.comp[i]]++] = i;
	long *pos = t.index; /* reused as scratch: every entry -1 */
	for (size_t i = 0; i < n; i++)
		pos[i] = -1;
	size_t used = 0, cap = 0;
	for (size_t c = 0; c < nc; c++) {
		size_t nm = start[c + 1] - start[c];
		if (nm < 2)
			continue;
		const size_t *members = by + start[c];
		size_t *cyc = out->store + used;
		size_t len = one_cycle(&t, g, members, nm, pos, cyc);
		for (size_t i = 0; i < len; i++)
			pos[cyc[i]] = 0;
		size_t *oth = cyc + len, no = 0;
		for (size_t i = 0; i < nm; i++)
			if (pos[members[i]] < 0)
				oth[no++] = members[i];
		for (size_t i = 0; i < len; i++)
			pos[cyc[i]] = -1;
		if (no > 1)
			qsort(oth, no, sizeof *oth, cmp_size); /* verdict order */
		used += len + no;
		if (out->n == cap) {
			gs_cycle *more = gs_reallocarray(out->c, cap ? 2 * cap : 8, sizeof *out->c, NULL);
			if (!more)
				goto nomem;
			out->c = more;
			cap = cap ? 2 * cap : 8;
		}
		out->c[out->n++] = (gs_cycle){cyc, len, oth, no};
	}
	if (out->n > 1 && !sort_cycles(dg, out))
		goto nomem;
	out->comp = t.comp;
	t.comp = NULL;
	if (0) {
nomem:
		gs_cycles_free(out);
		out->nomem = true;
	}
	free(fill);
	free(t.comp);
	free(start);
	free(by);
	free(ix);
	free(t.index);
	free(t.low);
	free(t.onstack);
	free(t.stack);
	free(t.node);
	free(t.edge);
}

bool gs_cycles_edge(const gs_cycles *c, size_t a, size_t b)
{
	return c->comp && c->comp[a] == c->comp[b];
}

void gs_cycles_free(gs_cycles *c)
{
	free(c->c);
	free(c->comp);
	free(c->store);
	memset(c, 0, sizeof *c);
}
