/* The one place threads are started.
 *
 * Design. A session's runtime model (gs_rt) owns one executor: a small pool of worker
 * threads, none at first, started on demand up to a bound and reused by every later job of
 * the session. A layer hands it a job (a function and its argument, in a gs_job the layer
 * owns) and later joins that job by its handle. There is no queue: a job either gets an idle
 * (or new) thread at once, or it is refused. The bound is above the number of jobs that run
 * at the same time today (two: the g-reading or unwinding or waits worker next to the heap
 * scan), so a refusal means the system gave no thread.
 *
 * Refused jobs. gs_exec_submit returns false and has not run the job: the submitter does
 * the work on its own thread, at submit time, as it would without threads. Each site keeps
 * its own fallback (work shared in batches: the caller simply takes every batch; the waits:
 * computed at once; the g's read ahead: not read ahead). Joining a refused job does nothing.
 *
 * Joining. Whoever submits a job joins it before freeing what the job touches (a second
 * join does nothing); joining is the only synchronisation the executor gives (what the job
 * wrote is visible after it). The executor never cancels: a job that should stop early (a
 * session failing after it started) is told so through its own state (the read-ahead's
 * atomic flag) or simply finished (the heap scan, by gs_grpc_close before the model goes),
 * then joined. gs_exec_free comes last, in gs_rt_close, after every job is joined: it waits
 * for any job still running, then ends the threads.
 *
 * What jobs may touch: their own scratch state, the model's data they were handed (each
 * item claimed by one thread, see batch.h), and the target through bulk reads or a view of
 * its own (target.h). DWARF, type lookups and the gRPC model stay on the calling thread;
 * jobs that read the target are submitted for core targets only (debugger and live targets
 * are read by the calling thread alone).
 */
#ifndef GS_UTIL_EXECUTOR_H
#define GS_UTIL_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>

/* Above the jobs that run at once (two), with room to spare. */
#define GS_EXEC_MAX_THREADS 4

typedef struct gs_exec gs_exec;

/* A job's handle, owned (embedded) by the submitter; fields are the executor's. */
typedef struct gs_job {
	gs_exec *ex;
	void (*fn)(void *);
	void *arg;
	bool started; /* running (or ran) on a pool thread */
	bool done;    /* under the executor's lock */
} gs_job;

/* An executor of at most max_threads threads (none started yet); NULL when out of memory. */
gs_exec *gs_exec_new(size_t max_threads);
/* Runs fn(arg) on a pool thread: true. False (ex NULL, every thread busy, or no thread to be
 * had): nothing ran; the submitter does the work itself. */
bool gs_exec_submit(gs_exec *ex, gs_job *job, void (*fn)(void *), void *arg);
/* Waits until the job has returned (nothing when it was refused). */
void gs_exec_join(gs_job *job);
/* Waits for running jobs, ends the threads, frees. NULL is fine. */
void gs_exec_free(gs_exec *ex);

#endif
