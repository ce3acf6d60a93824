#include "svg_graph.h"
#include "../util/alloc.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

gs_gnode *gs_graph_node(gs_graph *g)
{
	if (g->nnodes == g->capnodes) {
		gs_gnode *v = gs_reallocarray(g->nodes, g->capnodes ? 2 * g->capnodes : 32, sizeof *v, NULL);
		if (!v) { /* filled and dropped; the drawing fails */
			g->nomem = true;
			memset(&g->spare, 0, sizeof g->spare);
			return &g->spare;
		}
		g->nodes = v;
		g->capnodes = g->capnodes ? 2 * g->capnodes : 32;
	}
	gs_gnode *n = &g->nodes[g->nnodes++];
	memset(n, 0, sizeof *n);
	return n;
}

void gs_graph_edge(gs_graph *g, size_t from, size_t to, const char *label, bool cycle)
{
	if (g->nedges == g->capedges) {
		gs_gedge *v = gs_reallocarray(g->edges, g->capedges ? 2 * g->capedges : 32, sizeof *v, NULL);
		if (!v) {
			g->nomem = true;
			return;
		}
		g->edges = v;
		g->capedges = g->capedges ? 2 * g->capedges : 32;
	}
	gs_gedge *e = &g->edges[g->nedges++];
	memset(e, 0, sizeof *e);
	e->from = from;
	e->to = to;
	e->cycle = cycle;
	snprintf(e->label, sizeof e->label, "%s", label ? label : "");
}

void gs_graph_free(gs_graph *g)
{
	free(g->nodes);
	free(g->edges);
	memset(g, 0, sizeof *g);
}

void gs_html_esc(gs_strbuf *out, const char *s)
{
	const char *run = s;
	for (; *s; s++) {
		const char *rep;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		gs_strbuf_put(out, run, (size_t)(s - run));
		gs_strbuf_puts(out, rep);
		run = s + 1;
	}
	gs_strbuf_put(out, run, (size_t)(s - run));
}

/* DOT string contents: quotes and backslashes escaped; Graphviz escapes for SVG itself. */
static void dot_str(gs_strbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			gs_strbuf_putc(out, '\\');
		gs_strbuf_putc(out, *s);
	}
}

/* ---- Graphviz, loaded at run time ---- */
typedef void *(*ctx_fn)(void);
typedef void *(*read_fn)(const char *);
typedef int (*layout_fn)(void *, void *, const char *);
typedef int (*render_fn)(void *, void *, const char *, char **, unsigned int *);
typedef void (*freedata_fn)(char *);
typedef int (*free2_fn)(void *, void *);
typedef int (*free1_fn)(void *);

static bool graphviz_svg(const gs_graph *g, gs_strbuf *out)
{
	void *gvc_lib = dlopen("libgvc.so.6", RTLD_NOW | RTLD_LOCAL);
	void *cg_lib = gvc_lib ? dlopen("libcgraph.so.6", RTLD_NOW | RTLD_LOCAL) : NULL;
	if (!gvc_lib || !cg_lib) {
		if (gvc_lib)
			dlclose(gvc_lib);
		return false;
	}
	/* POSIX dlsym returns data pointers; converting through memcpy keeps -Wpedantic quiet. */
	void *sym[8];
	const char *names[] = {"gvContext", "agmemread", "gvLayout", "gvRenderData",
			       "gvFreeRenderData", "gvFreeLayout", "agclose", "gvFreeContext"};
	for (int i = 0; i < 8; i++)
		if (!(sym[i] = dlsym(i == 1 || i == 6 ? cg_lib : gvc_lib, names[i]))) {
			dlclose(cg_lib);
			dlclose(gvc_lib);
			return false;
		}
	ctx_fn gv_context;
	read_fn ag_memread;
	layout_fn gv_layout;
	render_fn gv_render;
	freedata_fn gv_freedata;
	free2_fn gv_freelayout;
	free1_fn ag_close, gv_freecontext;
	memcpy(&gv_context, &sym[0], sizeof sym[0]);
	memcpy(&ag_memread, &sym[1], sizeof sym[1]);
	memcpy(&gv_layout, &sym[2], sizeof sym[2]);
	memcpy(&gv_render, &sym[3], sizeof sym[3]);
	memcpy(&gv_freedata, &sym[4], sizeof sym[4]);
	memcpy(&gv_freelayout, &sym[5], sizeof sym[5]);
	memcpy(&ag_close, &sym[6], sizeof sym[6]);
	memcpy(&gv_freecontext, &sym[7], sizeof sym[7]);

	gs_strbuf dot;
	gs_strbuf_init(&dot);
	gs_strbuf_puts(&dot, "digraph waitfor {\n rankdir=LR;\n node [shape=box,style=\"rounded,filled\","
			     "fillcolor=\"#f4f6fb\",fontname=\"monospace\",fontsize=10];\n"
			     " edge [fontname=\"monospace\",fontsize=9];\n");
	for (size_t c = 0; c <= g->nclusters; c++) {
		if (c)
			gs_strbuf_printf(&dot, " subgraph cluster_%zu {\n  id=\"cluster-%zu\";"
					 "label=\"", c - 1, c - 1);
		if (c) {
			dot_str(&dot, g->clusters[c - 1]);
			gs_strbuf_puts(&dot, "\";\n");
		}
		for (size_t i = 0; i < g->nnodes; i++) {
			const gs_gnode *n = &g->nodes[i];
			if (n->cluster != c)
				continue;
			gs_strbuf_printf(&dot, " n%zu [id=\"%s\",class=\"%s\",URL=\"%s\",tooltip=\"", i, n->id,
					 n->cls, n->href);
			dot_str(&dot, n->label[0]);
			gs_strbuf_puts(&dot, "\",label=\"");
			dot_str(&dot, n->label[0]);
			gs_strbuf_puts(&dot, "\\n");
			dot_str(&dot, n->label[1]);
			gs_strbuf_puts(&dot, "\"];\n");
		}
		if (c)
			gs_strbuf_puts(&dot, " }\n");
	}
	for (size_t i = 0; i < g->nedges; i++) {
		const gs_gedge *e = &g->edges[i];
		gs_strbuf_printf(&dot, " n%zu -> n%zu [label=\"", e->from, e->to);
		dot_str(&dot, e->label);
		gs_strbuf_printf(&dot, "\"%s];\n", e->cycle ? ",color=red,class=\"cycle\"" : "");
	}
	gs_strbuf_puts(&dot, "}\n");
	char *dot_text = gs_strbuf_take(&dot);
	if (!dot_text)
		return false;
	bool ok = false;
	void *gvc = gv_context();
	void *graph = gvc ? ag_memread(dot_text) : NULL;
	char *svg = NULL;
	unsigned int len = 0;
	if (graph && gv_layout(gvc, graph, "dot") == 0) {
		if (gv_render(gvc, graph, "svg", &svg, &len) == 0 && svg) {
			/* Inline: from <svg on (no XML prolog, no DOCTYPE). */
			char *start = strstr(svg, "<svg");
			if (start) {
				gs_strbuf_put(out, start, len - (size_t)(start - svg));
				ok = true;
			}
			gv_freedata(svg);
		}
		gv_freelayout(gvc, graph);
	}
	if (graph)
		ag_close(graph);
	if (gvc)
		gv_freecontext(gvc);
	free(dot_text);
	/* The child exits next: the libraries stay open. */
	return ok;
}

/* ---- a layered layout of its own: columns by distance from the end of the chains ---- */
#define NODE_W 260
#define NODE_H 40
#define GAP_X 80
#define GAP_Y 16

static void own_svg(const gs_graph *g, gs_strbuf *out)
{
	size_t n = g->nnodes;
	size_t *rank = calloc(n ? n : 1, sizeof *rank);
	if (!rank) {
		gs_strbuf_fail(out);
		return;
	}
	/* rank = longest path to a node without successors, cycles cut after n rounds. */
	for (size_t round = 0; round < n; round++) {
		bool changed = false;
		for (size_t i = 0; i < g->nedges; i++) {
			const gs_gedge *e = &g->edges[i];
			if (e->from != e->to && rank[e->from] < rank[e->to] + 1 && rank[e->to] + 1 < n) {
				rank[e->from] = rank[e->to] + 1;
				changed = true;
			}
		}
		if (!changed)
			break;
	}
	size_t maxrank = 0;
	for (size_t i = 0; i < n; i++)
		if (rank[i] > maxrank)
			maxrank = rank[i];
	size_t *row = calloc(n ? n : 1, sizeof *row), *fill = calloc(maxrank + 1, sizeof *fill);
	if (!row || !fill) {
		free(rank);
		free(row);
		free(fill);
		gs_strbuf_fail(out);
		return;
	}
	size_t rows = 0;
	for (size_t i = 0; i < n; i++) {
		row[i] = fill[rank[i]]++;
		if (fill[rank[i]] > rows)
			rows = fill[rank[i]];
	}
	/* Blamers left, the blamed to the right (as rankdir=LR). */
	size_t w = (maxrank + 1) * (NODE_W + GAP_X) + GAP_X, h = rows * (NODE_H + GAP_Y) + GAP_Y;
#define X(i) ((maxrank - rank[i]) * (NODE_W + GAP_X) + GAP_X / 2)
#define Y(i) (row[i] * (NODE_H + GAP_Y) + GAP_Y)
	gs_strbuf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" height=\"%zu\" "
			      "viewBox=\"0 0 %zu %zu\" font-family=\"monospace\" font-size=\"10\">"
			      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
			      "markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\"/>"
			      "</marker></defs>\n", w, h, w, h);
	for (size_t i = 0; i < g->nedges; i++) {
		const gs_gedge *e = &g->edges[i];
		size_t x1 = X(e->from) + NODE_W, y1 = Y(e->from) + NODE_H / 2;
		size_t x2 = X(e->to), y2 = Y(e->to) + NODE_H / 2;
		if (rank[e->to] >= rank[e->from]) /* a cycle's back edge: right side to left side */
			x1 = X(e->from), x2 = X(e->to) + NODE_W;
		gs_strbuf_printf(out, "<g class=\"edge%s\"><line x1=\"%zu\" y1=\"%zu\" x2=\"%zu\" y2=\"%zu\" "
				      "stroke=\"%s\" marker-end=\"url(#arrow)\"/><text x=\"%zu\" y=\"%zu\">",
				 e->cycle ? " cycle" : "", x1, y1, x2, y2, e->cycle ? "red" : "black",
				 (x1 + x2) / 2, (y1 + y2) / 2 - 2);
		gs_html_esc(out, e->label);
		gs_strbuf_puts(out, "</text></g>\n");
	}
	/* A process's cluster: a frame around its nodes, under them. */
	for (size_t c = 1; c <= g->nclusters; c++) {
		size_t x0 = SIZE_MAX, y0 = SIZE_MAX, x1 = 0, y1 = 0;
		for (size_t i = 0; i < n; i++) {
			if (g->nodes[i].cluster != c)
				continue;
			x0 = X(i) < x0 ? X(i) : x0;
			y0 = Y(i) < y0 ? Y(i) : y0;
			x1 = X(i) + NODE_W > x1 ? X(i) + NODE_W : x1;
			y1 = Y(i) + NODE_H > y1 ? Y(i) + NODE_H : y1;
		}
		if (x0 == SIZE_MAX)
			continue;
		x0 = x0 > GAP_X / 4 ? x0 - GAP_X / 4 : 0;
		y0 = y0 > GAP_Y / 2 ? y0 - GAP_Y / 2 : 0;
		gs_strbuf_printf(out, "<g id=\"cluster-%zu\" class=\"cluster\"><rect x=\"%zu\" y=\"%zu\" "
				      "width=\"%zu\" height=\"%zu\" fill=\"none\" stroke=\"#8899bb\" "
				      "stroke-dasharray=\"4\"/><title>", c - 1, x0, y0,
				 x1 + GAP_X / 4 - x0, y1 + GAP_Y / 2 - y0);
		gs_html_esc(out, g->clusters[c - 1]);
		gs_strbuf_puts(out, "</title></g>\n");
	}
	for (size_t i = 0; i < n; i++) {
		const gs_gnode *nd = &g->nodes[i];
		gs_strbuf_printf(out, "<g id=\"%s\" class=\"node %s\"><a href=\"%s\"><rect x=\"%zu\" y=\"%zu\" "
				      "width=\"%d\" height=\"%d\" rx=\"6\" fill=\"#f4f6fb\" stroke=\"black\"/>",
				 nd->id, nd->cls, nd->href, X(i), Y(i), NODE_W, NODE_H);
		for (int l = 0; l < 2; l++) {
			gs_strbuf_printf(out, "<text x=\"%zu\" y=\"%zu\">", X(i) + 6, Y(i) + 16 + 15 * (size_t)l);
			gs_html_esc(out, nd->label[l]);
			gs_strbuf_puts(out, "</text>");
		}
		gs_strbuf_puts(out, "</a></g>\n");
	}
#undef X
#undef Y
	gs_strbuf_puts(out, "</svg>\n");
	free(rank);
	free(row);
	free(fill);
}

/* Graphviz runs in a child process: its global state, font caches and warnings stay out of
 * this process (and of a debugger that loaded the library), and a crash or a layout that
 * takes too long costs only the drawing. The SVG comes back through a pipe. */
#define GRAPHVIZ_SECONDS 20

static bool graphviz_isolated(const gs_graph *g, gs_strbuf *out)
{
	int fd[2];
	if (pipe(fd) != 0)
		return false;
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return false;
	}
	if (pid == 0) {
		close(fd[0]);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		alarm(GRAPHVIZ_SECONDS);
		gs_strbuf sb;
		gs_strbuf_init(&sb);
		if (!graphviz_svg(g, &sb))
			_exit(1);
		for (size_t off = 0; off < sb.len;) {
			ssize_t k = write(fd[1], sb.buf + off, sb.len - off);
			if (k <= 0)
				_exit(1);
			off += (size_t)k;
		}
		_exit(0); /* no atexit handlers: the parent's state is not the child's to tear down */
	}
	close(fd[1]);
	size_t start = out->len;
	char buf[65536];
	ssize_t k;
	while ((k = read(fd[0], buf, sizeof buf)) > 0 || (k < 0 && errno == EINTR))
		if (k > 0)
			gs_strbuf_put(out, buf, (size_t)k);
	close(fd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && out->len - start > 4 &&
		  memcmp(out->buf + start, "<svg", 4) == 0;
	if (!ok)
		out->len = start;
	return ok;
}

void gs_graph_svg(const gs_graph *g, gs_strbuf *out, const char **engine)
{
	if (g->nomem) {
		gs_strbuf_fail(out);
		return;
	}
	/* GRPCSCOPE_OWN_LAYOUT=1: the fallback, as on a machine without Graphviz (tests). */
	const char *own = getenv("GRPCSCOPE_OWN_LAYOUT");
	if (!(own && *own && strcmp(own, "0")) && graphviz_isolated(g, out)) {
		*engine = "Graphviz dot";
		return;
	}
	own_svg(g, out);
	*engine = "grpcscope's own layered layout";
}
