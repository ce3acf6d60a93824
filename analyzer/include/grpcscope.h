/* grpcscope — which goroutine of a frozen Go gRPC process waits on what, and why.
 *
 * The one public header. The command-line tool and the gdb and lldb wrappers are thin
 * front ends over it: they open a session on a target (a core file, a live pid, or a host
 * debugger's memory) and run commands whose output the library renders. A command gives
 * the same output whichever front end runs it.
 *
 * Errors: functions return an exit status (0 done, 1 failure, 2 bad usage or unreadable /
 * mismatched input) and a one-line message naming the file and the problem.
 */
#ifndef GRPCSCOPE_H
#define GRPCSCOPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GS_VERSION "0.1.0"

typedef struct gs_session gs_session;

/* One thread of a host debugger's process (amd64). */
typedef struct gs_api_thread {
	int64_t tid;
	uint64_t rip, rsp, rbp, fs_base;
} gs_api_thread;

/* Reads up to n bytes at addr into dst; returns how many were read (short = unreadable). */
typedef size_t (*gs_read_memory_fn)(void *ctx, uint64_t addr, void *dst, size_t n);

/* Where a long step stands: decompressing a compressed core (zstd, xz, gzip, lz4) before it
 * is read. The library never prints; a front end may show this. */
typedef struct gs_progress {
	const char *path;   /* the compressed core */
	const char *format; /* "zstd", "xz", "gzip", "lz4" */
	uint64_t in_done, in_total; /* compressed bytes read so far, of the file's size */
	uint64_t out_done;  /* decompressed bytes so far */
	int finished;       /* 1 on the last call, whether it worked or not */
} gs_progress;
typedef void (*gs_progress_fn)(void *ctx, const gs_progress *p);

typedef struct gs_open_options {
	const char *exe;  /* executable; NULL: taken from the core's file mappings or /proc */
	const char *core; /* core file, or NULL */
	int pid;          /* live process when > 0 */
	int force;        /* accept a build-id mismatch */
	/* Host-debugger target (used when core == NULL and pid <= 0). */
	gs_read_memory_fn read_memory;
	void *read_ctx;
	const gs_api_thread *threads;
	size_t nthreads;
	uint64_t load_bias_hint; /* PIE bias as the debugger knows it, 0 if not PIE/unknown */
	int has_bias_hint;
	/* The command to come wants the gRPC model (goroutines, streams, why-blocked): its
	 * heap scan starts while the goroutines are read. */
	int want_grpc;
	/* Called when a compressed core starts decompressing, every MiB or so, and at the end;
	 * also for the core of why-blocked --peer. NULL: none. */
	gs_progress_fn progress;
	void *progress_ctx;
} gs_open_options;

/* Opens a session. On failure returns NULL, sets *status (1 or 2) and writes the message. */
gs_session *gs_open(const gs_open_options *o, int *status, char *errbuf, size_t errlen);

/* Runs one command ("goroutines", "streams", "why-blocked", "info", ...) with its options
 * (argv[0] is the command). *out receives the rendered output (malloc'd, caller frees with
 * gs_free), *errmsg a message on failure. Returns the exit status. */
int gs_command(gs_session *s, int argc, const char *const *argv, char **out, char **errmsg);

/* Like gs_command, but the output goes to write(ctx, bytes, n) as it is produced, in pieces
 * of about 1 MiB, instead of being returned: for large reports on cores. */
typedef void (*gs_write_fn)(void *ctx, const char *p, size_t n);
int gs_command_stream(gs_session *s, int argc, const char *const *argv, gs_write_fn write,
		      void *ctx, char **errmsg);

/* Resumes a live target now (no-op otherwise). Closing also resumes. */
/* How long each phase of the session took so far, as one line ("timing: open ... ms, ...,
 * total ... ms\n"); free with gs_free. */
char *gs_timing(gs_session *s);

void gs_resume(gs_session *s);
void gs_close(gs_session *s);
void gs_free(void *p);
const char *gs_version(void);

/* Usage text of the commands, for front ends. */
const char *gs_usage(void);

#ifdef __cplusplus
}
#endif

#endif
