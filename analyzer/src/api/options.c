/* The options API (grpcscope.h): how a front end says what to open and which command to
 * run without knowing any struct's layout, and the front ends' entry to the grammar
 * (parsing a line, help, completion). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grammar.h"
#include "snapdir.h"
#include "grpcscope.h"
#include "session.h"

struct gs_options {
	gs_open_options o;
	char *exe, *core, *debug_file, *debug_dirs, *timeout; /* owned */
	char pid[24];
	gs_api_thread *threads;
	size_t nthreads;
	/* a parsed line: its words (copied), the result, the command's argv */
	char **words;
	int nwords;
	gs_cmdline cl;
	bool parsed;
	const char **argv;
	int argc;
	char help_topic[32];
};

gs_options *gs_options_new(void)
{
	return calloc(1, sizeof(gs_options));
}

static void forget_line(gs_options *o)
{
	for (int i = 0; i < o->nwords; i++)
		free(o->words[i]);
	free(o->words);
	o->words = NULL;
	o->nwords = 0;
	gs_cmdline_free(&o->cl);
	free(o->argv);
	o->argv = NULL;
	o->argc = 0;
	o->parsed = false;
}

void gs_options_free(gs_options *o)
{
	if (!o)
		return;
	forget_line(o);
	free(o->exe);
	free(o->core);
	free(o->debug_file);
	free(o->debug_dirs);
	free(o->timeout);
	free(o->threads);
	free(o);
}

static void replace(char **slot, const char **pub, const char *v)
{
	free(*slot);
	*slot = v ? strdup(v) : NULL;
	if (pub)
		*pub = *slot;
}

static int set_err(char **errmsg, const char *fmt, const char *a)
{
	if (errmsg) {
		char buf[1400];
		snprintf(buf, sizeof buf, fmt, a);
		*errmsg = strdup(buf);
	}
	return 2;
}

/* Appends dir to the ':'-separated debug directories. */
static int add_debug_dir(gs_options *o, const char *dir, char **errmsg)
{
	if (!dir || !*dir)
		return set_err(errmsg, "%s needs a directory", "--debug-dir");
	if (strchr(dir, ':'))
		return set_err(errmsg, "%s: ':' separates debug directories", dir);
	size_t old = o->debug_dirs ? strlen(o->debug_dirs) : 0, n = strlen(dir);
	char *p = realloc(o->debug_dirs, old + n + 2);
	if (!p)
		return set_err(errmsg, "%s", "out of memory");
	if (old)
		p[old++] = ':';
	memcpy(p + old, dir, n + 1);
	o->debug_dirs = p;
	o->o.debug_dirs = p;
	return 0;
}

int gs_options_set(gs_options *o, const char *name, const char *value, char **errmsg)
{
	if (errmsg)
		*errmsg = NULL;
	bool on = !value || (strcmp(value, "0") != 0 && strcmp(value, "") != 0);
	if (strcmp(name, "exe") == 0)
		replace(&o->exe, &o->o.exe, value);
	else if (strcmp(name, "core") == 0)
		replace(&o->core, &o->o.core, value);
	else if (strcmp(name, "debug-file") == 0)
		replace(&o->debug_file, &o->o.debug_file, value);
	else if (strcmp(name, "debug-dir") == 0)
		return add_debug_dir(o, value, errmsg);
	else if (strcmp(name, "timeout") == 0)
		replace(&o->timeout, NULL, value);
	else if (strcmp(name, "force") == 0)
		o->o.force = on;
	else if (strcmp(name, "want-grpc") == 0)
		o->o.want_grpc = on;
	else if (strcmp(name, "pid") == 0) {
		char *end = NULL;
		long p = value ? strtol(value, &end, 10) : 0;
		if (!value || *end || end == value || p <= 0 || p > 0x7fffffff)
			return set_err(errmsg, "--pid needs a process id, not '%s'", value ? value : "");
		o->o.pid = (int)p;
		snprintf(o->pid, sizeof o->pid, "%ld", p);
	} else {
		return set_err(errmsg, "no option '%s'", name);
	}
	return 0;
}

const char *gs_options_get(const gs_options *o, const char *name)
{
	if (strcmp(name, "exe") == 0)
		return o->exe;
	if (strcmp(name, "core") == 0)
		return o->core;
	if (strcmp(name, "debug-file") == 0)
		return o->debug_file;
	if (strcmp(name, "debug-dirs") == 0)
		return o->debug_dirs;
	if (strcmp(name, "timeout") == 0)
		return o->timeout;
	if (strcmp(name, "pid") == 0)
		return o->o.pid > 0 ? o->pid : NULL;
	if (strcmp(name, "force") == 0)
		return o->o.force ? "1" : NULL;
	if (strcmp(name, "want-grpc") == 0)
		return o->o.want_grpc ? "1" : NULL;
	if (!o->parsed)
		return NULL;
	if (strcmp(name, "command") == 0)
		return o->cl.cmd && !o->cl.help && !o->cl.version ? o->cl.cmd->name : NULL;
	if (strcmp(name, "help") == 0)
		return o->cl.help ? (o->cl.cmd ? o->cl.cmd->name : "") : NULL;
	if (strcmp(name, "version") == 0)
		return o->cl.version ? GS_VERSION : NULL;
	return NULL;
}

int gs_options_add_thread(gs_options *o, int64_t tid, uint64_t rip, uint64_t rsp, uint64_t rbp,
			  uint64_t fs_base)
{
	gs_api_thread *t = realloc(o->threads, (o->nthreads + 1) * sizeof *t);
	if (!t)
		return 1;
	t[o->nthreads++] = (gs_api_thread){tid, rip, rsp, rbp, fs_base};
	o->threads = t;
	o->o.threads = t;
	o->o.nthreads = o->nthreads;
	return 0;
}

void gs_options_set_reader(gs_options *o, gs_read_memory_fn read, void *ctx)
{
	o->o.read_memory = read;
	o->o.read_ctx = ctx;
}

void gs_options_set_progress(gs_options *o, gs_progress_fn fn, void *ctx)
{
	o->o.progress = fn;
	o->o.progress_ctx = ctx;
}

void gs_options_set_bias(gs_options *o, uint64_t bias)
{
	o->o.load_bias_hint = bias;
	o->o.has_bias_hint = 1;
}

gs_session *gs_open_with(const gs_options *o, int *status, char *errbuf, size_t errlen)
{
	return gs_open(&o->o, status, errbuf, errlen);
}

/* The files the command line names for reading are regular files (never a FIFO to block
 * on): the core, --peer's and diff's later core, checked before anything opens. */
static int check_regular(const char *path, char **errmsg)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	char buf[1200];
	snprintf(buf, sizeof buf, "%s: %s", path,
		 stat(path, &st) == 0 ? "not a regular file" : strerror(errno));
	*errmsg = strdup(buf);
	return 2;
}

static int take_line(gs_options *o, char **errmsg)
{
	const gs_cmdline *cl = &o->cl;
	for (size_t i = 0; i < cl->nitems; i++) {
		const gs_item *it = &cl->items[i];
		const char *n = it->opt ? it->opt->name : "";
		int rc = 0;
		if (strcmp(n, "--pid") == 0)
			rc = gs_options_set(o, "pid", it->v1, errmsg);
		else if (strcmp(n, "--timeout") == 0)
			rc = gs_options_set(o, "timeout", it->v1, errmsg);
		else if (strcmp(n, "--force") == 0)
			rc = gs_options_set(o, "force", "1", errmsg);
		else if (strcmp(n, "--debug-file") == 0)
			rc = gs_options_set(o, "debug-file", it->v1, errmsg);
		else if (strcmp(n, "--debug-dir") == 0)
			rc = gs_options_set(o, "debug-dir", it->v1, errmsg);
		if (rc)
			return rc;
	}
	if (cl->nfiles) {
		bool core = o->o.pid <= 0;
		gs_options_set(o, "exe", cl->nfiles == 2 || !core ? cl->files[0] : NULL, NULL);
		gs_options_set(o, "core", core ? cl->files[cl->nfiles - 1] : NULL, NULL);
	}
	if (!cl->nfiles && o->o.pid <= 0 && gs_cmdline_get(cl, "--snapshots")) {
		/* --snapshots DIR alone: its first snapshot is the primary (peers.c passes over
		 * it among the peers) */
		gs_snapref *v;
		size_t n;
		char err[1200];
		int rc = gs_snapdir_list(gs_cmdline_get(cl, "--snapshots")->v1, &v, &n, err, sizeof err);
		if (rc) {
			set_err(errmsg, "%s", err);
			return rc;
		}
		gs_options_set(o, "exe", v[0].exe, NULL);
		gs_options_set(o, "core", v[0].core, NULL);
		gs_snapdir_free(v, n);
	}
	if (cl->cmd)
		o->o.want_grpc = cl->cmd->want_grpc;
	return 0;
}

int gs_parse_line(gs_options *o, int argc, const char *const *argv, int mode, char **errmsg)
{
	*errmsg = NULL;
	forget_line(o);
	o->words = calloc((size_t)argc + 1, sizeof *o->words);
	for (int i = 0; o->words && i < argc; i++)
		if ((o->words[o->nwords] = strdup(argv[i])) != NULL)
			o->nwords++;
	if (!o->words || (size_t)o->nwords < (size_t)argc) {
		*errmsg = gs_msg_dup("out of memory");
		return 1;
	}
	char err[1024];
	enum gs_parse_mode m = mode == GS_LINE_DEBUGGER ? GS_PARSE_DEBUGGER : GS_PARSE_CLI;
	int rc = gs_cmdline_parse(argc, (const char *const *)o->words, m, &o->cl, err, sizeof err);
	o->parsed = true;
	if (rc) {
		*errmsg = strdup(err);
		return rc;
	}
	if (o->cl.help || o->cl.version)
		return 0;
	if ((rc = take_line(o, errmsg)) != 0)
		return rc;
	o->argv = gs_cmdline_argv(&o->cl, &o->argc);
	if (!o->argv) {
		*errmsg = gs_msg_dup("out of memory");
		return 1;
	}
	/* what only the command knows (e.g. how many --peer it follows) */
	if ((rc = gs_command_check(o->argc, o->argv, errmsg)) != 0)
		return rc;
	if (m != GS_PARSE_CLI)
		return 0;
	if (o->core && (rc = check_regular(o->core, errmsg)) != 0)
		return rc;
	for (size_t i = 0; i < o->cl.nitems; i++) {
		const gs_item *it = &o->cl.items[i];
		if (!it->opt || !(it->opt->flags & GS_OPT_READ))
			continue;
		if ((rc = check_regular(it->v1, errmsg)) != 0 ||
		    (it->v2 && (rc = check_regular(it->v2, errmsg)) != 0))
			return rc;
	}
	return 0;
}

int gs_options_argc(const gs_options *o)
{
	return o->argc;
}

const char *gs_options_arg(const gs_options *o, int i)
{
	return i >= 0 && i < o->argc ? o->argv[i] : NULL;
}

char *gs_help(const char *command)
{
	const gs_cmdspec *c = NULL;
	if (command && *command && !(c = gs_grammar_command(command)))
		return NULL;
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_grammar_usage(&sb, c);
	char *t = gs_strbuf_take(&sb);
	return t ? t : gs_msg_dup("out of memory");
}

char *gs_complete(int argc, const char *const *argv, const char *word, int mode)
{
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_grammar_complete(argc, argv, word ? word : "",
			    mode == GS_LINE_DEBUGGER ? GS_PARSE_DEBUGGER : GS_PARSE_CLI, &sb);
	return gs_strbuf_take(&sb); /* "" when nothing completes */
}
