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
/* With a peer snapshot (--peer): its verdicts follow, labelled with its name. */
void gs_report_why_blocked_pair(gs_rt *rt, const gs_grpc *g, const gs_diagnosis *dg,
				gs_rt *prt, const gs_grpc *pg, const gs_diagnosis *pdg,
				const char *peer_name, enum gs_format fmt, gs_strbuf *out);

#endif
