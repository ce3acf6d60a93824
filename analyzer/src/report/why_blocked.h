/* Rendering why-blocked: text grouped by root cause (a block per group of identical
 * verdicts, largest root cause first), text with every verdict (--all: verdict line,
 * evidence, chain), JSON (schema grpcscope/1: every verdict, and the groups) and DOT (the
 * wait-for graph, cycles marked). */
#ifndef GS_REPORT_WHY_BLOCKED_H
#define GS_REPORT_WHY_BLOCKED_H

#include "../diagnose/verdicts.h"
#include "../util/strbuf.h"

enum gs_format { GS_FMT_TEXT, GS_FMT_TEXT_ALL, GS_FMT_JSON, GS_FMT_DOT };

void gs_report_why_blocked(gs_rt *rt, const gs_grpc *g, const gs_diagnosis *dg,
			   enum gs_format fmt, gs_strbuf *out);
/* One snapshot of a set (the primary first, then each peer), as the renderers see it. */
typedef struct gs_snapview {
	gs_rt *rt;
	const gs_grpc *g;
	const gs_diagnosis *dg;
	const char *core, *exe; /* as given (exe NULL: the one the core records) */
} gs_snapview;

/* With other snapshots (--peer, --snapshots): text says which snapshot is the primary and
 * prints each one's verdicts under its name, every verdict with its chain across processes;
 * JSON keeps the one-peer keys (peer, peer_verdicts, peer_groups: the first peer) and adds
 * "snapshots" (every one, with its role), "peers" (each peer's verdicts and groups) and
 * each verdict's "across"; DOT draws one graph with a cluster per process. */
void gs_report_why_blocked_set(const gs_snapview *set, size_t n, enum gs_format fmt,
			       gs_strbuf *out);

#endif
