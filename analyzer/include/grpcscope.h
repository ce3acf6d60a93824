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

/* The library is built with hidden visibility: only what this header marks is exported. */
#define GS_PUBLIC __attribute__((visibility("default")))

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
	/* Separate debug info for an executable without DWARF: a debug file to use instead of
	 * searching (--debug-file), and the debug directories searched for
	 * .build-id/xx/rest.debug and debuglinks, ':'-separated (--debug-dir; NULL:
	 * $GRPCSCOPE_DEBUG_DIR, else /usr/lib/debug). debuginfod is asked when
	 * DEBUGINFOD_URLS is set. */
	const char *debug_file;
	const char *debug_dirs;
	/* Called when a compressed core starts decompressing, every MiB or so, and at the end;
	 * also for the core of why-blocked --peer. NULL: none. */
	gs_progress_fn progress;
	void *progress_ctx;
} gs_open_options;

/* Opens a session. On failure returns NULL, sets *status (1 or 2) and writes the message. */
GS_PUBLIC gs_session *gs_open(const gs_open_options *o, int *status, char *errbuf, size_t errlen);

/* Runs one command ("goroutines", "streams", "why-blocked", "info", ...) with its options
 * (argv[0] is the command). *out receives the rendered output (malloc'd, caller frees with
 * gs_free), *errmsg a message on failure. Returns the exit status. */
GS_PUBLIC int gs_command(gs_session *s, int argc, const char *const *argv, char **out, char **errmsg);

/* Checks a command line as gs_command would parse it, without a session: a front end
 * calls it before opening a live target, so a usage error never pauses a process.
 * Returns 0, or 2 with *errmsg set (caller frees with gs_free). */
GS_PUBLIC int gs_command_check(int argc, const char *const *argv, char **errmsg);

/* Like gs_command, but the output goes to write(ctx, bytes, n) as it is produced, in pieces
 * of about 1 MiB, instead of being returned: for large reports on cores. */
typedef void (*gs_write_fn)(void *ctx, const char *p, size_t n);
GS_PUBLIC int gs_command_stream(gs_session *s, int argc, const char *const *argv, gs_write_fn write,
		      void *ctx, char **errmsg);

/* What may make the answers of this session incomplete (a truncated core, lost notes,
 * unreadable or implausible goroutines, --force over a mismatch, gRPC objects read in part),
 * as "warning: ...\n" lines, after a command ran (its JSON carries the same in
 * "warnings"); NULL when nothing. Free with gs_free. Front ends print it on stderr. */
GS_PUBLIC char *gs_warnings(gs_session *s);

/* Resumes a live target now (no-op otherwise). Closing also resumes. */
/* How long each phase of the session took so far, as one line ("timing: open ... ms, ...,
 * total ... ms\n"); free with gs_free. */
GS_PUBLIC char *gs_timing(gs_session *s);

GS_PUBLIC void gs_resume(gs_session *s);
/* What opening the session found wrong but went on without (a separate debug file that
 * was found but does not match), one line each, or "". Owned by the session; front ends
 * print it on stderr. */
GS_PUBLIC const char *gs_open_warnings(gs_session *s);
GS_PUBLIC void gs_close(gs_session *s);
GS_PUBLIC void gs_free(void *p);
GS_PUBLIC const char *gs_version(void);

/* Usage text of every command, for front ends (built once from the grammar). */
GS_PUBLIC const char *gs_usage(void);

/* ---- options and the command grammar ---------------------------------------------------
 *
 * What to open and which command to run, set by name so that no front end depends on the
 * layout of gs_open_options (the Python wrappers use only these). One grammar, in the
 * library, decides which commands and options exist, which take values, and what each
 * misuse is told: the CLI and the gdb and lldb wrappers parse their lines with it. */
typedef struct gs_options gs_options;

GS_PUBLIC gs_options *gs_options_new(void);
GS_PUBLIC void gs_options_free(gs_options *o);
/* Sets an option by name: "exe", "core" (paths; NULL clears), "pid", "force" ("1"/"0"),
 * "debug-file", "debug-dir" (appends one directory), "timeout" (seconds, kept for the
 * front end), "want-grpc". Returns 0, or 2 with *errmsg (free with gs_free; errmsg may be
 * NULL). */
GS_PUBLIC int gs_options_set(gs_options *o, const char *name, const char *value, char **errmsg);
/* An option's value as a string, NULL when unset: the names above ("debug-dirs" for the
 * joined directories), and after gs_parse_line: "command" (the command to run), "help"
 * (help was asked: "" for all commands or the command's name), "version". The string is
 * o's. */
GS_PUBLIC const char *gs_options_get(const gs_options *o, const char *name);
/* A host debugger's target: its memory through read(ctx, ...), its threads one by one,
 * and the PIE load bias when the debugger knows it. */
GS_PUBLIC void gs_options_set_reader(gs_options *o, gs_read_memory_fn read, void *ctx);
/* Progress of a compressed core's decompression (the CLI's line on a terminal). */
GS_PUBLIC void gs_options_set_progress(gs_options *o, gs_progress_fn fn, void *ctx);
GS_PUBLIC int gs_options_add_thread(gs_options *o, int64_t tid, uint64_t rip, uint64_t rsp,
				    uint64_t rbp, uint64_t fs_base);
GS_PUBLIC void gs_options_set_bias(gs_options *o, uint64_t bias);
/* gs_open with these options; keep o until the session is closed. */
GS_PUBLIC gs_session *gs_open_with(const gs_options *o, int *status, char *errbuf, size_t errlen);

#define GS_LINE_CLI 1      /* a whole command line: EXE CORE, CORE or --pid PID, --timeout */
#define GS_LINE_DEBUGGER 2 /* a line typed in gdb or lldb: no files, no --pid */
/* Parses a line (argv: the words after the program name) with the grammar: the snapshot's
 * files and options go into o, the command's own words into gs_options_argc/arg (to hand
 * to gs_command). With GS_LINE_CLI, the core and --peer files must be regular files.
 * Returns 0, or 2 with a one-line *errmsg about what was typed (free with gs_free).
 * --help, help [COMMAND], --version and version are answered by gs_options_get. */
GS_PUBLIC int gs_parse_line(gs_options *o, int argc, const char *const *argv, int mode,
			    char **errmsg);
GS_PUBLIC int gs_options_argc(const gs_options *o);
GS_PUBLIC const char *gs_options_arg(const gs_options *o, int i);
/* Usage of one command, or of all (command NULL or ""); NULL for an unknown command.
 * Free with gs_free. */
GS_PUBLIC char *gs_help(const char *command);
/* Completion of the word being typed after argv (argv[0] the command; argc 0: the command
 * name), for mode GS_LINE_CLI or GS_LINE_DEBUGGER: candidates one per line. A line
 * starting with ':' asks the front end for what only it knows: ":goroutine" (ids),
 * ":stream" (ID, TRANSPORT:ID, 0xADDR), ":file", ":dir". Free with gs_free. */
GS_PUBLIC char *gs_complete(int argc, const char *const *argv, const char *word, int mode);

#ifdef __cplusplus
}
#endif

#endif
