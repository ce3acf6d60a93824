/* The command grammar's table, its look-ups, the usage it generates and completion. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../goruntime/model.h"
#include "grammar.h"

#define END {NULL, NULL, GS_V_NONE, NULL, 0, NULL}

static const gs_optspec common[] = {
	{"--json", NULL, GS_V_NONE, NULL, 0, "machine-readable output (schema grpcscope/1)"},
	{"--force", NULL, GS_V_NONE, NULL, GS_OPT_OPEN,
	 "read a core whose executable has another build id"},
	{"--timeout", NULL, GS_V_SECONDS, "SECONDS", GS_OPT_OPEN | GS_OPT_CLI,
	 "give up after SECONDS (exit 1); a live process is resumed"},
	{"--pid", NULL, GS_V_PID, "PID", GS_OPT_OPEN | GS_OPT_CLI,
	 "a live process, paused only while it is read"},
	{"--debug-file", NULL, GS_V_FILE, "PATH", GS_OPT_OPEN,
	 "the executable's separate debug info (DWARF) is in PATH"},
	{"--debug-dir", NULL, GS_V_DIR, "DIR", GS_OPT_OPEN | GS_OPT_REPEAT,
	 "where to look for separate debug info (repeatable;\n"
	 "default $GRPCSCOPE_DEBUG_DIR, else /usr/lib/debug);\n"
	 "debuginfod is asked when DEBUGINFOD_URLS is set"},
	{"--help", "-h", GS_V_NONE, NULL, GS_OPT_META, "this text, or the command's"},
	{"--version", NULL, GS_V_NONE, NULL, GS_OPT_META, "grpcscope's version"},
	END,
};

static const gs_optspec no_opts[] = {END};

/* Live sampling (sampling.c): the command line's only, since a debugger holds its target. */
#define SAMPLING_OPTS \
	{"--samples", NULL, GS_V_COUNT, "N", GS_OPT_CLI, \
	 "with --pid: N snapshots, each a brief pause, compared as\n" \
	 "diff compares two cores (stuck or progressing)"}, \
	{"--interval", NULL, GS_V_SECONDS, "SECONDS", GS_OPT_CLI, \
	 "with --samples: time between snapshots (default 1)"}

static const gs_optspec streams_opts[] = {SAMPLING_OPTS, END};

static const gs_optspec goroutines_opts[] = {
	{"--stacks", NULL, GS_V_NONE, NULL, 0, "full stacks"},
	{"--group", NULL, GS_V_GROUPBY, "[label:KEY]", 0,
	 "group goroutines with identical stacks; with label:KEY,\n"
	 "by the value of their pprof label KEY"},
	{"--status", NULL, GS_V_STATUS, "S", 0,
	 "only goroutines in status S (waiting, runnable, ...)"},
	{"--reason", NULL, GS_V_REASON, "R", 0, "only goroutines whose wait reason contains R"},
	{"--id", NULL, GS_V_GOID, "N", GS_OPT_REPEAT, "only goroutine N (repeatable)"},
	{"--label", NULL, GS_V_LABEL, "KEY[=VALUE]", GS_OPT_REPEAT,
	 "only goroutines with pprof label KEY (equal to VALUE);\nrepeatable: all must hold"},
	SAMPLING_OPTS,
	END,
};

static const gs_optspec why_blocked_opts[] = {
	{"--all", NULL, GS_V_NONE, NULL, 0, "every verdict, one block each"},
	{"--dot", NULL, GS_V_NONE, NULL, 0, "the wait-for graph for Graphviz"},
	{"--label", NULL, GS_V_LABEL, "KEY[=VALUE]", GS_OPT_REPEAT,
	 "only verdicts of goroutines with pprof label KEY (equal\n"
	 "to VALUE), and those their chains reach; repeatable"},
	{"--peer", NULL, GS_V_PEER, "[EXE2] CORE2", GS_OPT_REPEAT | GS_OPT_READ,
	 "the process at the other end (e.g. the server's core):\n"
	 "connections are paired and chains cross into it;\n"
	 "repeat it to follow chains through more processes"},
	{"--snapshots", NULL, GS_V_DIR, "DIR", GS_OPT_REPEAT,
	 "every core in DIR (NAME.core beside NAME, SUB/core\n"
	 "with SUB/exe, or the executable its mappings name)\n"
	 "as peers; without EXE CORE the first is the primary"},
	SAMPLING_OPTS,
	END,
};

static const gs_optspec report_opts[] = {
	{"-o", "--output", GS_V_FILE, "FILE", 0, "write it to FILE (default: standard output)"},
	{"--peer", NULL, GS_V_PEER, "[EXE2] CORE2", GS_OPT_REPEAT | GS_OPT_READ,
	 "the process at the other end, as for why-blocked"},
	{"--snapshots", NULL, GS_V_DIR, "DIR", GS_OPT_REPEAT,
	 "every core in DIR as peers, as for why-blocked"},
	END,
};

static const gs_optspec diff_opts[] = {
	{"--later", NULL, GS_V_FILE, "CORE_LATER", GS_OPT_READ,
	 "the later snapshot (on the command line, the third file)"},
	END,
};

static const gs_cmdspec commands[] = {
	{"info", "", GS_POS_NONE, 0, 0, false,
	 "the snapshot: Go and grpc-go versions, threads, counts", no_opts, false},
	{"goroutines", "[GOID...]", GS_POS_GOIDS, 0, -1, true,
	 "every goroutine: status, wait reason, top user frame,\nwhat it waits on",
	 goroutines_opts, false},
	{"goroutine-bt", "GOID...", GS_POS_GOIDS, 1, -1, true,
	 "the stacks of these goroutines (goroutines --stacks --id)", no_opts, false},
	{"streams", "", GS_POS_NONE, 0, 0, true,
	 "every gRPC transport with its streams: state, flow\nwindows, recv buffers, goroutines",
	 streams_opts, false},
	{"stream-state", "STREAM", GS_POS_STREAM, 1, 1, true,
	 "one stream in depth; STREAM is an id (when unique),\nTRANSPORT:ID, or the stream's address",
	 no_opts, false},
	{"why-blocked", "[GOID...]", GS_POS_GOIDS, 0, -1, true,
	 "a verdict for each goroutine blocked in or on gRPC, with\n"
	 "evidence and the goroutines it blames next; text is\n"
	 "grouped by root cause, largest first",
	 why_blocked_opts, false},
	{"diff", "", GS_POS_NONE, 0, 0, true,
	 "EXE CORE_EARLIER CORE_LATER: one process at two moments,\n"
	 "stuck or slow? streams progressed or unchanged,\n"
	 "goroutines parked or moved",
	 diff_opts, true},
	{"report", "", GS_POS_NONE, 0, 0, true,
	 "one self-contained HTML page for a postmortem: facts,\n"
	 "root causes, wait-for graph, streams, goroutine groups",
	 report_opts, false},
	{"selfcheck", "", GS_POS_NONE, 0, 0, false,
	 "every runtime field the analyser reads: found or missing", no_opts, false},
};

const gs_cmdspec *gs_grammar_commands(size_t *n)
{
	*n = sizeof commands / sizeof commands[0];
	return commands;
}

const gs_optspec *gs_grammar_common(void)
{
	return common;
}

const gs_cmdspec *gs_grammar_command(const char *name)
{
	for (size_t i = 0; name && i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static const gs_optspec *find_in(const gs_optspec *o, const char *name)
{
	for (; o->name; o++)
		if (strcmp(o->name, name) == 0 || (o->alias && strcmp(o->alias, name) == 0))
			return o;
	return NULL;
}

const gs_optspec *gs_grammar_option(const gs_cmdspec *cmd, const char *name)
{
	const gs_optspec *o = cmd ? find_in(cmd->opts, name) : NULL;
	return o ? o : find_in(common, name);
}

const char *gs_grammar_status(size_t i)
{
	/* The model's own names, up to its first "unknown". */
	const char *s = gs_rt_status_name((uint32_t)i);
	return strcmp(s, "unknown") == 0 ? NULL : s;
}

static bool is_num(const char *s, size_t n)
{
	size_t i = 0;
	bool hex = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	if (hex)
		i = 2;
	if (i >= n)
		return false;
	for (; i < n; i++)
		if (!(s[i] >= '0' && s[i] <= '9') &&
		    !(hex && ((s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F'))))
			return false;
	return true;
}

bool gs_grammar_is_goid(const char *s)
{
	return is_num(s, strlen(s));
}

bool gs_grammar_is_stream(const char *s)
{
	const char *colon = strchr(s, ':');
	if (colon)
		return is_num(s, (size_t)(colon - s)) && is_num(colon + 1, strlen(colon + 1));
	return is_num(s, strlen(s));
}

bool gs_grammar_is_positional(const gs_cmdspec *cmd, const char *s)
{
	/* A number is never a file name here, whichever the command ("./26" is). */
	if (cmd && cmd->pos == GS_POS_STREAM)
		return gs_grammar_is_stream(s);
	return gs_grammar_is_goid(s);
}

/* Edit distance (insertions, deletions, substitutions, adjacent swaps), capped. */
static size_t distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > 40 || m > 40)
		return 99;
	size_t d[41][41];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++)
		for (size_t j = 1; j <= m; j++) {
			size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < c)
				c = d[i - 2][j - 2] + 1;
			d[i][j] = c;
		}
	return d[n][m];
}

const char *gs_grammar_near(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bd = 99, len = strlen(word);
	/* a few letters off, fewer for short words; a prefix of one candidate counts too */
	size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	for (size_t i = 0; i < n; i++) {
		size_t d = distance(word, cands[i]);
		if (len >= 3 && strncmp(cands[i], word, len) == 0)
			d = 1;
		if (d < bd) {
			bd = d;
			best = cands[i];
		}
	}
	return bd <= limit ? best : NULL;
}

/* ---- usage ------------------------------------------------------------------------------ */

#define COL 28

/* "  LEFT          help line 1\n" + continuation lines at COL. */
static void entry(gs_strbuf *out, int indent, const char *left, const char *help)
{
	int w = indent + (int)strlen(left);
	gs_strbuf_printf(out, "%*s%s", indent, "", left);
	const char *p = help;
	bool first = true;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (first && w < COL)
			gs_strbuf_printf(out, "%*s", COL - w, "");
		else
			gs_strbuf_printf(out, "\n%*s", COL, "");
		gs_strbuf_put(out, p, len);
		first = false;
		p = nl ? nl + 1 : NULL;
	}
	gs_strbuf_putc(out, '\n');
}

static void opt_left(char *buf, size_t cap, const gs_optspec *o)
{
	int k = snprintf(buf, cap, "%s", o->name);
	if (o->alias)
		k += snprintf(buf + k, cap - (size_t)k, ", %s", o->alias);
	if (o->metavar)
		snprintf(buf + k, cap - (size_t)k, " %s", o->metavar);
}

static void cmd_left(char *buf, size_t cap, const gs_cmdspec *c)
{
	snprintf(buf, cap, "%s%s%s", c->name, *c->args ? " " : "", c->args);
}

static void options_of(gs_strbuf *out, const gs_optspec *o, int indent)
{
	char left[64];
	for (; o->name; o++) {
		opt_left(left, sizeof left, o);
		entry(out, indent, left, o->help);
	}
}

void gs_grammar_usage(gs_strbuf *out, const gs_cmdspec *cmd)
{
	char left[64];
	if (cmd) {
		cmd_left(left, sizeof left, cmd);
		if (cmd->later) {
			gs_strbuf_printf(out, "usage: grpcscope %s [OPTIONS] EXE CORE_EARLIER CORE_LATER\n"
					 "       grpcscope %s [OPTIONS] CORE_EARLIER CORE_LATER\n\n",
					 cmd->name, cmd->name);
			entry(out, 2, cmd->name, cmd->help);
			gs_strbuf_puts(out, "\noptions:\n");
			options_of(out, cmd->opts, 2);
			gs_strbuf_puts(out, "\ncommon options:\n");
			options_of(out, common, 2);
			return;
		}
		const char *sp = *cmd->args ? " " : "";
		gs_strbuf_printf(out, "usage: grpcscope %s [OPTIONS] EXE CORE%s%s\n"
				 "       grpcscope %s [OPTIONS] CORE%s%s\n"
				 "       grpcscope %s [OPTIONS] --pid PID%s%s\n\n",
				 cmd->name, sp, cmd->args, cmd->name, sp, cmd->args, cmd->name, sp,
				 cmd->args);
		entry(out, 2, left, cmd->help);
		if (cmd->opts->name) {
			gs_strbuf_puts(out, "\noptions:\n");
			options_of(out, cmd->opts, 2);
		}
		gs_strbuf_puts(out, "\ncommon options:\n");
		options_of(out, common, 2);
		return;
	}
	gs_strbuf_puts(out, "usage: grpcscope COMMAND [OPTIONS] EXE CORE\n"
			    "       grpcscope COMMAND [OPTIONS] CORE\n"
			    "       grpcscope COMMAND [OPTIONS] --pid PID\n"
			    "       grpcscope help [COMMAND]\n"
			    "CORE may be compressed with zstd, xz, gzip or lz4 (told by its content).\n"
			    "\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		cmd_left(left, sizeof left, &commands[i]);
		entry(out, 2, left, commands[i].help);
		options_of(out, commands[i].opts, 6);
	}
	gs_strbuf_puts(out, "\noptions (any command, anywhere on the line):\n");
	options_of(out, common, 2);
	entry(out, 2, "--", "ends the options: every word after it is a file or\n"
			    "an argument of the command");
	gs_strbuf_puts(out, "\nGoroutine ids and streams are told from files by their form (a number,\n"
			    "0xADDR, TRANSPORT:ID); write a file with such a name as ./NAME. The word\n"
			    "after --peer's file is its CORE2 when the snapshot has its files without\n"
			    "it (--peer CORE2 EXE CORE, EXE CORE --peer EXE2 CORE2).\n");
}

/* ---- completion ------------------------------------------------------------------------- */

static void offer(gs_strbuf *out, const char *cand, const char *word)
{
	if (strncmp(cand, word, strlen(word)) == 0) {
		gs_strbuf_puts(out, cand);
		gs_strbuf_putc(out, '\n');
	}
}

static bool given(int argc, const char *const *argv, const gs_optspec *o)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], o->name) == 0 || (o->alias && strcmp(argv[i], o->alias) == 0))
			return true;
	return false;
}

static void offer_opts(gs_strbuf *out, const gs_optspec *o, int argc, const char *const *argv,
		       const char *word, enum gs_parse_mode mode)
{
	for (; o->name; o++) {
		if ((o->flags & GS_OPT_CLI) && mode != GS_PARSE_CLI)
			continue;
		if (!(o->flags & GS_OPT_REPEAT) && given(argc, argv, o))
			continue;
		offer(out, o->name, word);
	}
}

static void offer_value(gs_strbuf *out, enum gs_val v, const char *word)
{
	switch (v) {
	case GS_V_STATUS:
		for (size_t i = 0; gs_grammar_status(i); i++)
			offer(out, gs_grammar_status(i), word);
		break;
	case GS_V_GOID:
		gs_strbuf_puts(out, ":goroutine\n");
		break;
	case GS_V_FILE:
	case GS_V_PEER:
		gs_strbuf_puts(out, ":file\n");
		break;
	case GS_V_DIR:
		gs_strbuf_puts(out, ":dir\n");
		break;
	default: /* a pid, seconds, free text: nothing to offer */
		break;
	}
}

void gs_grammar_complete(int argc, const char *const *argv, const char *word,
			 enum gs_parse_mode mode, gs_strbuf *out)
{
	size_t n = sizeof commands / sizeof commands[0];
	bool dashes = false;
	for (int i = 1; i < argc; i++)
		dashes |= strcmp(argv[i], "--") == 0;
	if (argc == 0 || strcmp(argv[0], "help") == 0) {
		if (argc > 1)
			return;
		for (size_t i = 0; i < n; i++)
			offer(out, commands[i].name, word);
		offer(out, "help", word);
		if (argc == 0) {
			offer(out, "version", word);
			if (*word == '-')
				offer_opts(out, common, 0, argv, word, mode);
		}
		return;
	}
	const gs_cmdspec *cmd = gs_grammar_command(argv[0]);
	if (!cmd)
		return;
	/* the value of the option just before */
	const gs_optspec *prev = argc > 1 && !dashes ? gs_grammar_option(cmd, argv[argc - 1]) : NULL;
	if (prev && prev->val == GS_V_GROUPBY) /* its value is optional: then anything else */
		offer(out, "label:", word);
	else if (prev && prev->val != GS_V_NONE) {
		offer_value(out, prev->val, word);
		return;
	}
	const gs_optspec *prev2 = argc > 2 && !dashes ? gs_grammar_option(cmd, argv[argc - 2]) : NULL;
	bool after_peer = prev2 && prev2->val == GS_V_PEER && argv[argc - 1][0] != '-';
	if (*word == '-' && !dashes) {
		offer_opts(out, cmd->opts, argc, argv, word, mode);
		offer_opts(out, common, argc, argv, word, mode);
		if (*word == '-' && word[1] == '-' && !word[2])
			offer(out, "--", word);
		return;
	}
	if (after_peer) /* --peer EXE2 CORE2 */
		gs_strbuf_puts(out, ":file\n");
	if (cmd->pos == GS_POS_GOIDS)
		gs_strbuf_puts(out, ":goroutine\n");
	else if (cmd->pos == GS_POS_STREAM)
		gs_strbuf_puts(out, ":stream\n");
	if (mode == GS_PARSE_CLI)
		gs_strbuf_puts(out, ":file\n");
	if (!*word && !dashes) {
		offer_opts(out, cmd->opts, argc, argv, word, mode);
		offer_opts(out, common, argc, argv, word, mode);
	}
}
