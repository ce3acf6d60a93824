/* A transport's liveness facts (keepalive, enforcement, last read, BDP, initial window) in
 * the text and JSON of `streams`, and the last read as one phrase for verdicts and reports. */
#ifndef GS_REPORT_LIVENESS_H
#define GS_REPORT_LIVENESS_H

#include "../grpc/grpc_model.h"
#include "../util/strbuf.h"

void gs_liveness_text(const gs_grpc *g, const gs_transport *t, gs_strbuf *out);
/* Appends ",\"keepalive_params\":{...},..." to a transport's JSON object. */
void gs_liveness_json(const gs_grpc *g, const gs_transport *t, gs_strbuf *out);
/* "2026-12-07 21:40:12.345 UTC", "not recorded (...)" or "not known". */
void gs_liveness_last_read(const gs_grpc *g, const gs_transport *t, char *buf, size_t cap);

/* The report's table cells: "<td>on 10s/20s<td>35.2" (keepalive; seconds since the last
 * read, empty when not known). */
void gs_liveness_html_cells(const gs_grpc *g, const gs_transport *t, gs_strbuf *out);

#endif
