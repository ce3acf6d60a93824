#include "groups.h"

#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"

/* What makes two verdicts say the same thing; pointers into the models, nothing built. */
typedef struct vkey {
	const char *code, *method, *reason, *func, *file;
	const char *ncode, *nfunc, *nfile; /* the next hop: nearest blamed goroutine */
	int line, nline;
	bool reached;
	uint64_t goid;
	size_t idx;
	const gs_frame *top;
} vkey;

static int scmp(const char *a, const char *b)
{
	if (a == b)
		return 0;
	if (!a || !b)
		return a ? 1 : -1;
	return strcmp(a, b);
}

/* Same group iff 0; goroutine id breaks ties only for the order inside a group. */
static int key_cmp(const vkey *x, const vkey *y)
{
	int c;
	if ((c = scmp(x->code, y->code)) || (c = scmp(x->method, y->method)) ||
	    (c = scmp(x->reason, y->reason)) || (c = scmp(x->func, y->func)) ||
	    (c = scmp(x->file, y->file)) || (c = (x->line > y->line) - (x->line < y->line)) ||
	    (c = scmp(x->ncode, y->ncode)) || (c = scmp(x->nfunc, y->nfunc)) ||
	    (c = scmp(x->nfile, y->nfile)) || (c = (x->nline > y->nline) - (x->nline < y->nline)))
		return c;
	return (int)x->reached - (int)y->reached;
}

static int cmp_vkey(const void *a, const void *b)
{
	const vkey *x = a, *y = b;
	int c = key_cmp(x, y);
	return c ? c : (x->goid > y->goid) - (x->goid < y->goid);
}

typedef struct idpair {
	uint64_t goid;
	size_t idx;
} idpair;

static int cmp_idpair(const void *a, const void *b)
{
	const idpair *x = a, *y = b;
	return (x->goid > y->goid) - (x->goid < y->goid);
}

long gs_vgroups_verdict(const gs_vgroups *gr, uint64_t goid)
{
	size_t lo = 0, hi = gr->nids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (gr->ids[mid] < goid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < gr->nids && gr->ids[lo] == goid ? (long)gr->ids_at[lo] : -1;
}

static void where(gs_rt *rt, uint64_t goid, const char **reason, const gs_frame **top)
{
	gs_goroutine *gr = gs_rt_find_goroutine(rt, goid);
	*top = gr ? gs_rt_user_frame(rt, gr) : NULL;
	*reason = !gr ? "" : *gs_rt_wait_reason(rt, gr) ? gs_rt_wait_reason(rt, gr)
		: gs_rt_status_name(gr->status);
}

/* Largest root cause first: most goroutines waiting on it, then largest, then oldest. */
static int cmp_group(const void *a, const void *b)
{
	const gs_vgroup *x = a, *y = b;
	if (x->blocks != y->blocks)
		return x->blocks > y->blocks ? -1 : 1;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return (x->members[0] > y->members[0]) - (x->members[0] < y->members[0]);
}

int gs_group_verdicts(gs_rt *rt, const gs_grpc *g, const gs_diagnosis *dg, gs_vgroups *out)
{
	size_t n = dg->n;
	memset(out, 0, sizeof *out);
	out->nids = n;
	out->ids = malloc((n ? n : 1) * sizeof *out->ids);
	out->ids_at = malloc((n ? n : 1) * sizeof *out->ids_at);
	out->store = malloc((n ? n : 1) * sizeof *out->store);
	out->group_of = malloc((n ? n : 1) * sizeof *out->group_of);
	idpair *ip = malloc((n ? n : 1) * sizeof *ip);
	vkey *k = calloc(n ? n : 1, sizeof *k);
	if (!out->ids || !out->ids_at || !out->store || !out->group_of || !ip || !k) {
		free(ip);
		free(k);
		gs_vgroups_free(out);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		ip[i] = (idpair){dg->v[i].goid, i};
	qsort(ip, n, sizeof *ip, cmp_idpair);
	for (size_t i = 0; i < n; i++) {
		out->ids[i] = ip[i].goid;
		out->ids_at[i] = ip[i].idx;
	}
	free(ip);

	for (size_t i = 0; i < n; i++) {
		const gs_verdict *v = &dg->v[i];
		vkey *x = &k[i];
		x->code = v->code;
		x->method = v->stream >= 0 ? gs_grpc_stream(g, (size_t)v->stream)->method : NULL;
		where(rt, v->goid, &x->reason, &x->top);
		x->func = x->top ? x->top->function : NULL;
		x->file = x->top ? x->top->file : NULL;
		x->line = x->top ? x->top->line : 0;
		if (v->nchain) {
			long w = gs_vgroups_verdict(out, v->chain[0]);
			const char *r;
			const gs_frame *t;
			where(rt, v->chain[0], &r, &t);
			x->ncode = w >= 0 ? dg->v[w].code : "?";
			x->nfunc = t ? t->function : NULL;
			x->nfile = t ? t->file : NULL;
			x->nline = t ? t->line : 0;
		} else if (v->npeer_chain) {
			x->ncode = "(peer)";
		}
		x->reached = v->reached;
		x->goid = v->goid;
		x->idx = i;
	}
	qsort(k, n, sizeof *k, cmp_vkey);

	size_t cap = 0;
	for (size_t i = 0; i < n; i++) {
		out->store[i] = k[i].idx;
		if (i == 0 || key_cmp(&k[i - 1], &k[i]) != 0) {
			if (out->n == cap) {
				gs_vgroup *v = gs_reallocarray(out->g, cap ? 2 * cap : 16, sizeof *v, NULL);
				if (!v) {
					free(k);
					gs_vgroups_free(out);
					return -1;
				}
				out->g = v;
				cap = cap ? 2 * cap : 16;
			}
			out->g[out->n++] = (gs_vgroup){&out->store[i], 0, 0, k[i].code, k[i].method,
						       k[i].reason, k[i].top, -1};
		}
		out->g[out->n - 1].n++;
		out->group_of[k[i].idx] = out->n - 1;
	}
	free(k);

	/* Each verdict waits on its own group and on the groups of its chain: counted once
	 * in each (stamp = the last verdict that counted there). */
	size_t *stamp = malloc((out->n ? out->n : 1) * sizeof *stamp);
	if (!stamp) {
		gs_vgroups_free(out);
		return -1;
	}
	for (size_t j = 0; j < out->n; j++)
		stamp[j] = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		const gs_verdict *v = &dg->v[i];
		size_t own = out->group_of[i];
		stamp[own] = i;
		out->g[own].blocks++;
		for (size_t c = 0; c < v->nchain; c++) {
			long w = gs_vgroups_verdict(out, v->chain[c]);
			if (w < 0 || stamp[out->group_of[w]] == i)
				continue;
			stamp[out->group_of[w]] = i;
			out->g[out->group_of[w]].blocks++;
		}
	}
	free(stamp);

	/* Order, then renumber: group_of and next follow the new positions. */
	if (out->n > 1) /* qsort takes no NULL base, even for nothing */
		qsort(out->g, out->n, sizeof *out->g, cmp_group);
	for (size_t j = 0; j < out->n; j++)
		for (size_t m = 0; m < out->g[j].n; m++)
			out->group_of[out->g[j].members[m]] = j;
	for (size_t j = 0; j < out->n; j++) {
		const gs_verdict *v = &dg->v[out->g[j].members[0]];
		long w = v->nchain ? gs_vgroups_verdict(out, v->chain[0]) : -1;
		out->g[j].next = w >= 0 ? (long)out->group_of[w] : -1;
	}
	return 0;
}

void gs_vgroups_free(gs_vgroups *gr)
{
	free(gr->g);
	free(gr->group_of);
	free(gr->store);
	free(gr->ids);
	free(gr->ids_at);
	memset(gr, 0, sizeof *gr);
}
