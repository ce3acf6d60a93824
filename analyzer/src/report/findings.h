/* Rendering the findings of why-blocked beside its verdicts: the cycles of the wait-for
 * graph (diagnose/cycles.h), as text (each cycle once; grouped text folds cycles of the same
 * shape into one entry) and as JSON objects of the "findings" array. */
#ifndef GS_REPORT_FINDINGS_H
#define GS_REPORT_FINDINGS_H

#include <stdbool.h>

#include "../diagnose/cycles.h"
#include "../util/strbuf.h"

/* A stream as JSON: {"transport", "id", "method", "side", "address"}, or null. */
void gs_report_stream_json(const gs_grpc *g, const gs_stream *s, gs_strbuf *out);
/* Nothing when there are no cycles; else a block of lines (no blank line after). all: every
 * cycle in full, else one entry per shape (same verdicts, sides and methods in order). */
void gs_report_cycles_text(const gs_grpc *g, const gs_diagnosis *dg, const gs_cycles *cy,
			   bool all, gs_strbuf *out);
/* The cycles as elements of the "findings" array (the style of every finding: "finding",
 * "summary", "stream", "evidence", "goroutines"; then the cycle's own "steps", "methods",
 * "others"), comma-separated, without the brackets; more: elements precede them. */
void gs_report_cycles_json(const gs_grpc *g, const gs_diagnosis *dg, const gs_cycles *cy,
			   bool more, gs_strbuf *out);
/* One line: "goroutines 15 -> 509 -> 15 wait on each other". */
void gs_report_cycle_line(const gs_diagnosis *dg, const gs_cycle *c, gs_strbuf *out);
/* "goroutine 15 (peer-silent) on client stream 1 /svc/M (0xc000122700)". */
void gs_report_cycle_step(const gs_grpc *g, const gs_diagnosis *dg, size_t v, gs_strbuf *out);

#endif
