/* A small directed graph drawn as inline SVG: by Graphviz's dot layout when libgvc can be
 * loaded (dlopen in a child process: no link-time dependency, nothing loaded by other
 * commands or kept in this process), else by a layered layout of its own. Nodes carry an id and CSS classes that the page links to. */
#ifndef GS_REPORT_SVG_GRAPH_H
#define GS_REPORT_SVG_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/strbuf.h"

typedef struct gs_gnode {
	char id[32];        /* SVG element id, also the DOT name */
	const char *cls;    /* CSS class: "goroutine" or "group" */
	char label[2][160]; /* two lines; snapshot text, escaped when drawn */
	char href[32];      /* "#..." in the page */
	size_t cluster;     /* 0: none; k: drawn inside the graph's cluster k - 1 */
} gs_gnode;

typedef struct gs_gedge {
	size_t from, to;
	char label[32];
	bool cycle;
} gs_gedge;

typedef struct gs_graph {
	gs_gnode *nodes;
	size_t nnodes, capnodes;
	gs_gedge *edges;
	size_t nedges, capedges;
	bool nomem;     /* a node or edge was dropped: gs_graph_svg fails its output */
	gs_gnode spare; /* what gs_graph_node hands out when it cannot grow */
	const char *const *clusters; /* labels of the clusters (a process each), or NULL */
	size_t nclusters;
} gs_graph;

gs_gnode *gs_graph_node(gs_graph *g);
void gs_graph_edge(gs_graph *g, size_t from, size_t to, const char *label, bool cycle);
void gs_graph_free(gs_graph *g);

/* Appends <svg ...>...</svg>. *engine says which layout drew it ("graphviz dot", "own"). */
void gs_graph_svg(const gs_graph *g, gs_strbuf *out, const char **engine);

/* HTML/XML text escaping of snapshot strings (&, <, >, ", '). */
void gs_html_esc(gs_strbuf *out, const char *s);

#endif
