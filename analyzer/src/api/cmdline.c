/* Parsing a command line with the grammar (grammar.h): every word is an option (known by
 * the table), a value of the option before it, the command's positional (by its form) or
 * a file. Each misuse gets a message about the word the user typed. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grammar.h"

#include "../util/alloc.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return 2;
}

static bool looks_option(const char *s)
{
	return s[0] == '-' && s[1];
}

/* A word that can only be a file here: not an option, not the command's argument. */
static bool file_form(const gs_cmdspec *cmd, const char *s)
{
	return !looks_option(s) && strcmp(s, "--") != 0 && !gs_grammar_is_positional(cmd, s);
}

static const char *what_value(enum gs_val v)
{
	switch (v) {
	case GS_V_FILE: return "a path";
	case GS_V_DIR: return "a directory";
	case GS_V_PID: return "a process id";
	case GS_V_GOID: return "a goroutine id";
	case GS_V_SECONDS: return "a number of seconds";
	case GS_V_STATUS: return "a goroutine status (waiting, runnable, ...)";
	case GS_V_REASON: return "a text to find in wait reasons";
	case GS_V_PEER: return "a core file";
	case GS_V_LABEL: return "a pprof label, KEY or KEY=VALUE";
	case GS_V_COUNT: return "a number of samples";
	default: return "a value";
	}
}

static int needs(const gs_optspec *o, const char *next, char *err, size_t errlen)
{
	bool text = o->val == GS_V_FILE || o->val == GS_V_DIR || o->val == GS_V_REASON ||
		    o->val == GS_V_PEER;
	if (next && looks_option(next) && text && o->name[1] == '-')
		return fail(err, errlen, "%s needs %s, not the option %s (write %s=%s for a value "
			    "that starts with '-')", o->name, what_value(o->val), next, o->name, next);
	if (next && looks_option(next))
		return fail(err, errlen, "%s needs %s, not the option %s", o->name,
			    what_value(o->val), next);
	return fail(err, errlen, "%s needs %s", o->name, what_value(o->val));
}

static void status_list(char *buf, size_t cap)
{
	size_t k = 0;
	buf[0] = 0;
	for (size_t i = 0; gs_grammar_status(i) && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", gs_grammar_status(i));
}

static int check_value(const gs_cmdspec *cmd, const gs_optspec *o, const char *v, char *err,
		       size_t errlen)
{
	char *end = NULL;
	switch (o->val) {
	case GS_V_PID: {
		errno = 0;
		long p = strtol(v, &end, 10);
		if (errno || *end || end == v || p <= 0 || p > 0x7fffffff || v[0] == '+')
			return fail(err, errlen, "%s needs a process id, not '%s'", o->name, v);
		return 0;
	}
	case GS_V_SECONDS: {
		double t = strtod(v, &end);
		if (*end || end == v || !(t > 0) || t > 1e6)
			return fail(err, errlen, "%s needs a number of seconds, not '%s'", o->name, v);
		return 0;
	}
	case GS_V_COUNT: {
		errno = 0;
		long k = strtol(v, &end, 10);
		if (errno || *end || end == v || k < 2 || k > GS_MAX_SAMPLES)
			return fail(err, errlen, "%s needs a number of samples from 2 to %d, not '%s'",
				    o->name, GS_MAX_SAMPLES, v);
		return 0;
	}
	case GS_V_GOID:
		if (!gs_grammar_is_goid(v))
			return fail(err, errlen, "%s: %s %s: not a goroutine id", cmd->name, o->name, v);
		return 0;
	case GS_V_STATUS: {
		const char *names[32];
		size_t n = 0;
		for (; gs_grammar_status(n) && n < 32; n++) {
			names[n] = gs_grammar_status(n);
			if (strcmp(names[n], v) == 0)
				return 0;
		}
		const char *near = gs_grammar_near(v, names, n);
		if (near)
			return fail(err, errlen, "%s: %s %s: not a goroutine status (did you mean %s?)",
				    cmd->name, o->name, v, near);
		char list[256];
		status_list(list, sizeof list);
		return fail(err, errlen, "%s: %s %s: not a goroutine status (%s)", cmd->name,
			    o->name, v, list);
	}
	case GS_V_DIR:
		if (!*v)
			return fail(err, errlen, "%s needs a directory", o->name);
		if (strchr(v, ':') && strcmp(o->name, "--debug-dir") == 0)
			return fail(err, errlen, "%s: ':' separates debug directories", v);
		return 0;
	case GS_V_FILE:
	case GS_V_PEER:
		if (!*v)
			return fail(err, errlen, "%s needs %s", o->name, what_value(o->val));
		return 0;
	case GS_V_LABEL:
		if (!*v || *v == '=')
			return fail(err, errlen, "%s: %s needs a label KEY or KEY=VALUE, not '%s'",
				    cmd->name, o->name, v);
		return 0;
	case GS_V_GROUPBY:
		if (strncmp(v, "label:", 6) != 0 || !v[6])
			return fail(err, errlen, "%s: %s takes no value or label:KEY (a pprof label), "
				    "not '%s'", cmd->name, o->name, v);
		return 0;
	default:
		return 0;
	}
}

/* An option the command does not have: another command's, a typo, or unknown. */
static int unknown_option(const gs_cmdspec *cmd, const char *name, char *err, size_t errlen)
{
	size_t n;
	const gs_cmdspec *all = gs_grammar_commands(&n);
	const char *owner = NULL;
	for (size_t i = 0; i < n && !owner; i++)
		for (const gs_optspec *o = all[i].opts; o->name && !owner; o++)
			if (strcmp(o->name, name) == 0)
				owner = all[i].name;
	if (!cmd) {
		if (owner)
			return fail(err, errlen, "%s is an option of %s: give the command first "
				    "(grpcscope %s %s ...)", name, owner, owner, name);
		return fail(err, errlen, "unknown option %s (see grpcscope help)", name);
	}
	if (owner)
		return fail(err, errlen, "%s: %s is an option of %s, not of %s", cmd->name, name,
			    owner, cmd->name);
	const char *cands[32];
	size_t k = 0;
	for (const gs_optspec *o = cmd->opts; o->name && k < 16; o++)
		cands[k++] = o->name;
	for (const gs_optspec *o = gs_grammar_common(); o->name && k < 32; o++)
		cands[k++] = o->name;
	const char *near = gs_grammar_near(name, cands, k);
	if (near)
		return fail(err, errlen, "%s: unknown option %s (did you mean %s?)", cmd->name, name,
			    near);
	return fail(err, errlen, "%s: unknown option %s (see grpcscope help %s)", cmd->name, name,
		    cmd->name);
}

static int unknown_command(const char *word, char *err, size_t errlen)
{
	size_t n;
	const gs_cmdspec *all = gs_grammar_commands(&n);
	const char *cands[34];
	size_t k = 0;
	for (size_t i = 0; i < n && k < 32; i++)
		cands[k++] = all[i].name;
	cands[k++] = "help";
	cands[k++] = "version";
	const char *near = gs_grammar_near(word, cands, k);
	if (near)
		return fail(err, errlen, "unknown command '%s' (did you mean %s?)", word, near);
	return fail(err, errlen, "unknown command '%s' (see grpcscope help)", word);
}

static bool is_meta(const char *a, bool *version)
{
	*version = strcmp(a, "--version") == 0;
	return *version || strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* --help or --version anywhere before "--": answered whatever else the line holds. The
 * topic of --help is the command named on the line, if any. */
static bool meta(int argc, const char *const *argv, gs_cmdline *cl)
{
	bool any = false, v;
	const gs_cmdspec *topic = NULL;
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (is_meta(argv[i], &v)) {
			any = true;
			cl->version |= v;
			cl->help |= !v;
		} else if (!topic && !looks_option(argv[i])) {
			topic = gs_grammar_command(argv[i]);
		}
	}
	if (cl->version)
		cl->help = false;
	if (any)
		cl->cmd = topic;
	return any;
}

/* help [COMMAND], version */
static int help_command(int argc, const char *const *argv, int i, gs_cmdline *cl, char *err,
			size_t errlen)
{
	if (strcmp(argv[i], "version") == 0) {
		cl->version = true;
		return i + 1 < argc ? fail(err, errlen, "version: takes no arguments (%s)", argv[i + 1])
				    : 0;
	}
	cl->help = true;
	if (i + 1 >= argc)
		return 0;
	if (i + 2 < argc)
		return fail(err, errlen, "help: one command at a time (%s)", argv[i + 2]);
	cl->cmd = gs_grammar_command(argv[i + 1]);
	if (!cl->cmd && strcmp(argv[i + 1], "help") != 0)
		return unknown_command(argv[i + 1], err, errlen);
	return 0;
}

/* Where the options of opening a snapshot may not go. */
static int misplaced(const gs_optspec *o, enum gs_parse_mode mode, char *err, size_t errlen)
{
	if (mode == GS_PARSE_COMMAND && (o->flags & (GS_OPT_OPEN | GS_OPT_META)))
		return fail(err, errlen, "%s is for the front end that opens the snapshot, not an "
			    "option of the command", o->name);
	if (mode == GS_PARSE_DEBUGGER && (o->flags & GS_OPT_CLI) && !(o->flags & GS_OPT_OPEN))
		return fail(err, errlen, "%s: sampling resumes the process between snapshots, and "
			    "inside a debugger the debugger holds it stopped: run grpcscope --pid "
			    "outside the debugger", o->name);
	if (mode == GS_PARSE_DEBUGGER && (o->flags & GS_OPT_CLI))
		return fail(err, errlen, "%s: inside a debugger, grpcscope reads the debugger's "
			    "target (%s)", o->name, o->val == GS_V_PID ? "attach to the process there"
			    : "not available here");
	return 0;
}

static int option(int argc, const char *const *argv, int *i, enum gs_parse_mode mode,
		  gs_cmdline *cl, char *err, size_t errlen)
{
	const char *a = argv[*i], *inl = NULL;
	char name[64];
	const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
	if (eq && (size_t)(eq - a) < sizeof name) {
		memcpy(name, a, (size_t)(eq - a));
		name[eq - a] = 0;
		inl = eq + 1;
	} else {
		snprintf(name, sizeof name, "%s", a);
	}
	const gs_optspec *o = gs_grammar_option(cl->cmd, name);
	if (!o)
		return unknown_option(cl->cmd, name, err, errlen);
	if (misplaced(o, mode, err, errlen))
		return 2;
	if (o->flags & GS_OPT_META)
		return 0; /* answered before parsing (meta) */
	if (inl && o->val == GS_V_NONE)
		return fail(err, errlen, "%s takes no value (%s)", o->name, a);
	if (o->val != GS_V_NONE && o->val != GS_V_GROUPBY && !(o->flags & GS_OPT_REPEAT) &&
	    gs_cmdline_get(cl, o->name))
		return fail(err, errlen, "%s%s%s given twice (once is enough)",
			    cl->cmd ? cl->cmd->name : "", cl->cmd ? ": " : "", o->name);
	gs_item it = {o, NULL, NULL};
	if (o->val != GS_V_NONE) {
		if (inl)
			it.v1 = inl;
		else if (o->val == GS_V_GROUPBY)
			it.v1 = *i + 1 < argc && strncmp(argv[*i + 1], "label:", 6) == 0
				? argv[++*i] : NULL;
		else if (*i + 1 < argc && !looks_option(argv[*i + 1]))
			it.v1 = argv[++*i];
		else
			return needs(o, *i + 1 < argc ? argv[*i + 1] : NULL, err, errlen);
		if (it.v1 && check_value(cl->cmd, o, it.v1, err, errlen))
			return 2;
	}
	cl->items[cl->nitems++] = it;
	return 0;
}

static size_t positionals(const gs_cmdline *cl, const char **first, const char **extra)
{
	size_t n = 0;
	for (size_t i = 0; i < cl->nitems; i++)
		if (!cl->items[i].opt) {
			if (n == 0)
				*first = cl->items[i].v1;
			else if (cl->cmd->max_pos >= 0 && n == (size_t)cl->cmd->max_pos)
				*extra = cl->items[i].v1;
			n++;
		}
	return n;
}

static int check_positionals(const gs_cmdline *cl, char *err, size_t errlen)
{
	const gs_cmdspec *c = cl->cmd;
	const char *first = NULL, *extra = NULL;
	size_t n = positionals(cl, &first, &extra);
	if (n < (size_t)c->min_pos)
		return c->pos == GS_POS_STREAM
			? fail(err, errlen, "%s: which stream? (ID, TRANSPORT:ID or address)", c->name)
			: fail(err, errlen, "%s: which goroutine? (give one or more goroutine ids)",
			       c->name);
	if (c->max_pos == 0 && n)
		return fail(err, errlen, "%s: takes no goroutine ids or streams (%s)", c->name, first);
	if (c->max_pos > 0 && n > (size_t)c->max_pos)
		return fail(err, errlen, "%s: one stream at a time (%s, then %s)", c->name, first,
			    extra);
	return 0;
}

/* The snapshot's files: EXE CORE, CORE, or at most EXE with --pid. A file word right
 * after --peer's file (--peer EXE2 CORE2) is the peer's when the snapshot has enough
 * without it: always with --pid, else while it would have more than EXE CORE, or with
 * --snapshots when it is the only file (the last such word first). `--peer A B C` is --peer A with B C the snapshot's; `EXE CORE --peer
 * A B` and `--peer A B EXE CORE` give A B to --peer. */
static int check_files(gs_cmdline *cl, const long *owner, char *err, size_t errlen)
{
	bool pid = gs_cmdline_get(cl, "--pid") != NULL;
	/* With --snapshots DIR the snapshot needs no files (DIR's first is the primary): a lone
	 * file after --peer's is --peer's. */
	bool dir = gs_cmdline_get(cl, "--snapshots") != NULL;
	for (size_t k = cl->nfiles; k-- > 0;) {
		if (owner[k] < 0 || (!pid && cl->nfiles <= 2 && !(dir && cl->nfiles == 1)))
			continue;
		cl->items[owner[k]].v2 = cl->files[k];
		memmove(&cl->files[k], &cl->files[k + 1], (cl->nfiles - k - 1) * sizeof *cl->files);
		cl->nfiles--;
	}
	if (cl->cmd->later && !gs_cmdline_get(cl, "--later")) {
		/* diff [EXE] CORE_EARLIER CORE_LATER: the last file is the later moment */
		if (pid || cl->nfiles < 2)
			return fail(err, errlen, "%s: give EXE CORE_EARLIER CORE_LATER", cl->cmd->name);
		cl->items[cl->nitems++] = (gs_item){gs_grammar_option(cl->cmd, "--later"),
						    cl->files[--cl->nfiles], NULL};
	}
	if (cl->nfiles > 2)
		return fail(err, errlen, "%s: one file too many (give EXE CORE, CORE or --pid PID)",
			    cl->files[2]);
	if (pid && cl->nfiles > 1)
		return fail(err, errlen, "%s: a core file and --pid together (give one)",
			    cl->files[1]);
	if (!pid && cl->nfiles == 0 && !gs_cmdline_get(cl, "--snapshots")) /* DIR's first */
		return fail(err, errlen, "no snapshot: give EXE CORE, CORE or --pid PID");
	return 0;
}

static int parse(int argc, const char *const *argv, enum gs_parse_mode mode, gs_cmdline *cl,
		 char *err, size_t errlen)
{
	int i = 0;
	if (mode == GS_PARSE_COMMAND) {
		if (argc < 1)
			return fail(err, errlen, "no command (see grpcscope help)");
		cl->cmd = gs_grammar_command(argv[0]);
		if (!cl->cmd)
			return unknown_command(argv[0], err, errlen);
		i = 1;
	} else if (meta(argc, argv, cl)) {
		return 0;
	}
	bool done = false; /* after "--" */
	long *owner = calloc((size_t)argc + 1, sizeof *owner); /* files: the --peer before */
	if (!owner)
		return fail(err, errlen, "out of memory");
	int rc = 0;
	for (; i < argc && !rc; i++) {
		const char *a = argv[i];
		/* the --peer item whose (only) file is the word before this one */
		long peer = -1;
		if (cl->nitems && cl->items[cl->nitems - 1].opt &&
		    cl->items[cl->nitems - 1].opt->val == GS_V_PEER &&
		    cl->items[cl->nitems - 1].v1 == argv[i - 1 >= 0 ? i - 1 : 0] &&
		    !cl->items[cl->nitems - 1].v2)
			peer = (long)cl->nitems - 1;
		if (!done && strcmp(a, "--") == 0) {
			done = true;
		} else if (!done && looks_option(a)) {
			rc = option(argc, argv, &i, mode, cl, err, errlen);
		} else if (cl->cmd && peer >= 0 && !done && file_form(cl->cmd, a) &&
			   mode != GS_PARSE_CLI) {
			cl->items[peer].v2 = a; /* no files of its own: --peer EXE2 CORE2 */
		} else if (!cl->cmd) {
			if (strcmp(a, "help") == 0 || strcmp(a, "version") == 0) {
				free(owner);
				return help_command(argc, argv, i, cl, err, errlen);
			}
			cl->cmd = gs_grammar_command(a);
			if (!cl->cmd)
				rc = unknown_command(a, err, errlen);
		} else if (gs_grammar_is_positional(cl->cmd, a)) {
			cl->items[cl->nitems++] = (gs_item){NULL, a, NULL};
		} else if (mode == GS_PARSE_CLI && !*a) {
			rc = fail(err, errlen, "%s: an empty argument where a file was expected",
				  cl->cmd->name);
		} else if (mode == GS_PARSE_CLI) {
			owner[cl->nfiles] = done ? -1 : peer;
			cl->files[cl->nfiles++] = a;
		} else {
			rc = fail(err, errlen, "%s: unexpected argument %s%s", cl->cmd->name, a,
				  mode == GS_PARSE_DEBUGGER ? " (the debugger's target is read: "
				  "no files)" : "");
		}
	}
	if (!rc && !cl->cmd)
		rc = fail(err, errlen, "no command (see grpcscope help)");
	if (!rc && mode == GS_PARSE_CLI)
		rc = check_files(cl, owner, err, errlen);
	free(owner);
	return rc ? rc : check_positionals(cl, err, errlen);
}

int gs_cmdline_parse(int argc, const char *const *argv, enum gs_parse_mode mode,
		     gs_cmdline *cl, char *err, size_t errlen)
{
	memset(cl, 0, sizeof *cl);
	cl->items = calloc((size_t)argc + 1, sizeof *cl->items);
	cl->files = calloc((size_t)argc + 1, sizeof *cl->files);
	if (errlen)
		err[0] = 0;
	if (!cl->items || !cl->files)
		return fail(err, errlen, "out of memory");
	return parse(argc, argv, mode, cl, err, errlen);
}

void gs_cmdline_free(gs_cmdline *cl)
{
	for (size_t i = 0; i < cl->nowned; i++)
		free(cl->owned[i]);
	free(cl->owned);
	free(cl->items);
	free(cl->files);
	memset(cl, 0, sizeof *cl);
}

const gs_item *gs_cmdline_get(const gs_cmdline *cl, const char *name)
{
	for (size_t i = cl->nitems; i-- > 0;)
		if (cl->items[i].opt && strcmp(cl->items[i].opt->name, name) == 0)
			return &cl->items[i];
	return NULL;
}

size_t gs_cmdline_count(const gs_cmdline *cl, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < cl->nitems; i++)
		n += cl->items[i].opt && strcmp(cl->items[i].opt->name, name) == 0;
	return n;
}

/* "--name=value": a value that starts with '-' stays a value when parsed again. */
static const char *joined(gs_cmdline *cl, const char *name, const char *v)
{
	size_t n = strlen(name) + strlen(v) + 2;
	char *s = malloc(n);
	char **o = s ? gs_reallocarray(cl->owned, cl->nowned + 1, sizeof *o, NULL) : NULL;
	if (!o) {
		free(s);
		return NULL;
	}
	snprintf(s, n, "%s=%s", name, v);
	cl->owned = o;
	cl->owned[cl->nowned++] = s;
	return s;
}

const char **gs_cmdline_argv(gs_cmdline *cl, int *argc)
{
	const char **v = calloc(cl->nitems * 3 + 2, sizeof *v);
	if (!v)
		return NULL;
	int n = 0;
	if (cl->cmd)
		v[n++] = cl->cmd->name;
	for (size_t i = 0; i < cl->nitems; i++) {
		const gs_item *it = &cl->items[i];
		if (it->opt && (it->opt->flags & (GS_OPT_OPEN | GS_OPT_META)))
			continue;
		/* Only what would parse as an option is joined ("-" alone is a value), under
		 * the long spelling: a short option takes no "=value". */
		const char *lng = !it->opt ? NULL : it->opt->name[1] == '-' ? it->opt->name
			       : it->opt->alias && it->opt->alias[1] == '-' ? it->opt->alias : NULL;
		if (lng && it->v1 && looks_option(it->v1)) {
			if (!(v[n++] = joined(cl, lng, it->v1))) {
				free(v);
				return NULL;
			}
			continue;
		}
		if (it->opt)
			v[n++] = it->opt->name;
		if (it->v1)
			v[n++] = it->v1;
		if (it->v2)
			v[n++] = it->v2;
	}
	*argc = n;
	return v;
}
