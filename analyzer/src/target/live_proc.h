/* What /proc says about a live process: its threads, file mappings, auxv and executable.
 * Reading these never disturbs the process. */
#ifndef GS_TARGET_LIVE_PROC_H
#define GS_TARGET_LIVE_PROC_H

#include <sys/types.h>

#include "target_impl.h"

/* Lists /proc/PID/task. Returns 0, or -1 with errno set (ENOENT: no such process). */
int gs_proc_list_tids(int pid, pid_t **tids, size_t *n);

/* Adds the file-backed mappings, the auxv and the exe path to t. Missing pieces (the
 * process died, a kernel thread) are left empty rather than failing. */
void gs_proc_load_layout(gs_target *t, int pid);

#endif
