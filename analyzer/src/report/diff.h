/* Rendering `diff` (two moments of one process, see diagnose/diff.h) as text or JSON. */
#ifndef GS_REPORT_DIFF_H
#define GS_REPORT_DIFF_H

#include <stdbool.h>

#include "../diagnose/diff.h"
#include "../util/strbuf.h"

void gs_report_diff(gs_rt *r1, gs_grpc *g1, gs_rt *r2, gs_grpc *g2, const gs_diff *d,
		    bool json, gs_strbuf *out);

#endif
