/* `report`: one self-contained HTML page for a postmortem (CSS, script and SVG inline, no
 * network): the snapshot's facts, the root causes (verdict groups) with their evidence, the
 * wait-for graph, transports and streams in a sortable, filterable table, and goroutines
 * grouped by stack with expandable stacks. Renders what the models computed. */
#ifndef GS_REPORT_HTML_H
#define GS_REPORT_HTML_H

#include "../diagnose/groups.h"
#include "../util/strbuf.h"
#include "info.h"

typedef struct gs_html_input {
	const gs_info *info;
	const char *taken;     /* when the snapshot was taken, or NULL */
	gs_rt *rt;
	const gs_grpc *g;
	const gs_diagnosis *dg;
	const gs_vgroups *groups;
	/* --peer, --snapshots: the other processes (npeers; each array that long) */
	size_t npeers;
	const char *const *peer_names;
	gs_rt *const *prts;
	const gs_grpc *const *pgs;
	const gs_diagnosis *pdg;
	const gs_vgroups *pgroups;
} gs_html_input;

/* Above this many verdicts the graph has a node per group instead of per goroutine. */
#define GS_HTML_GRAPH_MAX_GOROUTINES 300

void gs_report_html(const gs_html_input *in, gs_strbuf *out);

#endif
