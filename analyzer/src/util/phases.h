/* Wall-clock marks between a run's phases (open, unwind, waits, ...): what bench/ and a
 * curious user see with GRPCSCOPE_TIMING=1. Marks are cheap and always taken. */
#ifndef GS_UTIL_PHASES_H
#define GS_UTIL_PHASES_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define GS_MAX_PHASES 24

typedef struct gs_phases {
	uint64_t start, last;
	size_t n;
	struct {
		const char *name; /* a string literal */
		uint64_t ns;
	} p[GS_MAX_PHASES];
} gs_phases;

uint64_t gs_now_ns(void);
void gs_phases_start(gs_phases *ph);
/* Ends the phase that ran since the last mark (or the start) and names it; NULL is a no-op.
 * A name marked again adds to its earlier total. */
void gs_phases_mark(gs_phases *ph, const char *name);
/* One line: "timing: open 85.1 ms, unwind 66.0 ms, ..., total 352.0 ms". */
void gs_phases_format(const gs_phases *ph, gs_strbuf *out);

#endif
