#include "why_blocked.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../diagnose/cycles.h"
#include "../diagnose/groups.h"
#include "../util/alloc.h"
#include "../goruntime/labels.h"
#include "../util/strbuf.h"
#include "findings.h"

/* Verdicts by goroutine id: chains name goroutines, and there can be tens of thousands. */
typedef struct vindex {
	uint64_t goid;
	const gs_verdict *v;
} vindex;

static int cmp_vindex(const void *a, const void *b)
{
	const vindex *x = a, *y = b;
	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

static vindex *index_verdicts(const gs_diagnosis *dg)
{
	vindex *ix = calloc(dg->n ? dg->n : 1, sizeof *ix);
	if (!ix) /* out of memory: the callers fail their output */
		return NULL;
	for (size_t i = 0; i < dg->n; i++)
		ix[i] = (vindex){dg->v[i].goid, &dg->v[i]};
	if (dg->n)
		qsort(ix, dg->n, sizeof *ix, cmp_vindex);
	return ix;
}

static const gs_verdict *find_in(const vindex *ix, size_t n, uint64_t goid)
{
	vindex key = {goid, NULL};
	const vindex *hit = bsearch(&key, ix, n, sizeof key, cmp_vindex);
	return hit ? hit->v : NULL;
}


static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* What hangs without a goroutine of its own (an abandoned stream): after the verdicts. */
static void text_findings(const gs_diagnosis *dg, gs_strbuf *out)
{
	if (!dg->nfindings)
		return;
	vindex *ix = index_verdicts(dg);
	if (!ix) {
		gs_strbuf_fail(out);
		return;
	}
	gs_strbuf_printf(out, "\n%zu finding%s without a goroutine of its own:\n", dg->nfindings,
			 dg->nfindings == 1 ? "" : "s");
	for (size_t i = 0; i < dg->nfindings; i++) {
		const gs_verdict *f = &dg->findings[i];
		char e1[1024];
		gs_strbuf_printf(out, "\n[F%zu] %s\n  %s\n", i + 1, f->code, GS_SAFE(f->summary, e1));
		for (size_t k = 0; k < f->nevidence; k++)
			gs_strbuf_printf(out, "    - %s\n", GS_SAFE(f->evidence[k], e1));
		if (f->nchain) {
			gs_strbuf_puts(out, "  concerns: ");
			for (size_t k = 0; k < f->nchain; k++) {
				const gs_verdict *c = find_in(ix, dg->n, f->chain[k]);
				gs_strbuf_printf(out, "%sgoroutine %llu (%s)", k ? ", " : "",
						 (unsigned long long)f->chain[k], c ? c->code : "?");
			}
			gs_strbuf_putc(out, '\n');
		}
	}
	free(ix);
}

static void json_findings(const gs_grpc *g, const gs_diagnosis *dg, gs_strbuf *out)
{
	for (size_t i = 0; i < dg->nfindings; i++) {
		const gs_verdict *f = &dg->findings[i];
		gs_strbuf_printf(out, "%s{\"finding\":\"%s\",\"summary\":", i ? "," : "", f->code);
		gs_strbuf_json_str(out, f->summary);
		gs_strbuf_puts(out, ",\"stream\":");
		gs_report_stream_json(g, f->stream >= 0 ? gs_grpc_stream(g, (size_t)f->stream) : NULL, out);
		gs_strbuf_puts(out, ",\"evidence\":[");
		for (size_t k = 0; k < f->nevidence; k++) {
			if (k)
				gs_strbuf_putc(out, ',');
			gs_strbuf_json_str(out, f->evidence[k]);
		}
		gs_strbuf_puts(out, "],\"goroutines\":[");
		for (size_t k = 0; k < f->nchain; k++)
			gs_strbuf_printf(out, "%s%llu", k ? "," : "", (unsigned long long)f->chain[k]);
		gs_strbuf_puts(out, "]}");
	}
}

static const gs_labels *labels_of(gs_rt *rt, uint64_t goid)
{
	return gs_rt_labels(rt, gs_rt_find_goroutine(rt, goid));
}

/* "  labels: k=v, ..." for one goroutine; nothing when it has none. */
static void text_labels(gs_rt *rt, uint64_t goid, const char *prefix, gs_strbuf *out)
{
	const gs_labels *l = labels_of(rt, goid);
	if (!l)
		return;
	gs_strbuf_puts(out, prefix);
	gs_labels_text(l, out);
	gs_strbuf_putc(out, '\n');
}

/* Verdicts asked for that are `leaked`: goroutines the runtime marked, not blocked on gRPC. */
static size_t count_leaked(const gs_diagnosis *dg)
{
	size_t n = 0;
	for (size_t i = 0; i < dg->n; i++)
		n += !dg->v[i].reached && strcmp(dg->v[i].code, "leaked") == 0;
	return n;
}

/* The set a snapshot's verdicts are rendered in: NULL when it is alone. */
typedef struct setctx {
	const gs_snapview *v;
	size_t n, self;
} setctx;

static void hop_text(const setctx *sc, const gs_hop *h, gs_strbuf *out)
{
	char e1[1024], e2[512];
	gs_strbuf_printf(out, "%s goroutine %llu (%s", GS_SAFE(sc->v[h->snap].core, e1),
			 (unsigned long long)h->goid, h->code ? h->code : "no verdict");
	if (h->stream >= 0) {
		const gs_stream *s = gs_grpc_stream(sc->v[h->snap].g, (size_t)h->stream);
		gs_strbuf_printf(out, ", %s stream %u %s", s->side == GS_CLIENT ? "client" : "server",
				 s->id, GS_SAFE(s->method, e2));
	}
	gs_strbuf_putc(out, ')');
}

/* Where a verdict's chain goes on in other processes: the goroutines it blames there, and
 * the whole path to the end of its chain. */
static void peer_lines(const setctx *sc, const gs_verdict *v, gs_strbuf *out)
{
	char e[1024];
	if (v->npeer_chain && (!sc || sc->n <= 2)) {
		gs_strbuf_puts(out, "  next in the peer: ");
		for (size_t k = 0; k < v->npeer_chain; k++)
			gs_strbuf_printf(out, "%sgoroutine %llu", k ? ", " : "",
					 (unsigned long long)v->peer_chain[k]);
		gs_strbuf_putc(out, '\n');
	} else if (v->npeer_chain) {
		gs_strbuf_puts(out, "  next in other processes: ");
		for (size_t k = 0; k < v->npeer_chain; k++)
			gs_strbuf_printf(out, "%s%s goroutine %llu", k ? ", " : "",
					 GS_SAFE(sc->v[v->peer_snap[k]].core, e),
					 (unsigned long long)v->peer_chain[k]);
		gs_strbuf_putc(out, '\n');
	}
	if (sc && v->nacross) {
		gs_strbuf_puts(out, "  chain across processes: ");
		for (size_t k = 0; k < v->nacross; k++) {
			if (k)
				gs_strbuf_puts(out, " -> ");
			hop_text(sc, &v->across[k], out);
		}
		gs_strbuf_putc(out, '\n');
	}
}

static void text(gs_rt *rt, const gs_grpc *g, const gs_diagnosis *dg, const setctx *sc,
		 gs_strbuf *out)
{
	vindex *ix = index_verdicts(dg);
	if (!ix) {
		gs_strbuf_fail(out);
		return;
	}
	for (size_t i = 0; i < dg->n; i++) {
		const gs_verdict *v = &dg->v[i];
		gs_goroutine *gr = gs_rt_find_goroutine(rt, v->goid);
		const gs_frame *top = gr ? gs_rt_user_frame(rt, gr) : NULL;
		if (i)
			gs_strbuf_putc(out, '\n');
		gs_strbuf_printf(out, "goroutine %llu: %s%s%s\n", (unsigned long long)v->goid, v->code,
				 v->reached ? "  (reached through a chain)" : "",
				 v->progressing ? " (progressing)" : "");
		char e1[1024], e2[1024];
		gs_strbuf_printf(out, "  %s\n", GS_SAFE(v->summary, e1));
		if (gr)
			gs_strbuf_printf(out, "  [%s] at %s %s:%d\n", *gs_rt_wait_reason(rt, gr)
					 ? gs_rt_wait_reason(rt, gr) : gs_rt_status_name(gr->status),
					 top ? GS_SAFE(top->function, e1) : "?",
					 top ? GS_SAFE(base(top->file), e2) : "?", top ? top->line : 0);
		text_labels(rt, v->goid, "  labels: ", out);
		for (size_t k = 0; k < v->nevidence; k++)
			gs_strbuf_printf(out, "    - %s\n", GS_SAFE(v->evidence[k], e1));
		if (v->nchain) {
			gs_strbuf_puts(out, "  next: ");
			for (size_t k = 0; k < v->nchain; k++) {
				const gs_verdict *c = find_in(ix, dg->n, v->chain[k]);
				gs_strbuf_printf(out, "%sgoroutine %llu (%s)%s", k ? ", " : "",
						 (unsigned long long)v->chain[k], c ? c->code : "?",
						 c && c->progressing ? " (progressing)" : "");
			}
			gs_strbuf_putc(out, '\n');
		}
		peer_lines(sc, v, out);
	}
	free(ix);
	gs_cycles cy;
	gs_find_cycles(g, dg, &cy);
	if (cy.nomem) /* the answer fails whole */
		gs_strbuf_fail(out);
	if (cy.n)
		gs_strbuf_putc(out, '\n');
	gs_report_cycles_text(g, dg, &cy, true, out); /* the count line's separator follows */
	gs_cycles_free(&cy);
	size_t counts = 0, leaked = count_leaked(dg);
	for (size_t i = 0; i < dg->n; i++)
		counts += !dg->v[i].reached;
	gs_strbuf_printf(out, "%s%zu goroutine%s blocked in or on gRPC, ", dg->n ? "\n" : "",
			 counts - leaked, counts - leaked == 1 ? "" : "s");
	if (leaked)
		gs_strbuf_printf(out, "%zu leaked, ", leaked);
	gs_strbuf_printf(out, "%zu reached through chains\n", dg->n - counts);
	text_findings(dg, out);
}

/* How many member ids a group's text names before "and N more". */
#define GROUP_IDS_SHOWN 8

/* The members' pprof labels: once when they all have the same, else per member. */
static void group_labels(gs_rt *rt, const gs_diagnosis *dg, const gs_vgroup *grp, gs_strbuf *out)
{
	const gs_labels *first = labels_of(rt, dg->v[grp->members[0]].goid);
	bool same = true, any = first != NULL;
	for (size_t m = 1; m < grp->n; m++) {
		const gs_labels *l = labels_of(rt, dg->v[grp->members[m]].goid);
		same = same && gs_labels_equal(first, l);
		any = any || l;
	}
	if (!any)
		return;
	if (same) {
		text_labels(rt, dg->v[grp->members[0]].goid, "  labels: ", out);
		return;
	}
	for (size_t m = 0, shown = 0; m < grp->n; m++) {
		uint64_t id = dg->v[grp->members[m]].goid;
		if (!labels_of(rt, id))
			continue;
		if (shown++ == GROUP_IDS_SHOWN) {
			gs_strbuf_puts(out, "  labels of more goroutines: --all shows each\n");
			break;
		}
		char prefix[64];
		snprintf(prefix, sizeof prefix, "  labels of goroutine %llu: ", (unsigned long long)id);
		text_labels(rt, id, prefix, out);
	}
}

/* Live sampling: members that moved between samples are chain steps, not ends. */
static void group_progressing(const gs_diagnosis *dg, const gs_vgroup *grp, gs_strbuf *out)
{
	size_t p = 0;
	for (size_t m = 0; m < grp->n; m++)
		p += dg->v[grp->members[m]].progressing;
	if (p == grp->n)
		gs_strbuf_puts(out, " (progressing)");
	else if (p)
		gs_strbuf_printf(out, " (%zu of them progressing)", p);
}

static void group_text(gs_rt *rt, const gs_diagnosis *dg, const gs_vgroups *gr, size_t j,
		       const setctx *sc, gs_strbuf *out)
{
	const gs_vgroup *grp = &gr->g[j];
	const gs_verdict *v = &dg->v[grp->members[0]];
	size_t more = grp->blocks - grp->n;
	gs_strbuf_printf(out, "[%zu] %s: %zu goroutine%s%s", j + 1, grp->code, grp->n,
			 grp->n == 1 ? "" : "s", v->reached ? " (reached through chains)" : "");
	group_progressing(dg, grp, out);
	if (more)
		gs_strbuf_printf(out, "; %zu more wait%s on %s", more, more == 1 ? "s" : "",
				 grp->n == 1 ? "it" : "them");
	gs_strbuf_puts(out, grp->n == 1 ? "\n  goroutine " : "\n  goroutines ");
	for (size_t m = 0; m < grp->n && m < GROUP_IDS_SHOWN; m++)
		gs_strbuf_printf(out, "%s%llu", m ? ", " : "",
				 (unsigned long long)dg->v[grp->members[m]].goid);
	if (grp->n > GROUP_IDS_SHOWN)
		gs_strbuf_printf(out, " and %zu more", grp->n - GROUP_IDS_SHOWN);
	gs_strbuf_putc(out, '\n');
	/* One member speaks for the group: its summary, location, evidence and chain. */
	if (grp->n > 1)
		gs_strbuf_printf(out, "  goroutine %llu: %s\n", (unsigned long long)v->goid,
				 v->summary);
	else
		gs_strbuf_printf(out, "  %s\n", v->summary);
	if (*grp->reason)
		gs_strbuf_printf(out, "  [%s] at %s %s:%d\n", grp->reason,
				 grp->top ? grp->top->function : "?",
				 grp->top ? base(grp->top->file) : "?", grp->top ? grp->top->line : 0);
	group_labels(rt, dg, grp, out);
	for (size_t k = 0; k < v->nevidence; k++)
		gs_strbuf_printf(out, "    - %s\n", v->evidence[k]);
	if (v->nchain) {
		gs_strbuf_puts(out, "  next: ");
		for (size_t k = 0; k < v->nchain; k++) {
			long w = gs_vgroups_verdict(gr, v->chain[k]);
			gs_strbuf_printf(out, "%sgoroutine %llu (%s", k ? ", " : "",
					 (unsigned long long)v->chain[k], w >= 0 ? dg->v[w].code : "?");
			if (w >= 0)
				gs_strbuf_printf(out, ", group %zu", gr->group_of[w] + 1);
			gs_strbuf_puts(out, w >= 0 && dg->v[w].progressing ? ") (progressing)" : ")");
		}
		gs_strbuf_putc(out, '\n');
	}
	peer_lines(sc, v, out);
}

/* Grouped by root cause: as many blocks as groups, whatever the number of verdicts. */
static void text_grouped(gs_rt *rt, const gs_grpc *g, const gs_diagnosis *dg, const setctx *sc,
			 gs_strbuf *out)
{
	gs_vgroups own, *grp = dg->groups; /* the diagnosis' when it grouped (brief verdicts) */
	if (!grp) {
		if (gs_group_verdicts(rt, g, dg, &own) < 0) {
			gs_strbuf_fail(out);
			return;
		}
		grp = &own;
	}
	const gs_vgroups gr = *grp;
	for (size_t j = 0; j < gr.n; j++) {
		if (j)
			gs_strbuf_putc(out, '\n');
		group_text(rt, dg, &gr, j, sc, out);
	}
	gs_cycles cy;
	gs_find_cycles(g, dg, &cy);
	if (cy.nomem) /* the answer fails whole */
		gs_strbuf_fail(out);
	if (cy.n) {
		gs_strbuf_putc(out, '\n');
		gs_report_cycles_text(g, dg, &cy, false, out); /* the count line's separator follows */
	}
	gs_cycles_free(&cy);
	size_t counts = 0, leaked = count_leaked(dg);
	for (size_t i = 0; i < dg->n; i++)
		counts += !dg->v[i].reached;
	gs_strbuf_printf(out, "%s%zu goroutine%s blocked in or on gRPC, ", dg->n ? "\n" : "",
			 counts - leaked, counts - leaked == 1 ? "" : "s");
	if (leaked)
		gs_strbuf_printf(out, "%zu leaked, ", leaked);
	gs_strbuf_printf(out, "%zu reached through chains; %zu group%s (--all for every verdict)\n",
			 dg->n - counts, gr.n, gr.n == 1 ? "" : "s");
	if (grp == &own)
		gs_vgroups_free(&own);
	text_findings(dg, out);
}

static void json_groups(gs_rt *rt, const gs_grpc *g, const gs_diagnosis *dg, gs_strbuf *out)
{
	gs_vgroups gr;
	if (gs_group_verdicts(rt, g, dg, &gr) < 0) {
		gs_strbuf_fail(out);
		return;
	}
	for (size_t j = 0; j < gr.n; j++) {
		const gs_vgroup *grp = &gr.g[j];
		const gs_verdict *v = &dg->v[grp->members[0]];
		gs_strbuf_printf(out, "%s{\"verdict\":\"%s\",\"count\":%zu,\"blocks\":%zu,\"goroutines\":[",
				 j ? "," : "", grp->code, grp->n, grp->blocks);
		for (size_t m = 0; m < grp->n; m++)
			gs_strbuf_printf(out, "%s%llu", m ? "," : "",
					 (unsigned long long)dg->v[grp->members[m]].goid);
		gs_strbuf_puts(out, "],\"method\":");
		if (grp->method)
			gs_strbuf_json_str(out, grp->method);
		else
			gs_strbuf_puts(out, "null");
		gs_strbuf_puts(out, ",\"summary\":");
		gs_strbuf_json_str(out, v->summary);
		gs_strbuf_puts(out, ",\"wait_reason\":");
		gs_strbuf_json_str(out, grp->reason);
		gs_strbuf_puts(out, ",\"location\":");
		if (grp->top) {
			gs_strbuf_puts(out, "{\"function\":");
			gs_strbuf_json_str(out, grp->top->function);
			gs_strbuf_puts(out, ",\"file\":");
			gs_strbuf_json_str(out, grp->top->file);
			gs_strbuf_printf(out, ",\"line\":%d}", grp->top->line);
		} else {
			gs_strbuf_puts(out, "null");
		}
		if (grp->next >= 0)
			gs_strbuf_printf(out, ",\"next_group\":%ld", grp->next);
		else
			gs_strbuf_puts(out, ",\"next_group\":null");
		gs_strbuf_printf(out, ",\"reached\":%s}", v->reached ? "true" : "false");
	}
	gs_vgroups_free(&gr);
}

static void json_across(const setctx *sc, const gs_verdict *v, gs_strbuf *out)
{
	gs_strbuf_puts(out, ",\"across\":[");
	for (size_t k = 0; k < v->nacross; k++) {
		const gs_hop *h = &v->across[k];
		gs_strbuf_puts(out, k ? ",{\"core\":" : "{\"core\":");
		gs_strbuf_json_str(out, sc->v[h->snap].core);
		gs_strbuf_printf(out, ",\"snapshot\":%zu,\"goroutine\":%llu,\"verdict\":", h->snap,
				 (unsigned long long)h->goid);
		if (h->code)
			gs_strbuf_printf(out, "\"%s\"", h->code);
		else
			gs_strbuf_puts(out, "null");
		gs_strbuf_puts(out, ",\"method\":");
		if (h->stream >= 0)
			gs_strbuf_json_str(out, gs_grpc_stream(sc->v[h->snap].g, (size_t)h->stream)->method);
		else
			gs_strbuf_puts(out, "null");
		gs_strbuf_putc(out, '}');
	}
	gs_strbuf_putc(out, ']');
}

static void json_verdicts(gs_rt *rt, const gs_grpc *g, const gs_diagnosis *dg, const setctx *sc,
			  gs_strbuf *out)
{
	for (size_t i = 0; i < dg->n; i++) {
		const gs_verdict *v = &dg->v[i];
		gs_strbuf_printf(out, "%s{\"goroutine\":%llu,\"verdict\":\"%s\",\"summary\":", i ? "," : "",
				 (unsigned long long)v->goid, v->code);
		gs_strbuf_json_str(out, v->summary);
		gs_strbuf_puts(out, ",\"stream\":");
		gs_report_stream_json(g, v->stream >= 0 ? gs_grpc_stream(g, (size_t)v->stream) : NULL, out);
		gs_strbuf_puts(out, ",\"evidence\":[");
		for (size_t k = 0; k < v->nevidence; k++) {
			if (k)
				gs_strbuf_putc(out, ',');
			gs_strbuf_json_str(out, v->evidence[k]);
		}
		gs_strbuf_puts(out, "],\"chain\":[");
		for (size_t k = 0; k < v->nchain; k++)
			gs_strbuf_printf(out, "%s%llu", k ? "," : "", (unsigned long long)v->chain[k]);
		gs_strbuf_puts(out, "],\"peer_chain\":[");
		for (size_t k = 0; k < v->npeer_chain; k++)
			gs_strbuf_printf(out, "%s%llu", k ? "," : "", (unsigned long long)v->peer_chain[k]);
		gs_strbuf_putc(out, ']');
		if (sc)
			json_across(sc, v, out);
		gs_strbuf_printf(out, ",\"reached\":%s", v->reached ? "true" : "false");
		if (v->progressing) /* live sampling only: absent otherwise */
			gs_strbuf_puts(out, ",\"progressing\":true");
		const gs_labels *l = labels_of(rt, v->goid);
		if (l) { /* absent when the goroutine has none */
			gs_strbuf_puts(out, ",\"labels\":");
			gs_labels_json(l, out);
		}
		gs_strbuf_putc(out, '}');
	}
}

/* The cycles of the wait-for graph, elements of "findings" (more: others precede them). */
static void json_cycles(const gs_grpc *g, const gs_diagnosis *dg, bool more, gs_strbuf *out)
{
	gs_cycles cy;
	gs_find_cycles(g, dg, &cy);
	if (cy.nomem) /* the answer fails whole */
		gs_strbuf_fail(out);
	gs_report_cycles_json(g, dg, &cy, more, out);
	gs_cycles_free(&cy);
}

static void json(gs_rt *rt, const gs_grpc *g, const gs_diagnosis *dg, gs_strbuf *out)
{
	gs_strbuf_puts(out, "{\"schema\":\"grpcscope/1\",\"command\":\"why-blocked\",\"verdicts\":[");
	json_verdicts(rt, g, dg, NULL, out);
	gs_strbuf_puts(out, "],\"groups\":[");
	json_groups(rt, g, dg, out);
	gs_strbuf_puts(out, "],\"findings\":[");
	json_findings(g, dg, out);
	json_cycles(g, dg, dg->nfindings > 0, out);
	gs_strbuf_puts(out, "]}\n");
}

/* The nodes and edges of one snapshot; ids start with pfx (a set's process, "" alone) and
 * lines with ind. */
static void dot_body(const gs_grpc *g, const gs_diagnosis *dg, const char *pfx, const char *ind,
		     gs_strbuf *out)
{
	vindex *ix = index_verdicts(dg);
	gs_cycles cy;
	gs_find_cycles(g, dg, &cy);
	if (!ix || cy.nomem) { /* the answer fails whole */
		gs_strbuf_fail(out);
		free(ix);
		gs_cycles_free(&cy);
		return;
	}
	for (size_t i = 0; i < dg->n; i++) {
		const gs_verdict *v = &dg->v[i];
		gs_strbuf_printf(out, "%s  %sg%llu [shape=box,label=\"goroutine %llu\\n%s\"];\n", ind,
				 pfx, (unsigned long long)v->goid, (unsigned long long)v->goid, v->code);
		if (v->stream >= 0) {
			const gs_stream *s = gs_grpc_stream(g, (size_t)v->stream);
			char lbl[512];
			gs_strbuf_printf(out, "%s  %ss%llx [shape=ellipse,label=\"%s stream %u\\n%s\"];\n",
					 ind, pfx, (unsigned long long)s->addr, s->side == GS_CLIENT ? "client" : "server",
					 s->id, gs_text_safe(s->method, lbl, sizeof lbl, true));
			gs_strbuf_printf(out, "%s  %sg%llu -> %ss%llx [label=\"waits on\"];\n", ind, pfx,
					 (unsigned long long)v->goid, pfx, (unsigned long long)s->addr);
			long p = dg->peer[v->stream];
			if (p >= 0)
				gs_strbuf_printf(out, "%s  %ss%llx -> %ss%llx [style=dashed,label=\"peer\"];\n",
						 ind, pfx, (unsigned long long)s->addr, pfx,
						 (unsigned long long)gs_grpc_stream(g, (size_t)p)->addr);
		}
		for (size_t k = 0; k < v->nchain; k++) {
			const gs_verdict *wv = find_in(ix, dg->n, v->chain[k]);
			bool cyc = wv && gs_cycles_edge(&cy, i, (size_t)(wv - dg->v));
			gs_strbuf_printf(out, "%s  %sg%llu -> %sg%llu [label=\"blames\"%s];\n", ind, pfx,
					 (unsigned long long)v->goid, pfx, (unsigned long long)v->chain[k],
					 cyc ? ",color=red,penwidth=2,xlabel=\"cycle\"" : "");
		}
	}
	free(ix);
	gs_cycles_free(&cy);
}

static void dot(const gs_grpc *g, const gs_diagnosis *dg, gs_strbuf *out)
{
	gs_strbuf_puts(out, "digraph grpcscope {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
	dot_body(g, dg, "", "", out);
	gs_strbuf_puts(out, "}\n");
}

/* Whether the hop from verdict v of snapshot a to goroutine goid of snapshot b closes a
 * cycle across processes: b's path across comes back to v. */
static bool across_cycle(const gs_diagnosis *db, const vindex *ixb, size_t a, const gs_verdict *v,
			 uint64_t goid)
{
	const gs_verdict *x = find_in(ixb, db->n, goid);
	for (size_t k = 0; x && k < x->nacross; k++)
		if (x->across[k].snap == a && x->across[k].goid == v->goid)
			return true;
	return false;
}

/* The streams of snapshot i that verdicts of other snapshots are paired with: declared in
 * i's cluster too (a node belongs to the first subgraph that names it). */
static void dot_paired_streams(const gs_snapview *set, size_t n, size_t i, gs_strbuf *out)
{
	char lbl[512];
	for (size_t j = 0; j < n; j++) {
		const gs_diagnosis *dg = set[j].dg;
		for (size_t k = 0; j != i && k < dg->n; k++) {
			long si = dg->v[k].stream;
			if (si < 0 || dg->rpeer[si] < 0 || dg->rsnap[si] != (int32_t)i)
				continue;
			const gs_stream *s = gs_grpc_stream(set[i].g, (size_t)dg->rpeer[si]);
			gs_strbuf_printf(out, "    p%zu_s%llx [shape=ellipse,label=\"%s stream %u\\n%s\"];\n",
					 i, (unsigned long long)s->addr, s->side == GS_CLIENT ? "client" : "server",
					 s->id, gs_text_safe(s->method, lbl, sizeof lbl, true));
		}
	}
}

/* One graph, a cluster per process; the edges between processes after every cluster (an
 * edge names its nodes, and Graphviz places a node in the first subgraph that does). */
static void dot_set(const gs_snapview *set, size_t n, gs_strbuf *out)
{
	gs_strbuf_puts(out, "digraph grpcscope {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
	char pfx[32], lbl[1024];
	vindex **ix = calloc(n, sizeof *ix);
	bool ok = ix != NULL;
	for (size_t i = 0; ok && i < n; i++)
		ok = (ix[i] = index_verdicts(set[i].dg)) != NULL;
	if (!ok) { /* the answer fails whole */
		gs_strbuf_fail(out);
		for (size_t i = 0; ix && i < n; i++)
			free(ix[i]);
		free(ix);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(pfx, sizeof pfx, "p%zu_", i);
		gs_strbuf_printf(out, "  subgraph cluster_p%zu {\n    label=\"%s: %s\";\n", i,
				 i ? "peer" : "primary", gs_text_safe(set[i].core, lbl, sizeof lbl, true));
		dot_body(set[i].g, set[i].dg, pfx, "  ", out);
		dot_paired_streams(set, n, i, out);
		gs_strbuf_puts(out, "  }\n");
	}
	for (size_t i = 0; i < n; i++) {
		const gs_diagnosis *dg = set[i].dg;
		for (size_t j = 0; j < dg->n; j++) {
			const gs_verdict *v = &dg->v[j];
			long si = v->stream;
			/* a connection once, from its client's end */
			if (si >= 0 && dg->rpeer[si] >= 0 &&
			    gs_grpc_stream(set[i].g, (size_t)si)->side == GS_CLIENT) {
				int32_t r = dg->rsnap[si];
				gs_strbuf_printf(out, "  p%zu_s%llx -> p%d_s%llx [style=dashed,label=\"peer\"];\n",
						 i, (unsigned long long)gs_grpc_stream(set[i].g, (size_t)si)->addr,
						 (int)r, (unsigned long long)gs_grpc_stream(set[r].g,
						 (size_t)dg->rpeer[si])->addr);
			}
			for (size_t k = 0; k < v->npeer_chain; k++) {
				size_t r = v->peer_snap[k];
				bool cyc = across_cycle(set[r].dg, ix[r], i, v, v->peer_chain[k]);
				gs_strbuf_printf(out, "  p%zu_g%llu -> p%zu_g%llu [label=\"blames\",style=bold%s];\n",
						 i, (unsigned long long)v->goid, r,
						 (unsigned long long)v->peer_chain[k],
						 cyc ? ",color=red,penwidth=2,xlabel=\"cycle\"" : "");
			}
		}
	}
	gs_strbuf_puts(out, "}\n");
	for (size_t i = 0; i < n; i++)
		free(ix[i]);
	free(ix);
}

void gs_report_why_blocked(gs_rt *rt, const gs_grpc *g, const gs_diagnosis *dg,
			   enum gs_format fmt, gs_strbuf *out)
{
	if (fmt == GS_FMT_JSON)
		json(rt, g, dg, out);
	else if (fmt == GS_FMT_DOT)
		dot(g, dg, out);
	else if (fmt == GS_FMT_TEXT_ALL)
		text(rt, g, dg, NULL, out);
	else
		text_grouped(rt, g, dg, NULL, out);
}

static void json_snapshot(const gs_snapview *v, const setctx *sc, gs_strbuf *out)
{
	gs_strbuf_puts(out, "\"verdicts\":[");
	json_verdicts(v->rt, v->g, v->dg, sc, out);
	gs_strbuf_puts(out, "],\"groups\":[");
	json_groups(v->rt, v->g, v->dg, out);
	gs_strbuf_puts(out, "],\"findings\":[");
	json_findings(v->g, v->dg, out);
	json_cycles(v->g, v->dg, v->dg->nfindings > 0, out);
	gs_strbuf_putc(out, ']');
}

static void json_set(const gs_snapview *set, size_t n, gs_strbuf *out)
{
	setctx sc = {set, n, 0};
	gs_strbuf_puts(out, "{\"schema\":\"grpcscope/1\",\"command\":\"why-blocked\",");
	json_snapshot(&set[0], &sc, out);
	gs_strbuf_puts(out, ",\"snapshots\":[");
	for (size_t i = 0; i < n; i++) {
		gs_strbuf_printf(out, "%s{\"index\":%zu,\"role\":\"%s\",\"core\":", i ? "," : "", i,
				 i ? "peer" : "primary");
		gs_strbuf_json_str(out, set[i].core);
		gs_strbuf_puts(out, ",\"exe\":");
		if (set[i].exe)
			gs_strbuf_json_str(out, set[i].exe);
		else
			gs_strbuf_puts(out, "null");
		gs_strbuf_putc(out, '}');
	}
	gs_strbuf_puts(out, "],\"peers\":[");
	for (size_t i = 1; i < n; i++) {
		sc.self = i;
		gs_strbuf_printf(out, "%s{\"snapshot\":%zu,\"core\":", i > 1 ? "," : "", i);
		gs_strbuf_json_str(out, set[i].core);
		gs_strbuf_putc(out, ',');
		json_snapshot(&set[i], &sc, out);
		gs_strbuf_putc(out, '}');
	}
	/* The keys of one peer, as before several were followed: the first peer. */
	sc.self = 1;
	gs_strbuf_puts(out, "],\"peer\":");
	gs_strbuf_json_str(out, set[1].core);
	gs_strbuf_puts(out, ",\"peer_verdicts\":[");
	json_verdicts(set[1].rt, set[1].g, set[1].dg, &sc, out);
	gs_strbuf_puts(out, "],\"peer_groups\":[");
	json_groups(set[1].rt, set[1].g, set[1].dg, out);
	gs_strbuf_puts(out, "],\"peer_findings\":[");
	json_findings(set[1].g, set[1].dg, out);
	json_cycles(set[1].g, set[1].dg, set[1].dg->nfindings > 0, out);
	gs_strbuf_puts(out, "]}\n");
}

void gs_report_why_blocked_set(const gs_snapview *set, size_t n, enum gs_format fmt,
			       gs_strbuf *out)
{
	if (n < 2) {
		gs_report_why_blocked(set[0].rt, set[0].g, set[0].dg, fmt, out);
		return;
	}
	if (fmt == GS_FMT_JSON) {
		json_set(set, n, out);
		return;
	}
	if (fmt == GS_FMT_DOT) {
		dot_set(set, n, out);
		return;
	}
	char e[1024];
	for (size_t i = 0; i < n; i++) {
		setctx sc = {set, n, i};
		gs_strbuf_printf(out, "%s=== %s snapshot %s\n\n", i ? "\n" : "", i ? "peer" : "primary",
				 GS_SAFE(set[i].core, e));
		if (fmt == GS_FMT_TEXT_ALL)
			text(set[i].rt, set[i].g, set[i].dg, &sc, out);
		else
			text_grouped(set[i].rt, set[i].g, set[i].dg, &sc, out);
	}
}
