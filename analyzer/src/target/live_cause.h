/* Why a live process cannot be traced, in words: "cannot trace: Operation not permitted"
 * hides the usual causes, which /proc tells. */
#ifndef GS_TARGET_LIVE_CAUSE_H
#define GS_TARGET_LIVE_CAUSE_H

#include <stddef.h>

/* Writes into buf the cause of PTRACE_SEIZE failing on pid with errnum: another tracer
 * (its pid and name), a zombie, Yama's ptrace_scope, or missing permission. */
void gs_live_trace_cause(int pid, int errnum, char *buf, size_t n);

#endif
