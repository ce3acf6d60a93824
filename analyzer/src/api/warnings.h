/* What may make a command's answer incomplete: a core cut short, notes lost, goroutines
 * unreadable or implausible, an executable accepted with --force, gRPC objects read in part.
 * Every command says so: a line on stderr (the front end prints gs_warnings) and a
 * "warnings" array in its JSON, spliced after "command". */
#ifndef GS_API_WARNINGS_H
#define GS_API_WARNINGS_H

#include "../util/strbuf.h"
#include "session.h"

/* Calls emit once per warning, a sentence without "warning: " or newline. */
void gs_session_warnings(gs_session *s, void (*emit)(void *ctx, const char *msg), void *ctx);

/* Adds a warning of the command itself (e.g. about a --peer snapshot). */
void gs_session_warn(gs_session *s, const char *msg);

/* `,"warnings":[...]` for the session, into out. */
void gs_json_warnings(gs_session *s, gs_strbuf *out);

/* Where JSON output starting at p (n bytes) takes the warnings: after the
 * {"schema":...,"command":"NAME" opening; 0 when p is not such an opening. */
size_t gs_json_warnings_at(const char *p, size_t n);

#endif
