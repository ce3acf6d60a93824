#include "html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../diagnose/cycles.h"
#include "../util/alloc.h"
#include "findings.h"
#include "grpcscope.h"
#include "liveness.h"
#include "../goruntime/labels.h"
#include "streams.h"
#include "svg_graph.h"

#define esc gs_html_esc

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
	"h1{font-size:1.4em}h2{border-bottom:1px solid #ccc;margin-top:2em}"
	"code,pre,.mono,td{font-family:monospace;font-size:12px}"
	"table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}td{white-space:nowrap}"
	"th{background:#f0f0f0;cursor:pointer;user-select:none}"
	"th[aria-sort=ascending]::after{content:' \\25B2'}th[aria-sort=descending]::after{content:' \\25BC'}"
	"#facts th{cursor:default}.group{border:1px solid #ccc;border-radius:6px;padding:.5em 1em;margin:1em 0}"
	".group h3{margin:.2em 0}.code{font-weight:bold;color:#a00}.ids{word-break:break-all}"
	"#graph{overflow:auto;max-height:80vh;border:1px solid #eee}"
	"details.ggroup{margin:.3em 0}details.ggroup pre{background:#f8f8f8;padding:.5em}";

/* Sorting and filtering; the fragment (#filter=TEXT&sort=KEY&desc=1) applies both on load. */
static const char script[] =
	"(function(){var t=document.getElementById('streams');if(!t)return;"
	"var tb=t.tBodies[0],f=document.getElementById('filter'),shown=document.getElementById('shown'),"
	"ths=t.tHead.rows[0].cells,rows=Array.prototype.slice.call(tb.rows),cur=null,desc=false;"
	"function apply(){var q=f.value.toLowerCase(),n=0;rows.forEach(function(r){"
	"var h=q!==''&&r.textContent.toLowerCase().indexOf(q)<0;r.hidden=h;if(!h)n++;});shown.textContent=n;}"
	"function sortBy(k,d){var c=-1;for(var i=0;i<ths.length;i++){ths[i].removeAttribute('aria-sort');"
	"if(ths[i].dataset.key===k)c=i;}if(c<0)return;var num=ths[c].dataset.num==='1';"
	"rows.sort(function(a,b){var x=a.cells[c].textContent,y=b.cells[c].textContent;"
	"var r=num?(parseFloat(x)||0)-(parseFloat(y)||0):(x<y?-1:x>y?1:0);return d?-r:r;});"
	"var fr=document.createDocumentFragment();rows.forEach(function(r){fr.appendChild(r);});"
	"tb.appendChild(fr);ths[c].setAttribute('aria-sort',d?'descending':'ascending');cur=k;desc=d;}"
	"for(var i=0;i<ths.length;i++)ths[i].addEventListener('click',function(){"
	"var k=this.dataset.key;sortBy(k,cur===k?!desc:false);});"
	"f.addEventListener('input',apply);"
	"var p=new URLSearchParams(location.hash.replace(/^#/,''));"
	"if(p.get('filter')!==null)f.value=p.get('filter');"
	"if(p.get('sort'))sortBy(p.get('sort'),p.get('desc')==='1');apply();})();";

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void fact(gs_strbuf *out, const char *k, const char *v)
{
	gs_strbuf_printf(out, "<tr><th>%s</th><td>", k);
	esc(out, v && *v ? v : "unknown");
	gs_strbuf_puts(out, "</td></tr>\n");
}

static void facts(const gs_html_input *in, gs_strbuf *out)
{
	const gs_info *f = in->info;
	char buf[64];
	gs_strbuf_puts(out, "<h2 id=\"snapshot\">Snapshot</h2>\n<table id=\"facts\">\n");
	fact(out, "snapshot", f->target);
	fact(out, "executable", f->exe);
	fact(out, "taken", in->taken);
	fact(out, "Go", f->go_version);
	fact(out, "grpc-go", f->grpc_version);
	fact(out, "Go build id", f->go_build_id);
	fact(out, "GNU build id", f->gnu_build_id);
	fact(out, "PIE", f->pie ? "yes" : "no");
	snprintf(buf, sizeof buf, "%zu", f->threads);
	fact(out, "threads", buf);
	snprintf(buf, sizeof buf, "%zu", gs_rt_ngoroutines(in->rt));
	fact(out, "goroutines", buf);
	snprintf(buf, sizeof buf, "%zu transports, %zu streams", gs_grpc_ntransports(in->g),
		 gs_grpc_nstreams(in->g));
	fact(out, "gRPC", buf);
	snprintf(buf, sizeof buf, "%zu verdicts in %zu groups", in->dg->n, in->groups->n);
	fact(out, "blocked", buf);
	fact(out, "types from", f->types_from);
	if (f->missing_bytes) {
		snprintf(buf, sizeof buf, "%llu bytes of memory missing (truncated core)",
			 (unsigned long long)f->missing_bytes);
		fact(out, "warning", buf);
	}
	for (size_t i = 0; i < in->npeers; i++)
		fact(out, "peer snapshot", in->peer_names[i]);
	snprintf(buf, sizeof buf, "grpcscope %s", GS_VERSION);
	fact(out, "made by", buf);
	gs_strbuf_puts(out, "</table>\n");
}

/* The pprof labels of the n goroutines id(ctx, 0..n-1) that have any, as a list; nothing
 * when none has. */
static void labels_html(gs_rt *rt, size_t n, uint64_t (*id)(const void *, size_t),
			const void *ctx, gs_strbuf *out)
{
	bool open = false;
	gs_strbuf t;
	gs_strbuf_init(&t);
	for (size_t m = 0; rt && m < n; m++) {
		const gs_labels *l = gs_rt_labels(rt, gs_rt_find_goroutine(rt, id(ctx, m)));
		if (!l)
			continue;
		if (!open)
			gs_strbuf_puts(out, "<ul class=\"labels mono\">");
		open = true;
		t.len = 0;
		gs_labels_text(l, &t);
		gs_strbuf_putc(&t, 0);
		gs_strbuf_printf(out, "<li>goroutine %llu: ", (unsigned long long)id(ctx, m));
		esc(out, t.buf);
		gs_strbuf_puts(out, "</li>");
	}
	if (open)
		gs_strbuf_puts(out, "</ul>\n");
	gs_strbuf_free(&t);
}

typedef struct vmembers {
	const gs_diagnosis *dg;
	const gs_vgroup *grp;
} vmembers;

static uint64_t vmember_id(const void *ctx, size_t m)
{
	const vmembers *vm = ctx;
	return vm->dg->v[vm->grp->members[m]].goid;
}

/* names: every snapshot's name by its index in the set, NULL-terminated (NULL alone), for
 * chains across. */
static void group_html(gs_rt *rt, const gs_diagnosis *dg, const gs_vgroups *gr, size_t j,
		       const char *prefix, const char *const *names, gs_strbuf *out)
{
	const gs_vgroup *grp = &gr->g[j];
	const gs_verdict *v = &dg->v[grp->members[0]];
	gs_strbuf_printf(out, "<div class=\"group\" id=\"%sgroup-%zu\" data-verdict=\"%s\" data-count=\"%zu\">"
			      "<h3>[%zu] <span class=\"code\">%s</span>: %zu goroutine%s",
			 prefix, j + 1, grp->code, grp->n, j + 1, grp->code, grp->n, grp->n == 1 ? "" : "s");
	if (grp->blocks > grp->n)
		gs_strbuf_printf(out, "; %zu more wait%s on %s", grp->blocks - grp->n,
				 grp->blocks - grp->n == 1 ? "s" : "", grp->n == 1 ? "it" : "them");
	gs_strbuf_puts(out, "</h3>\n<p class=\"summary\">");
	if (grp->n > 1)
		gs_strbuf_printf(out, "goroutine %llu: ", (unsigned long long)v->goid);
	esc(out, v->summary);
	gs_strbuf_puts(out, "</p>\n");
	if (*grp->reason) {
		gs_strbuf_puts(out, "<p class=\"where mono\">[");
		esc(out, grp->reason);
		gs_strbuf_puts(out, "] at ");
		esc(out, grp->top ? grp->top->function : "?");
		gs_strbuf_putc(out, ' ');
		esc(out, grp->top ? base(grp->top->file) : "?");
		gs_strbuf_printf(out, ":%d</p>\n", grp->top ? grp->top->line : 0);
	}
	gs_strbuf_puts(out, "<ul class=\"evidence\">");
	for (size_t k = 0; k < v->nevidence; k++) {
		gs_strbuf_puts(out, "<li>");
		esc(out, v->evidence[k]);
		gs_strbuf_puts(out, "</li>");
	}
	gs_strbuf_puts(out, "</ul>\n");
	vmembers vm = {dg, grp};
	labels_html(rt, grp->n, vmember_id, &vm, out);
	if (grp->next >= 0)
		gs_strbuf_printf(out, "<p class=\"next\">next: goroutine %llu in <a href=\"#%sgroup-%ld\">group %ld</a></p>\n",
				 (unsigned long long)v->chain[0], prefix, grp->next + 1, grp->next + 1);
	if (v->npeer_chain && names && names[1] && names[2]) { /* several peers: which one */
		gs_strbuf_puts(out, "<p class=\"next\">next in ");
		esc(out, names[v->peer_snap[0]]);
		gs_strbuf_printf(out, ": goroutine %llu</p>\n", (unsigned long long)v->peer_chain[0]);
	} else if (v->npeer_chain) {
		gs_strbuf_printf(out, "<p class=\"next\">next in the peer: goroutine %llu</p>\n",
				 (unsigned long long)v->peer_chain[0]);
	}
	if (v->nacross && names) {
		gs_strbuf_puts(out, "<p class=\"across mono\">chain across processes: ");
		for (size_t k = 0; k < v->nacross; k++) {
			const gs_hop *h = &v->across[k];
			gs_strbuf_puts(out, k ? " &rarr; " : "");
			esc(out, names[h->snap]);
			gs_strbuf_printf(out, " goroutine %llu (%s)", (unsigned long long)h->goid,
					 h->code ? h->code : "no verdict");
		}
		gs_strbuf_puts(out, "</p>\n");
	}
	/* A few ids in sight; many behind a disclosure. */
	bool fold = grp->n > 8;
	if (fold)
		gs_strbuf_printf(out, "<details><summary>%zu goroutines</summary>", grp->n);
	gs_strbuf_printf(out, "<p class=\"ids mono\">%s", fold ? "" : grp->n == 1 ? "goroutine " : "goroutines ");
	for (size_t m = 0; m < grp->n; m++)
		gs_strbuf_printf(out, "%s%llu", m ? " " : "",
				 (unsigned long long)dg->v[grp->members[m]].goid);
	gs_strbuf_puts(out, fold ? "</p></details></div>\n" : "</p></div>\n");
}

/* The ids of peer i's elements start with "peer-" (the first, as when one peer was all),
 * then "peer2-", "peer3-", ... */
static void peer_prefix(char *buf, size_t cap, size_t i)
{
	if (i)
		snprintf(buf, cap, "peer%zu-", i + 1);
	else
		snprintf(buf, cap, "peer-");
}

static void causes(const gs_html_input *in, gs_strbuf *out)
{
	gs_strbuf_printf(out, "<h2 id=\"causes\">Root causes</h2>\n<p>%zu goroutines blocked in or on gRPC, "
			      "in %zu groups of identical verdicts; the groups most goroutines wait on "
			      "(directly or through chains) first.</p>\n<div id=\"groups\">\n",
			 in->dg->n, in->groups->n);
	const char **names = NULL;
	if (in->npeers) {
		names = gs_calloc(in->npeers + 2, sizeof *names, NULL); /* NULL-terminated */
		if (!names) {
			gs_strbuf_fail(out);
			return;
		}
		names[0] = in->info->target;
		for (size_t i = 0; i < in->npeers; i++)
			names[i + 1] = in->peer_names[i];
	}
	for (size_t j = 0; j < in->groups->n; j++)
		group_html(in->rt, in->dg, in->groups, j, "", names, out);
	gs_strbuf_puts(out, "</div>\n");
	for (size_t i = 0; i < in->npeers; i++) {
		char pfx[32];
		peer_prefix(pfx, sizeof pfx, i);
		gs_strbuf_printf(out, "<h2 id=\"%scauses\">Root causes in the peer ", pfx);
		esc(out, in->peer_names[i]);
		gs_strbuf_printf(out, "</h2>\n<div id=\"%sgroups\" class=\"peer-groups\">\n", pfx);
		for (size_t j = 0; j < in->pgroups[i].n; j++)
			group_html(in->prts[i], &in->pdg[i], &in->pgroups[i], j, pfx, names, out);
		gs_strbuf_puts(out, "</div>\n");
	}
	free(names);
}

/* The cycles of the wait-for graph, each once: the first few in full, the rest folded, by
 * their goroutines. */
#define CYCLES_IN_FULL 20

static void cycles(const gs_html_input *in, const gs_cycles *cy, gs_strbuf *out)
{
	if (!cy->n)
		return;
	gs_strbuf t;
	gs_strbuf_init(&t);
	gs_strbuf_printf(out, "<h2 id=\"cycles\">Cycles in the wait-for graph</h2>\n<p>%zu cycle%s: "
			      "each goroutine waits on the next; none moves until something outside "
			      "the cycle breaks it (a deadline, a cancel, a closed connection).</p>\n"
			      "<div id=\"cycle-list\">\n", cy->n, cy->n == 1 ? "" : "s");
	for (size_t i = 0; i < cy->n && i < CYCLES_IN_FULL; i++) {
		const gs_cycle *c = &cy->c[i];
		gs_strbuf_printf(out, "<div class=\"cycle\" data-size=\"%zu\"><h3>cycle %zu: ", c->n, i + 1);
		t.len = 0;
		gs_report_cycle_line(in->dg, c, &t);
		gs_strbuf_putc(&t, '\0');
		esc(out, t.buf);
		gs_strbuf_puts(out, "</h3><ul class=\"evidence\">");
		for (size_t k = 0; k < c->n; k++) {
			t.len = 0;
			gs_report_cycle_step(in->g, in->dg, c->members[k], &t);
			gs_strbuf_putc(&t, '\0');
			gs_strbuf_puts(out, "<li>");
			esc(out, t.buf);
			gs_strbuf_puts(out, "</li>");
		}
		gs_strbuf_puts(out, "</ul></div>\n");
	}
	/* The rest by their goroutines only: a large core has tens of thousands. */
	if (cy->n > CYCLES_IN_FULL)
		gs_strbuf_printf(out, "<details><summary>%zu more cycles</summary><ul class=\"cycle-ids mono\">",
				 cy->n - CYCLES_IN_FULL);
	for (size_t i = CYCLES_IN_FULL; i < cy->n; i++) {
		const gs_cycle *c = &cy->c[i];
		gs_strbuf_puts(out, "<li>");
		for (size_t k = 0; k <= c->n; k++)
			gs_strbuf_printf(out, "%s%llu", k ? " -&gt; " : "",
					 (unsigned long long)in->dg->v[c->members[k % c->n]].goid);
		gs_strbuf_puts(out, "</li>");
	}
	gs_strbuf_puts(out, cy->n > CYCLES_IN_FULL ? "</ul></details></div>\n" : "</div>\n");
	gs_strbuf_free(&t);
}

typedef struct gpair {
	size_t from, to;
} gpair;

static int cmp_gpair(const void *a, const void *b)
{
	const gpair *x = a, *y = b;
	if (x->from != y->from)
		return (x->from > y->from) - (x->from < y->from);
	return (x->to > y->to) - (x->to < y->to);
}

/* One snapshot of the graph: the primary, or a peer (its node ids and links carry pfx). */
typedef struct gsnap {
	const gs_grpc *g;
	const gs_diagnosis *dg;
	const gs_vgroups *gr;
	char pfx[32];
	size_t base; /* its first node */
} gsnap;

/* The node of goroutine goid of snapshot r (per-goroutine graph), or -1. */
static long node_of(const gsnap *sn, size_t r, uint64_t goid, bool per_goroutine)
{
	long w = gs_vgroups_verdict(sn[r].gr, goid);
	if (w < 0)
		return -1;
	return (long)sn[r].base + (per_goroutine ? w : (long)sn[r].gr->group_of[w]);
}

/* Whether v's step to goroutine goid of snapshot r comes back to v across processes. */
static bool closes_cycle(const gsnap *sn, size_t r, size_t self, const gs_verdict *v, uint64_t goid)
{
	long w = gs_vgroups_verdict(sn[r].gr, goid);
	const gs_verdict *x = w >= 0 ? &sn[r].dg->v[w] : NULL;
	for (size_t k = 0; x && k < x->nacross; k++)
		if (x->across[k].snap == self && x->across[k].goid == v->goid)
			return true;
	return false;
}

/* cy: the primary's cycles (the peers' are found here) */
static void graph(const gs_html_input *in, const gs_cycles *cy, gs_strbuf *out)
{
	size_t nsn = in->npeers + 1, total = 0;
	gsnap *sn = gs_calloc(nsn, sizeof *sn, NULL);
	const char **clusters = in->npeers ? gs_calloc(nsn, sizeof *clusters, NULL) : NULL;
	char **owned = gs_calloc(nsn, sizeof *owned, NULL);
	gs_cycles *pcy = gs_calloc(nsn, sizeof *pcy, NULL);
	gs_graph G = {0};
	if (!sn || (in->npeers && !clusters) || !owned || !pcy)
		goto nomem;
	for (size_t i = 0; i < nsn; i++) {
		sn[i].g = i ? in->pgs[i - 1] : in->g;
		sn[i].dg = i ? &in->pdg[i - 1] : in->dg;
		sn[i].gr = i ? &in->pgroups[i - 1] : in->groups;
		if (i)
			peer_prefix(sn[i].pfx, sizeof sn[i].pfx, i - 1);
		total += sn[i].dg->n;
		if (clusters) {
			const char *nm = i ? in->peer_names[i - 1] : in->info->target;
			size_t len = strlen(nm) + 16;
			if (!(owned[i] = gs_malloc(len, NULL)))
				goto nomem;
			snprintf(owned[i], len, "%s: %s", i ? "peer" : "primary", nm);
			clusters[i] = owned[i];
		}
	}
	/* red edges inside each snapshot: its own cycles */
	for (size_t i = 1; i < nsn; i++) {
		gs_find_cycles(sn[i].g, sn[i].dg, &pcy[i]);
		if (pcy[i].nomem)
			goto nomem;
	}
	G.clusters = clusters;
	G.nclusters = clusters ? nsn : 0;
	bool per_goroutine = total <= GS_HTML_GRAPH_MAX_GOROUTINES;
	for (size_t s = 0; s < nsn; s++) {
		const gs_diagnosis *dg = sn[s].dg;
		const gs_vgroups *gr = sn[s].gr;
		sn[s].base = G.nnodes;
		for (size_t i = 0; per_goroutine && i < dg->n; i++) {
			const gs_verdict *v = &dg->v[i];
			gs_gnode *n = gs_graph_node(&G);
			snprintf(n->id, sizeof n->id, "node-%sg%llu", sn[s].pfx, (unsigned long long)v->goid);
			n->cls = "goroutine";
			n->cluster = clusters ? s + 1 : 0;
			snprintf(n->label[0], sizeof n->label[0], "goroutine %llu: %s",
				 (unsigned long long)v->goid, v->code);
			if (v->stream >= 0) {
				const gs_stream *st = gs_grpc_stream(sn[s].g, (size_t)v->stream);
				snprintf(n->label[1], sizeof n->label[1], "%s stream %u %s",
					 st->side == GS_CLIENT ? "client" : "server", st->id, st->method);
			}
			snprintf(n->href, sizeof n->href, "#%sgroup-%zu", sn[s].pfx, gr->group_of[i] + 1);
		}
		for (size_t j = 0; !per_goroutine && j < gr->n; j++) {
			gs_gnode *n = gs_graph_node(&G);
			snprintf(n->id, sizeof n->id, "node-%sgroup-%zu", sn[s].pfx, j + 1);
			n->cls = "group";
			n->cluster = clusters ? s + 1 : 0;
			snprintf(n->label[0], sizeof n->label[0], "[%zu] %s: %zu goroutines", j + 1,
				 gr->g[j].code, gr->g[j].n);
			snprintf(n->label[1], sizeof n->label[1], "%s",
				 gr->g[j].top ? base(gr->g[j].top->function) : "");
			snprintf(n->href, sizeof n->href, "#%sgroup-%zu", sn[s].pfx, j + 1);
		}
	}
	if (per_goroutine) {
		for (size_t s = 0; s < nsn; s++)
			for (size_t i = 0; i < sn[s].dg->n; i++) {
				const gs_verdict *v = &sn[s].dg->v[i];
				long w = v->nchain ? node_of(sn, s, v->chain[0], true) : -1;
				if (w >= 0)
					gs_graph_edge(&G, sn[s].base + i, (size_t)w, "blames",
						      gs_cycles_edge(s ? &pcy[s] : cy, i, (size_t)w - sn[s].base));
				w = v->npeer_chain ? node_of(sn, v->peer_snap[0], v->peer_chain[0], true) : -1;
				if (w >= 0)
					gs_graph_edge(&G, sn[s].base + i, (size_t)w, "blames",
						      closes_cycle(sn, v->peer_snap[0], s, v, v->peer_chain[0]));
			}
	} else {
		/* One edge per pair of groups, labelled with how many blame across it. */
		gpair *p = gs_calloc(total ? 2 * total : 1, sizeof *p, NULL);
		if (!p)
			goto nomem;
		size_t np = 0;
		for (size_t s = 0; s < nsn; s++)
			for (size_t i = 0; i < sn[s].dg->n; i++) {
				const gs_verdict *v = &sn[s].dg->v[i];
				size_t from = sn[s].base + sn[s].gr->group_of[i];
				long w = v->nchain ? node_of(sn, s, v->chain[0], false) : -1;
				if (w >= 0)
					p[np++] = (gpair){from, (size_t)w};
				w = v->npeer_chain ? node_of(sn, v->peer_snap[0], v->peer_chain[0], false) : -1;
				if (w >= 0)
					p[np++] = (gpair){from, (size_t)w};
			}
		qsort(p, np, sizeof *p, cmp_gpair);
		for (size_t a = 0, b; a < np; a = b) {
			for (b = a; b < np && p[b].from == p[a].from && p[b].to == p[a].to; b++)
				;
			char label[32];
			snprintf(label, sizeof label, "%zu", b - a);
			gpair back = {p[a].to, p[a].from};
			bool cyc = p[a].from == p[a].to || bsearch(&back, p, np, sizeof *p, cmp_gpair);
			gs_graph_edge(&G, p[a].from, p[a].to, label, cyc);
		}
		free(p);
	}
	const char *engine = "";
	gs_strbuf svg;
	gs_strbuf_init(&svg);
	gs_graph_svg(&G, &svg, &engine);
	gs_strbuf_printf(out, "<h2 id=\"wait-for\">Wait-for graph</h2>\n<p>%s; an arrow points from a "
			      "goroutine to the one it waits on (red: a cycle). Drawn by %s.</p>\n"
			      "<div id=\"graph\" data-nodes=\"%s\">",
			 per_goroutine ? "One node per goroutine with a verdict"
				       : "One node per group (too many goroutines to draw each)",
			 engine, per_goroutine ? "goroutine" : "group");
	gs_strbuf_put(out, svg.buf, svg.len);
	gs_strbuf_puts(out, "</div>\n");
	gs_strbuf_free(&svg);
	if (0) {
nomem:
		gs_strbuf_fail(out); /* the report fails whole */
	}
	gs_graph_free(&G);
	for (size_t i = 0; owned && i < nsn; i++)
		free(owned[i]);
	free(owned);
	free(clusters);
	for (size_t i = 1; pcy && i < nsn; i++)
		gs_cycles_free(&pcy[i]);
	free(pcy);
	free(sn);
}

static void streams_table(const gs_html_input *in, gs_strbuf *out)
{
	const gs_grpc *g = in->g;
	size_t ns = gs_grpc_nstreams(g);
	/* The verdict of each stream's first goroutine with one. */
	const char **verdict = calloc(ns ? ns : 1, sizeof *verdict);
	if (!verdict) {
		gs_strbuf_fail(out);
		return;
	}
	for (size_t i = 0; i < in->dg->n; i++) {
		long s = in->dg->v[i].stream;
		if (s >= 0 && (size_t)s < ns && !verdict[s])
			verdict[s] = in->dg->v[i].code;
	}
	gs_strbuf_printf(out, "<h2 id=\"transports\">Transports and streams</h2>\n<p>%zu transports, %zu "
			      "streams. Click a column to sort; the page also takes "
			      "<code>#filter=TEXT&amp;sort=COLUMN&amp;desc=1</code>.</p>\n"
			      "<p><label>filter <input id=\"filter\" type=\"search\"></label> "
			      "<span id=\"shown\">%zu</span> shown</p>\n",
			 gs_grpc_ntransports(g), ns, ns);
	static const struct {
		const char *key, *title;
		int num;
	} cols[] = {{"side", "side", 0}, {"transport", "transport", 0}, {"local", "local", 0},
		    {"remote", "remote", 0}, {"conn", "connection", 0},
		    {"keepalive", "keepalive", 0}, {"idle", "last read (s ago)", 1}, {"id", "stream", 1},
		    {"method", "method", 0}, {"state", "state", 0}, {"queued", "queued msgs", 1},
		    {"window", "inbound unacked", 1}, {"goroutines", "goroutines", 0},
		    {"verdict", "verdict", 0}};
	gs_strbuf_puts(out, "<table id=\"streams\"><thead><tr>");
	for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
		gs_strbuf_printf(out, "<th data-key=\"%s\" data-num=\"%d\">%s</th>", cols[c].key,
				 cols[c].num, cols[c].title);
	gs_strbuf_puts(out, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < ns; i++) {
		const gs_stream *s = gs_grpc_stream(g, i);
		const gs_transport *t = gs_grpc_transport(g, s->transport);
		gs_strbuf_printf(out, "<tr><td>%s<td>0x%llx<td>", s->side == GS_CLIENT ? "client" : "server",
				 (unsigned long long)t->addr);
		esc(out, t->local);
		gs_strbuf_puts(out, "<td>");
		esc(out, t->remote);
		gs_strbuf_printf(out, "<td>%s", gs_transport_state_name(t->state));
		gs_liveness_html_cells(g, t, out);
		gs_strbuf_printf(out, "<td>%u<td>", s->id);
		esc(out, s->method);
		gs_strbuf_printf(out, "<td>%s<td>%llu<td>", gs_stream_state_name(s->state),
				 (unsigned long long)s->queued_messages);
		if (s->in.known)
			gs_strbuf_printf(out, "%u", s->in.pending_data + s->in.pending_update);
		gs_strbuf_puts(out, "<td>");
		for (size_t k = 0; k < s->ngoroutines; k++)
			gs_strbuf_printf(out, "%s%llu", k ? " " : "", (unsigned long long)s->goroutines[k]);
		gs_strbuf_printf(out, "<td>%s\n", verdict[i] ? verdict[i] : "");
	}
	gs_strbuf_puts(out, "</tbody></table>\n");
	free(verdict);
}

/* ---- goroutines grouped by stack (status, wait reason, functions and lines) ---- */
typedef struct skey {
	uint64_t h1, h2;
	size_t idx;
} skey;

static int cmp_skey(const void *a, const void *b)
{
	const skey *x = a, *y = b;
	if (x->h1 != y->h1)
		return x->h1 < y->h1 ? -1 : 1;
	if (x->h2 != y->h2)
		return x->h2 < y->h2 ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Two independent 64-bit hashes (FNV-1a with two offsets): equal stacks, equal keys. */
static void mix(uint64_t *h1, uint64_t *h2, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) {
		*h1 = (*h1 ^ c[i]) * 0x100000001b3ULL;
		*h2 = (*h2 ^ c[i]) * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
	}
}

typedef struct sgroup {
	size_t first, n, at; /* first goroutine index, size, position in the sorted keys */
} sgroup;

static int cmp_sgroup(const void *a, const void *b)
{
	const sgroup *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return (x->first > y->first) - (x->first < y->first);
}

typedef struct smembers {
	gs_rt *rt;
	const skey *k;
} smembers;

static uint64_t smember_id(const void *ctx, size_t m)
{
	const smembers *sm = ctx;
	return gs_rt_goroutine(sm->rt, sm->k[m].idx)->goid;
}

static void goroutine_groups(const gs_html_input *in, gs_strbuf *out)
{
	gs_rt *rt = in->rt;
	size_t n = gs_rt_ngoroutines(rt);
	skey *k = malloc((n ? n : 1) * sizeof *k);
	sgroup *sg = malloc((n ? n : 1) * sizeof *sg);
	if (!k || !sg) {
		free(k);
		free(sg);
		gs_strbuf_fail(out);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		gs_goroutine *g = gs_rt_goroutine(rt, i);
		uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
		size_t nf;
		const gs_frame *f = gs_rt_stack(rt, g, &nf);
		mix(&h1, &h2, &g->status, sizeof g->status);
		mix(&h1, &h2, &g->waitreason, sizeof g->waitreason);
		for (size_t j = 0; j < nf; j++) {
			mix(&h1, &h2, f[j].function, strlen(f[j].function) + 1);
			mix(&h1, &h2, &f[j].line, sizeof f[j].line);
		}
		k[i] = (skey){h1, h2, i};
	}
	qsort(k, n, sizeof *k, cmp_skey);
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || k[i].h1 != k[i - 1].h1 || k[i].h2 != k[i - 1].h2)
			sg[ng++] = (sgroup){k[i].idx, 0, i};
		sg[ng - 1].n++;
	}
	qsort(sg, ng, sizeof *sg, cmp_sgroup);
	gs_strbuf_printf(out, "<h2 id=\"goroutines\">Goroutines</h2>\n<p>%zu goroutines in %zu groups "
			      "with identical stacks, largest first.</p>\n<div id=\"ggroups\">\n", n, ng);
	for (size_t j = 0; j < ng; j++) {
		gs_goroutine *g = gs_rt_goroutine(rt, sg[j].first);
		const char *r = gs_rt_wait_reason(rt, g);
		const gs_frame *top = gs_rt_user_frame(rt, g);
		gs_strbuf_printf(out, "<details class=\"ggroup\" data-count=\"%zu\"><summary>%zu goroutine%s [",
				 sg[j].n, sg[j].n, sg[j].n == 1 ? "" : "s");
		esc(out, *r ? r : gs_rt_status_name(g->status));
		gs_strbuf_puts(out, "] ");
		if (top) {
			esc(out, top->function);
			gs_strbuf_putc(out, ' ');
			esc(out, base(top->file));
			gs_strbuf_printf(out, ":%d", top->line);
		}
		gs_strbuf_puts(out, "</summary><pre>");
		size_t nf;
		const gs_frame *f = gs_rt_stack(rt, g, &nf);
		for (size_t i = 0; i < nf; i++) {
			esc(out, f[i].function);
			gs_strbuf_puts(out, f[i].inlined ? " (inlined)\n    " : "\n    ");
			esc(out, f[i].file);
			gs_strbuf_printf(out, ":%d\n", f[i].line);
		}
		gs_strbuf_puts(out, "</pre><p class=\"ids mono\">");
		/* Members: the keys of one group are adjacent, in goroutine order. */
		for (size_t m = 0; m < sg[j].n; m++)
			gs_strbuf_printf(out, "%s%llu", m ? " " : "",
					 (unsigned long long)gs_rt_goroutine(rt, k[sg[j].at + m].idx)->goid);
		gs_strbuf_puts(out, "</p>");
		smembers sm = {rt, k + sg[j].at};
		labels_html(rt, sg[j].n, smember_id, &sm, out);
		gs_strbuf_puts(out, "</details>\n");
	}
	gs_strbuf_puts(out, "</div>\n");
	free(k);
	free(sg);
}

void gs_report_html(const gs_html_input *in, gs_strbuf *out)
{
	gs_strbuf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			    "<meta name=\"generator\" content=\"grpcscope\"><title>grpcscope report: ");
	esc(out, in->info->target);
	gs_strbuf_printf(out, "</title><style>%s</style></head><body>\n<h1>grpcscope report: ", css);
	esc(out, base(in->info->target));
	gs_cycles cy;
	gs_find_cycles(in->g, in->dg, &cy);
	if (cy.nomem) /* the report fails whole */
		gs_strbuf_fail(out);
	gs_strbuf_printf(out, "</h1>\n<nav><a href=\"#snapshot\">snapshot</a> · <a href=\"#causes\">root "
			      "causes</a> · %s<a href=\"#wait-for\">wait-for graph</a> · <a href=\"#transports\">"
			      "transports and streams</a> · <a href=\"#goroutines\">goroutines</a></nav>\n",
			 cy.n ? "<a href=\"#cycles\">cycles</a> · " : "");
	facts(in, out);
	causes(in, out);
	cycles(in, &cy, out);
	graph(in, &cy, out);
	gs_cycles_free(&cy);
	streams_table(in, out);
	goroutine_groups(in, out);
	gs_strbuf_printf(out, "<script>%s</script>\n</body></html>\n", script);
}
