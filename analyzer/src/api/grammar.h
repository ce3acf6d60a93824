/* The command grammar: one declarative table of every command, its options, what each
 * option's value is, the positional arguments, and the help text.
 *
 * Everything that reads or explains a command line goes through it: the CLI's parser, the
 * library's per-command parsing (commands.c), the usage and per-command help, and the
 * completion of the gdb and lldb wrappers. Nothing else decides which options exist or
 * which take values. Words are told apart by their form, never by which files exist:
 * goroutine ids are numbers, a stream is ID, 0xADDR or TRANSPORT:ID, anything else is a
 * file; `--` ends the options. */
#ifndef GS_API_GRAMMAR_H
#define GS_API_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/strbuf.h"

/* What an option's value is (also what completion offers for it). */
enum gs_val {
	GS_V_NONE,    /* a flag */
	GS_V_FILE,    /* a path */
	GS_V_DIR,     /* a directory (no ':') */
	GS_V_PID,     /* a process id */
	GS_V_GOID,    /* a goroutine id */
	GS_V_SECONDS, /* a positive number of seconds */
	GS_V_STATUS,  /* a goroutine status name, as goroutines prints it */
	GS_V_REASON,  /* free text, matched in wait reasons */
	GS_V_PEER,    /* [EXE] CORE: one or two files */
	GS_V_LABEL,   /* a pprof label: KEY (present) or KEY=VALUE */
	GS_V_GROUPBY, /* optional: label:KEY, taken only when the next word has that form */
	GS_V_COUNT,   /* a whole number of samples, 2 to GS_MAX_SAMPLES */
};

/* What the command's own positional words are. */
enum gs_pos {
	GS_POS_NONE,
	GS_POS_GOIDS,  /* goroutine ids: decimal or 0x hex */
	GS_POS_STREAM, /* ID, 0xADDR or TRANSPORT:ID */
};

#define GS_MAX_SAMPLES 100
#define GS_OPT_REPEAT 1u /* may be given more than once */
#define GS_OPT_OPEN 2u   /* chooses or opens the snapshot: the front end's, not the command's */
#define GS_OPT_CLI 4u    /* only on the command line (inside a debugger, the debugger decides) */
#define GS_OPT_META 8u   /* --help, --version: the front end answers them */
#define GS_OPT_READ 16u  /* names a file read before anything opens: must be a regular file */

typedef struct gs_optspec {
	const char *name;    /* "--stacks", "-o" */
	const char *alias;   /* another spelling ("-h"), or NULL */
	enum gs_val val;
	const char *metavar; /* "S", "FILE", ... (NULL for flags) */
	unsigned flags;
	const char *help;    /* '\n' separates continuation lines */
} gs_optspec;

typedef struct gs_cmdspec {
	const char *name;
	const char *args;    /* "[GOID...]", "STREAM" or "" */
	enum gs_pos pos;
	int min_pos, max_pos; /* how many positional words; max -1: any number */
	bool want_grpc;      /* reads the gRPC model (its heap scan starts at open) */
	const char *help;
	const gs_optspec *opts; /* terminated by a NULL name */
	bool later;          /* diff: a third file, CORE_LATER, becomes --later */
} gs_cmdspec;

/* Every command, in the order help lists them; *n receives the count. */
const gs_cmdspec *gs_grammar_commands(size_t *n);
/* The options every command takes (NULL-name terminated). */
const gs_optspec *gs_grammar_common(void);
/* A command by name, or NULL. */
const gs_cmdspec *gs_grammar_command(const char *name);
/* An option of cmd (its own, then the common ones), by name or alias; NULL if none. */
const gs_optspec *gs_grammar_option(const gs_cmdspec *cmd, const char *name);
/* Goroutine status names as the runtime model prints them, NULL-terminated by index:
 * gs_grammar_status(i) for i = 0, 1, ... until NULL. */
const char *gs_grammar_status(size_t i);
/* The word's form: a goroutine id, a stream spec. */
bool gs_grammar_is_goid(const char *s);
bool gs_grammar_is_stream(const char *s);
/* Does the word fit the command's positional kind? */
bool gs_grammar_is_positional(const gs_cmdspec *cmd, const char *s);
/* The nearest of the candidates to word (a typo a few letters off), or NULL. */
const char *gs_grammar_near(const char *word, const char *const *cands, size_t n);

/* Usage of every command (cmd NULL) or of one. */
void gs_grammar_usage(gs_strbuf *out, const gs_cmdspec *cmd);

/* ---- parsing -------------------------------------------------------------------------- */

enum gs_parse_mode {
	GS_PARSE_COMMAND,  /* gs_command's argv: the command first, no files, no open options */
	GS_PARSE_CLI,      /* a whole command line: files, --pid, --timeout */
	GS_PARSE_DEBUGGER, /* a whole line inside gdb or lldb: the debugger's target, no files */
};

/* One word of the line as understood: an option with its value(s), or a positional. */
typedef struct gs_item {
	const gs_optspec *opt; /* NULL: a positional of the command */
	const char *v1, *v2;   /* the value(s); a positional's word in v1 */
} gs_item;

typedef struct gs_cmdline {
	const gs_cmdspec *cmd; /* NULL with help or version and no command */
	bool help, version;    /* --help / help [COMMAND]; --version / version */
	gs_item *items;        /* options and positionals, in the order given */
	size_t nitems;
	const char **files;    /* the snapshot's files (CLI): EXE CORE, CORE, or EXE with --pid */
	size_t nfiles;
	char **owned; /* strings gs_cmdline_argv made */
	size_t nowned;
} gs_cmdline;

/* Parses argv (in GS_PARSE_COMMAND mode argv[0] is the command; otherwise argv is the line
 * after the program name). Returns 0, or 2 with a one-line message about what was typed
 * in err. cl is to be freed with gs_cmdline_free either way. */
int gs_cmdline_parse(int argc, const char *const *argv, enum gs_parse_mode mode,
		     gs_cmdline *cl, char *err, size_t errlen);
void gs_cmdline_free(gs_cmdline *cl);
/* The option's last item (by name), or NULL. */
const gs_item *gs_cmdline_get(const gs_cmdline *cl, const char *name);
/* How many times the option was given. */
size_t gs_cmdline_count(const gs_cmdline *cl, const char *name);
/* The command's argv for gs_command: the command, then its options and positionals in the
 * order given, without files and front-end options. *argc receives the count; the strings
 * are cl's (or argv's); free the array with free(). */
/* NULL when out of memory. */
const char **gs_cmdline_argv(gs_cmdline *cl, int *argc);

/* Completion candidates for the word being typed after argv (argv[0] the command; argc 0:
 * the command itself), one per line. Lines starting with ':' ask the front end for what
 * only it knows: ":goroutine" ids, ":stream" specs, ":file", ":dir". */
void gs_grammar_complete(int argc, const char *const *argv, const char *word,
			 enum gs_parse_mode mode, gs_strbuf *out);

#endif
