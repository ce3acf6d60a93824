/* Rendering `info`: what the snapshot is. */
#ifndef GS_REPORT_INFO_H
#define GS_REPORT_INFO_H

#include <stdbool.h>

#include "../goruntime/model.h"
#include "../util/strbuf.h"

typedef struct gs_info {
	const char *exe, *target;
	int target_kind;
	const char *go_version, *grpc_version, *go_build_id, *gnu_build_id;
	bool pie;
	uint64_t bias;
	size_t threads;
	uint64_t pause_ns, open_ns;
	uint64_t missing_bytes;
	/* Where struct layouts came from: "DWARF", or the runtime's type descriptors. */
	const char *types_from, *symbols_from;
	/* Where the DWARF came from (enum gs_debug_source): a separate file's path and how it
	 * was found, or what was searched in vain. */
	int debug_source;
	const char *debug_file, *debug_found_by, *debug_searched;
	const char *warnings; /* one a line, or NULL */
} gs_info;

void gs_report_info(gs_rt *rt, const gs_info *in, bool json, gs_strbuf *out);

#endif
