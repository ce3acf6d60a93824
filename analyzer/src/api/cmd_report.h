/* `report [-o FILE] [--peer [EXE2] CORE2]`: the HTML postmortem report (report/html.c). */
#ifndef GS_API_CMD_REPORT_H
#define GS_API_CMD_REPORT_H

#include "../util/strbuf.h"
#include "session.h"

int gs_cmd_report(gs_session *s, int argc, const char *const *argv, gs_strbuf *out,
		  char **errmsg);

#endif
