/* `report [-o FILE] [--peer [EXE2] CORE2]`: the HTML postmortem report (report/html.c). */
#ifndef GS_API_CMD_REPORT_H
#define GS_API_CMD_REPORT_H

#include "../util/strbuf.h"
#include "grammar.h"
#include "session.h"

/* The command line is parsed by the grammar (grammar.c: -o FILE, --peer); s NULL: only
 * checks it. */
int gs_cmd_report(gs_session *s, const gs_cmdline *cl, gs_strbuf *out, char **errmsg);

#endif
