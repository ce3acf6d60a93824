/* Rendering `streams` (every transport and its streams) and `stream-state` (one stream in
 * depth, raw values next to what they mean). */
#ifndef GS_REPORT_STREAMS_H
#define GS_REPORT_STREAMS_H

#include <stdbool.h>

#include "../grpc/grpc_model.h"
#include "../util/strbuf.h"

void gs_report_streams(const gs_grpc *g, bool json, gs_strbuf *out);
void gs_report_stream_state(const gs_grpc *g, gs_rt *rt, size_t stream, bool json,
			    gs_strbuf *out);
/* Finds a stream by "ID" (when unique), "TRANSPORT:ID" or the stream's address. Returns the
 * index, or -1 with a message in err. */
long gs_find_stream(const gs_grpc *g, const char *spec, char *err, size_t cap);

#endif
