/* Live sampling (sampling.c): N snapshots of a running process compared as `diff` does. */
#ifndef GS_API_SAMPLING_H
#define GS_API_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

#include "../report/why_blocked.h"
#include "grammar.h"
#include "session.h"

typedef struct sampling_req {
	const char *cmd;       /* "streams", "goroutines" or "why-blocked" */
	enum gs_format fmt;
	const uint64_t *ids;   /* why-blocked GOID...: only these */
	size_t nids;
} sampling_req;

/* Runs cl's command with --samples N [--interval S] (s NULL: only checks the options).
 * s is the first sample; the others are opened with its options. Returns the exit status,
 * with *errmsg set on failure. */
int gs_cmd_sampled(gs_session *s, const gs_cmdline *cl, const sampling_req *rq, gs_strbuf *out,
		   char **errmsg);

#endif
