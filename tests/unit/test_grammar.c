/* The command grammar (api/grammar.c, api/cmdline.c) and the options API over it: every
 * command's options, values and positionals, `--`, the snapshot's files by form, --peer's
 * one or two files, and the message each misuse gets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_check.h"
#include "grpcscope.h"
#include "../../analyzer/src/api/grammar.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char err[1024];

/* Parses argv in mode; returns the status and keeps the result in *cl. */
static int parse(gs_cmdline *cl, enum gs_parse_mode mode, int argc, const char *const *argv)
{
	return gs_cmdline_parse(argc, argv, mode, cl, err, sizeof err);
}

/* The line must be refused with a message containing want. */
static void refused(enum gs_parse_mode mode, int argc, const char *const *argv, const char *want)
{
	gs_cmdline cl;
	int rc = parse(&cl, mode, argc, argv);
	gs_cmdline_free(&cl);
	ck_assert_msg(rc == 2, "%s ... accepted, want '%s'", argv[0], want);
	ck_assert_msg(strstr(err, want) != NULL, "message '%s' lacks '%s'", err, want);
}

/* --samples N (2..100) and --interval S: live sampling, the command line's only. */
START_TEST(test_sampling_options)
{
	const char *ok[] = {"why-blocked", "--samples", "3", "--interval", "0.5"};
	gs_cmdline cl;
	ck_assert_int_eq(parse(&cl, GS_PARSE_COMMAND, N(ok), ok), 0);
	ck_assert_str_eq(gs_cmdline_get(&cl, "--samples")->v1, "3");
	gs_cmdline_free(&cl);
	const char *one[] = {"streams", "--samples", "1"};
	refused(GS_PARSE_COMMAND, N(one), one, "from 2 to 100");
	const char *many[] = {"streams", "--samples", "101"};
	refused(GS_PARSE_COMMAND, N(many), many, "from 2 to 100");
	const char *info[] = {"info", "--samples", "3"};
	refused(GS_PARSE_COMMAND, N(info), info, "not of info");
	const char *dbg[] = {"goroutines", "--samples", "3"};
	refused(GS_PARSE_DEBUGGER, N(dbg), dbg, "inside a debugger the debugger holds it stopped");
}
END_TEST

START_TEST(test_every_command_option_parses)
{
	size_t n;
	const gs_cmdspec *cmds = gs_grammar_commands(&n);
	ck_assert_uint_ge(n, 8);
	for (size_t i = 0; i < n; i++) {
		for (const gs_optspec *o = cmds[i].opts; o->name; o++) {
			const char *v = o->val == GS_V_STATUS ? "waiting"
				: o->val == GS_V_GOID ? "12"
				: o->val == GS_V_SECONDS ? "2.5"
				: o->val == GS_V_PID ? "123"
				: o->val == GS_V_GROUPBY ? "label:request_id"
				: o->val == GS_V_LABEL ? "request_id=r-1"
				: o->val == GS_V_COUNT ? "3" : "some/file";
			const char *argv[5] = {cmds[i].name, o->name, v, "7", NULL};
			int argc = o->val == GS_V_NONE ? 2 : 3;
			if (cmds[i].min_pos) /* goroutine-bt, stream-state need theirs */
				argv[argc++] = "7";
			gs_cmdline cl;
			int rc = parse(&cl, GS_PARSE_COMMAND, argc, argv);
			ck_assert_msg(rc == 0, "%s %s: %s", cmds[i].name, o->name, err);
			const gs_item *it = gs_cmdline_get(&cl, o->name);
			ck_assert_ptr_nonnull(it);
			if (o->val != GS_V_NONE)
				ck_assert_str_eq(it->v1, v);
			else
				ck_assert_ptr_null(it->v1);
			gs_cmdline_free(&cl);
			/* a value option without its value (--group's is optional) */
			if (o->val != GS_V_NONE && o->val != GS_V_GROUPBY) {
				const char *bare[] = {cmds[i].name, o->name};
				refused(GS_PARSE_COMMAND, 2, bare, "needs");
			}
		}
		/* --json anywhere, every command */
		const char *argv[] = {cmds[i].name, "--json", "7"};
		gs_cmdline cl;
		int rc = parse(&cl, GS_PARSE_COMMAND, cmds[i].min_pos ? 3 : 2, argv);
		ck_assert_msg(rc == 0, "%s --json: %s", cmds[i].name, err);
		ck_assert_ptr_nonnull(gs_cmdline_get(&cl, "--json"));
		gs_cmdline_free(&cl);
	}
}
END_TEST

/* --group takes label:KEY only in that form; anything else after it is not its value. */
START_TEST(test_group_label_value)
{
	const char *a[] = {"goroutines", "--group", "7"};
	gs_cmdline cl;
	ck_assert_int_eq(parse(&cl, GS_PARSE_COMMAND, 3, a), 0);
	ck_assert_ptr_null(gs_cmdline_get(&cl, "--group")->v1);
	gs_cmdline_free(&cl);
	const char *b[] = {"goroutines", "--group", "label:request_id", "--label", "k=v", "--label", "k2"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_COMMAND, 7, b), 0);
	ck_assert_str_eq(gs_cmdline_get(&cl, "--group")->v1, "label:request_id");
	ck_assert_uint_eq(gs_cmdline_count(&cl, "--label"), 2);
	gs_cmdline_free(&cl);
	const char *c[] = {"goroutines", "--group=stack"};
	refused(GS_PARSE_COMMAND, 2, c, "--group takes no value or label:KEY");
	const char *d[] = {"why-blocked", "--label", "=v"};
	refused(GS_PARSE_COMMAND, 3, d, "--label needs a label KEY or KEY=VALUE");
	const char *e[] = {"why-blocked", "--group", "label:k"};
	refused(GS_PARSE_COMMAND, 3, e, "--group is an option of goroutines");
}
END_TEST

START_TEST(test_options_of_other_commands_named)
{
	const char *a[] = {"why-blocked", "--stacks"};
	refused(GS_PARSE_COMMAND, 2, a, "why-blocked: --stacks is an option of goroutines, not of why-blocked");
	const char *b[] = {"goroutines", "--dot"};
	refused(GS_PARSE_COMMAND, 2, b, "--dot is an option of why-blocked");
	const char *c[] = {"info", "-o", "x.html"};
	refused(GS_PARSE_COMMAND, 3, c, "-o is an option of report, not of info");
	const char *d[] = {"goroutines", "--stack"};
	refused(GS_PARSE_COMMAND, 2, d, "unknown option --stack (did you mean --stacks?)");
	const char *e[] = {"goroutines", "--frobnicate"};
	refused(GS_PARSE_COMMAND, 2, e, "goroutines: unknown option --frobnicate (see grpcscope help goroutines)");
	const char *f[] = {"--stacks", "goroutines", "core"};
	refused(GS_PARSE_CLI, 3, f, "--stacks is an option of goroutines: give the command first");
}
END_TEST

START_TEST(test_unknown_command_near_miss)
{
	const char *a[] = {"why-blockd", "core"};
	refused(GS_PARSE_CLI, 2, a, "unknown command 'why-blockd' (did you mean why-blocked?)");
	const char *b[] = {"gorutines"};
	refused(GS_PARSE_COMMAND, 1, b, "did you mean goroutines?");
	const char *c[] = {"frobnicate", "exe", "core"};
	refused(GS_PARSE_CLI, 3, c, "unknown command 'frobnicate' (see grpcscope help)");
	const char *d[] = {"help", "streamz"};
	refused(GS_PARSE_CLI, 2, d, "did you mean streams?");
}
END_TEST

START_TEST(test_values_checked)
{
	const char *a[] = {"goroutines", "--status", "waitng"};
	refused(GS_PARSE_COMMAND, 3, a, "--status waitng: not a goroutine status (did you mean waiting?)");
	const char *b[] = {"goroutines", "--id", "twelve"};
	refused(GS_PARSE_COMMAND, 3, b, "--id twelve: not a goroutine id");
	const char *c[] = {"info", "--pid", "12x", "exe"};
	refused(GS_PARSE_CLI, 4, c, "--pid needs a process id, not '12x'");
	const char *d[] = {"info", "--timeout", "0", "core"};
	refused(GS_PARSE_CLI, 4, d, "--timeout needs a number of seconds");
	const char *e[] = {"why-blocked", "core", "--peer"};
	refused(GS_PARSE_CLI, 3, e, "--peer needs a core file");
	const char *f[] = {"why-blocked", "--peer", "--json", "core"};
	refused(GS_PARSE_CLI, 4, f, "--peer needs a core file, not the option --json");
	const char *g[] = {"info", "--debug-dir", "a:b", "core"};
	refused(GS_PARSE_CLI, 4, g, "a:b: ':' separates debug directories");
	const char *h[] = {"info", "--json=yes", "core"};
	refused(GS_PARSE_CLI, 3, h, "--json takes no value");
	const char *i[] = {"goroutines", "--status", "waiting", "--status", "running"};
	refused(GS_PARSE_COMMAND, 5, i, "--status given twice");
	/* --name=VALUE: a value that starts with '-' */
	const char *j[] = {"goroutines", "--reason=-x"};
	gs_cmdline cl;
	ck_assert_int_eq(parse(&cl, GS_PARSE_COMMAND, 2, j), 0);
	ck_assert_str_eq(gs_cmdline_get(&cl, "--reason")->v1, "-x");
	int argc;
	const char **v = gs_cmdline_argv(&cl, &argc);
	ck_assert_int_eq(argc, 2);
	ck_assert_str_eq(v[1], "--reason=-x"); /* parses again to the same */
	free(v);
	gs_cmdline_free(&cl);
}
END_TEST

START_TEST(test_positionals_by_form)
{
	gs_cmdline cl;
	/* goroutine ids after the files, --json anywhere, files never guessed by existence */
	const char *a[] = {"--json", "why-blocked", "/no/such/exe", "/no/such/core", "26", "0x1f"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(a), a), 0);
	ck_assert_str_eq(cl.cmd->name, "why-blocked");
	ck_assert_uint_eq(cl.nfiles, 2);
	ck_assert_str_eq(cl.files[0], "/no/such/exe");
	ck_assert_str_eq(cl.files[1], "/no/such/core");
	ck_assert_ptr_nonnull(gs_cmdline_get(&cl, "--json"));
	int argc;
	const char **v = gs_cmdline_argv(&cl, &argc);
	ck_assert_int_eq(argc, 4);
	ck_assert_str_eq(v[0], "why-blocked");
	ck_assert_str_eq(v[1], "--json");
	ck_assert_str_eq(v[2], "26");
	ck_assert_str_eq(v[3], "0x1f");
	free(v);
	gs_cmdline_free(&cl);
	/* a stream: ID, 0xADDR or TRANSPORT:ID */
	const char *b[] = {"stream-state", "core", "0xc000123000:3"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(b), b), 0);
	ck_assert_uint_eq(cl.nfiles, 1);
	ck_assert_str_eq(cl.items[0].v1, "0xc000123000:3");
	gs_cmdline_free(&cl);
	const char *c[] = {"stream-state", "core"};
	refused(GS_PARSE_CLI, N(c), c, "stream-state: which stream?");
	const char *d[] = {"stream-state", "core", "1", "2"};
	refused(GS_PARSE_CLI, N(d), d, "stream-state: one stream at a time (1, then 2)");
	const char *e[] = {"info", "exe", "core", "26"};
	refused(GS_PARSE_CLI, N(e), e, "info: takes no goroutine ids or streams (26)");
	const char *f[] = {"goroutine-bt", "core"};
	refused(GS_PARSE_CLI, N(f), f, "goroutine-bt: which goroutine?");
	const char *g[] = {"info", "a", "b", "c"};
	refused(GS_PARSE_CLI, N(g), g, "c: one file too many");
	const char *h[] = {"info", "a", "b", "--pid", "12"};
	refused(GS_PARSE_CLI, N(h), h, "b: a core file and --pid together");
	const char *i[] = {"info", "--json"};
	refused(GS_PARSE_CLI, N(i), i, "no snapshot: give EXE CORE, CORE or --pid PID");
	/* inside a debugger: no files, no --pid */
	const char *j[] = {"why-blocked", "core"};
	refused(GS_PARSE_DEBUGGER, N(j), j, "why-blocked: unexpected argument core");
	const char *k[] = {"goroutines", "--pid", "3"};
	refused(GS_PARSE_DEBUGGER, N(k), k, "--pid: inside a debugger");
	const char *l[] = {"goroutines", "--force"};
	refused(GS_PARSE_COMMAND, N(l), l, "--force is for the front end");
}
END_TEST

START_TEST(test_double_dash_ends_options)
{
	gs_cmdline cl;
	const char *a[] = {"info", "--json", "--", "-odd.exe", "--weird.core"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(a), a), 0);
	ck_assert_uint_eq(cl.nfiles, 2);
	ck_assert_str_eq(cl.files[0], "-odd.exe");
	ck_assert_str_eq(cl.files[1], "--weird.core");
	gs_cmdline_free(&cl);
	/* after --, --help is a file name, not a request for help */
	const char *b[] = {"info", "--", "--help"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(b), b), 0);
	ck_assert(!cl.help);
	ck_assert_str_eq(cl.files[0], "--help");
	gs_cmdline_free(&cl);
	const char *c[] = {"goroutines", "--", "12"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_COMMAND, N(c), c), 0);
	ck_assert_ptr_null(cl.items[0].opt);
	ck_assert_str_eq(cl.items[0].v1, "12");
	gs_cmdline_free(&cl);
}
END_TEST

/* The peer's files and the snapshot's, told apart by count (never by existence). */
static void peer_case(int argc, const char *const *argv, const char *p1, const char *p2,
		      const char *exe, const char *core)
{
	gs_cmdline cl;
	ck_assert_msg(parse(&cl, GS_PARSE_CLI, argc, argv) == 0, "%s", err);
	const gs_item *p = gs_cmdline_get(&cl, "--peer");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->v1, p1);
	if (p2)
		ck_assert_str_eq(p->v2 ? p->v2 : "(none)", p2);
	else
		ck_assert_ptr_null(p->v2);
	ck_assert_uint_eq(cl.nfiles, exe ? 2 : 1);
	ck_assert_str_eq(cl.files[cl.nfiles - 1], core);
	if (exe)
		ck_assert_str_eq(cl.files[0], exe);
	gs_cmdline_free(&cl);
}

START_TEST(test_peer_files)
{
	const char *a[] = {"why-blocked", "E", "C", "--peer", "E2", "C2"};
	peer_case(N(a), a, "E2", "C2", "E", "C");
	const char *b[] = {"why-blocked", "--peer", "C2", "E", "C"};
	peer_case(N(b), b, "C2", NULL, "E", "C");
	const char *c[] = {"why-blocked", "--peer", "E2", "C2", "E", "C"};
	peer_case(N(c), c, "E2", "C2", "E", "C");
	const char *d[] = {"why-blocked", "E", "C", "--peer", "C2", "21"};
	peer_case(N(d), d, "C2", NULL, "E", "C");
	const char *e[] = {"why-blocked", "--peer", "C2", "C"};
	peer_case(N(e), e, "C2", NULL, NULL, "C");
	/* with --pid the snapshot needs no file: both go to --peer */
	gs_cmdline cl;
	const char *f[] = {"why-blocked", "--pid", "12", "--peer", "E2", "C2"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(f), f), 0);
	ck_assert_uint_eq(cl.nfiles, 0);
	ck_assert_str_eq(gs_cmdline_get(&cl, "--peer")->v2, "C2");
	gs_cmdline_free(&cl);
	/* the command's own argv: --peer EXE2 CORE2 parses back the same */
	const char *g[] = {"why-blocked", "--peer", "E2", "C2", "5"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_COMMAND, N(g), g), 0);
	ck_assert_str_eq(gs_cmdline_get(&cl, "--peer")->v2, "C2");
	ck_assert_str_eq(cl.items[1].v1, "5");
	gs_cmdline_free(&cl);
}
END_TEST

/* diff [EXE] CORE_EARLIER CORE_LATER: the third file is the later moment. */
START_TEST(test_diff_files)
{
	gs_cmdline cl;
	const char *a[] = {"diff", "E", "C1", "C2", "--json"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(a), a), 0);
	ck_assert_uint_eq(cl.nfiles, 2);
	ck_assert_str_eq(cl.files[1], "C1");
	ck_assert_str_eq(gs_cmdline_get(&cl, "--later")->v1, "C2");
	int argc;
	const char **v = gs_cmdline_argv(&cl, &argc);
	ck_assert_int_eq(argc, 4); /* diff --json --later C2 */
	ck_assert_str_eq(v[2], "--later");
	ck_assert_str_eq(v[3], "C2");
	free(v);
	gs_cmdline_free(&cl);
	const char *b[] = {"diff", "C1", "C2"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(b), b), 0);
	ck_assert_uint_eq(cl.nfiles, 1);
	ck_assert_str_eq(gs_cmdline_get(&cl, "--later")->v1, "C2");
	gs_cmdline_free(&cl);
	const char *c[] = {"diff", "C1"};
	refused(GS_PARSE_CLI, N(c), c, "diff: give EXE CORE_EARLIER CORE_LATER");
	const char *d[] = {"diff", "E", "C1", "C2", "C3"};
	refused(GS_PARSE_CLI, N(d), d, "C2: one file too many");
	const char *e[] = {"info", "E", "C1", "C2"};
	refused(GS_PARSE_CLI, N(e), e, "C2: one file too many");
	/* found by fuzz_cmdline: an empty word is no file (its --later would not parse back) */
	const char *f[] = {"diff", "E", "", ""};
	refused(GS_PARSE_CLI, N(f), f, "diff: an empty argument where a file was expected");
}
END_TEST

START_TEST(test_help_and_version)
{
	gs_cmdline cl;
	const char *a[] = {"help", "why-blocked"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(a), a), 0);
	ck_assert(cl.help);
	ck_assert_str_eq(cl.cmd->name, "why-blocked");
	gs_cmdline_free(&cl);
	const char *b[] = {"goroutines", "--bogus", "-h"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(b), b), 0);
	ck_assert(cl.help);
	ck_assert_str_eq(cl.cmd->name, "goroutines");
	gs_cmdline_free(&cl);
	const char *c[] = {"version"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(c), c), 0);
	ck_assert(cl.version);
	gs_cmdline_free(&cl);
	const char *d[] = {"help", "a", "b"};
	refused(GS_PARSE_CLI, N(d), d, "help: one command at a time");
}
END_TEST

START_TEST(test_usage_from_the_table)
{
	char *all = gs_help(NULL);
	size_t n;
	const gs_cmdspec *cmds = gs_grammar_commands(&n);
	for (size_t i = 0; i < n; i++) {
		char want[64];
		snprintf(want, sizeof want, "\n  %s", cmds[i].name);
		ck_assert_msg(strstr(all, want), "usage lacks %s", cmds[i].name);
		for (const gs_optspec *o = cmds[i].opts; o->name; o++)
			ck_assert_msg(strstr(all, o->name), "usage lacks %s", o->name);
		char *one = gs_help(cmds[i].name);
		snprintf(want, sizeof want, "usage: grpcscope %s ", cmds[i].name);
		ck_assert_msg(strstr(one, want) == one, "help %s: %.60s", cmds[i].name, one);
		gs_free(one);
	}
	for (const gs_optspec *o = gs_grammar_common(); o->name; o++)
		ck_assert_msg(strstr(all, o->name), "usage lacks %s", o->name);
	ck_assert_str_eq(gs_usage(), all);
	gs_free(all);
	ck_assert_ptr_null(gs_help("nosuch"));
}
END_TEST

static char *complete(int mode, int argc, const char *const *argv, const char *word)
{
	return gs_complete(argc, argv, word, mode);
}

START_TEST(test_completion)
{
	char *c = complete(GS_LINE_DEBUGGER, 0, NULL, "why");
	ck_assert_str_eq(c, "why-blocked\n");
	gs_free(c);
	const char *wb[] = {"why-blocked"};
	c = complete(GS_LINE_DEBUGGER, 1, wb, "--");
	for (const char *o = "--dot\n--peer\n--json\n--force\n--debug-file\n"; *o;) {
		const char *nl = strchr(o, '\n');
		char one[32];
		snprintf(one, sizeof one, "%.*s\n", (int)(nl - o + 0), o);
		ck_assert_msg(strstr(c, one), "why-blocked -- lacks %s in %s", one, c);
		o = nl + 1;
	}
	ck_assert_ptr_null(strstr(c, "--pid")); /* not inside a debugger */
	ck_assert_ptr_null(strstr(c, "--stacks"));
	gs_free(c);
	c = complete(GS_LINE_CLI, 1, wb, "--p");
	ck_assert_str_eq(c, "--peer\n--pid\n");
	gs_free(c);
	const char *st[] = {"goroutines", "--status"};
	c = complete(GS_LINE_DEBUGGER, 2, st, "");
	for (size_t i = 0; gs_grammar_status(i); i++)
		ck_assert_msg(strstr(c, gs_grammar_status(i)), "status %s", gs_grammar_status(i));
	ck_assert(strstr(c, "idle\n") && strstr(c, "copystack\n") && strstr(c, "preempted\n") &&
		  strstr(c, "leaked\n"));
	gs_free(c);
	/* --group's optional label:KEY, besides what may follow a flag */
	const char *gg[] = {"goroutines", "--group"};
	c = complete(GS_LINE_DEBUGGER, 2, gg, "la");
	ck_assert_msg(strstr(c, "label:\n") && strstr(c, ":goroutine\n"), "--group la: %s", c);
	gs_free(c);
	const char *id[] = {"goroutines", "--id"};
	c = complete(GS_LINE_DEBUGGER, 2, id, "");
	ck_assert_str_eq(c, ":goroutine\n");
	gs_free(c);
	const char *ss[] = {"stream-state"};
	c = complete(GS_LINE_DEBUGGER, 1, ss, "1");
	ck_assert_str_eq(c, ":stream\n");
	gs_free(c);
	const char *pe[] = {"why-blocked", "--peer"};
	c = complete(GS_LINE_DEBUGGER, 2, pe, "/tm");
	ck_assert_str_eq(c, ":file\n");
	gs_free(c);
	/* a flag already given is not offered again; a repeatable option is */
	const char *gj[] = {"goroutines", "--json", "--id", "3"};
	c = complete(GS_LINE_DEBUGGER, 4, gj, "--");
	ck_assert_ptr_null(strstr(c, "--json"));
	ck_assert_ptr_nonnull(strstr(c, "--id"));
	gs_free(c);
}
END_TEST

START_TEST(test_options_api)
{
	gs_options *o = gs_options_new();
	char *e = NULL;
	const char *a[] = {"why-blocked", "--force", "--debug-dir", "/d1", "exe", "core",
			   "--debug-dir", "/d2", "--timeout", "3", "--json", "7"};
	/* the files are checked (regular files) after parsing: these do not exist */
	ck_assert_int_eq(gs_parse_line(o, N(a), a, GS_LINE_CLI, &e), 2);
	ck_assert_str_eq(e, "core: No such file or directory");
	gs_free(e);
	ck_assert_str_eq(gs_options_get(o, "exe"), "exe");
	ck_assert_str_eq(gs_options_get(o, "core"), "core");
	ck_assert_str_eq(gs_options_get(o, "force"), "1");
	ck_assert_str_eq(gs_options_get(o, "debug-dirs"), "/d1:/d2");
	ck_assert_str_eq(gs_options_get(o, "timeout"), "3");
	ck_assert_str_eq(gs_options_get(o, "command"), "why-blocked");
	ck_assert_ptr_null(gs_options_get(o, "help"));
	/* in a debugger: the command's words only */
	const char *b[] = {"goroutines", "--force", "--json", "--id", "3"};
	ck_assert_int_eq(gs_parse_line(o, N(b), b, GS_LINE_DEBUGGER, &e), 0);
	ck_assert_int_eq(gs_options_argc(o), 4);
	ck_assert_str_eq(gs_options_arg(o, 0), "goroutines");
	ck_assert_str_eq(gs_options_arg(o, 1), "--json");
	ck_assert_str_eq(gs_options_arg(o, 3), "3");
	ck_assert_ptr_null(gs_options_arg(o, 4));
	ck_assert_str_eq(gs_options_get(o, "want-grpc"), "1");
	const char *c[] = {"help"};
	ck_assert_int_eq(gs_parse_line(o, 1, c, GS_LINE_DEBUGGER, &e), 0);
	ck_assert_str_eq(gs_options_get(o, "help"), "");
	ck_assert_int_eq(gs_options_set(o, "pid", "x", &e), 2);
	gs_free(e);
	ck_assert_int_eq(gs_options_set(o, "nosuch", "1", &e), 2);
	gs_free(e);
	ck_assert_int_eq(gs_options_set(o, "pid", "42", NULL), 0);
	ck_assert_str_eq(gs_options_get(o, "pid"), "42");
	gs_options_free(o);
}
END_TEST

START_TEST(test_snapshots_dir)
{
	/* --snapshots DIR alone is a snapshot (DIR's first is the primary); with --peer too */
	gs_cmdline cl;
	const char *a[] = {"why-blocked", "--snapshots", "chains/a:b", "--peer", "E2", "C2", "--snapshots", "d2"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(a), a), 0);
	ck_assert_uint_eq(cl.nfiles, 0);
	ck_assert_uint_eq(gs_cmdline_count(&cl, "--snapshots"), 2);
	ck_assert_str_eq(gs_cmdline_get(&cl, "--peer")->v2, "C2");
	gs_cmdline_free(&cl);
	const char *b[] = {"report", "E", "C", "--snapshots", "d"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(b), b), 0);
	ck_assert_uint_eq(cl.nfiles, 2);
	gs_cmdline_free(&cl);
	const char *b2[] = {"why-blocked", "--peer", "C2", "E", "C", "--snapshots", "d"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_CLI, N(b2), b2), 0);
	ck_assert_uint_eq(cl.nfiles, 2); /* --peer CORE2 EXE CORE, as without --snapshots */
	ck_assert_ptr_null(gs_cmdline_get(&cl, "--peer")->v2);
	gs_cmdline_free(&cl);
	const char *c[] = {"why-blocked", "--snapshots", "d"};
	ck_assert_int_eq(parse(&cl, GS_PARSE_DEBUGGER, N(c), c), 0);
	gs_cmdline_free(&cl);
	const char *d[] = {"streams", "--snapshots", "d", "C"};
	refused(GS_PARSE_CLI, N(d), d, "--snapshots is an option of why-blocked, not of streams");
	const char *e[] = {"why-blocked", "--snapshots"};
	refused(GS_PARSE_CLI, N(e), e, "--snapshots needs a directory");
	const char *f[] = {"why-blocked", "--json"};
	refused(GS_PARSE_CLI, N(f), f, "no snapshot");
}
END_TEST

Suite *make_suite(void)
{
	Suite *s = suite_create("grammar");
	TCase *tc = tcase_create("grammar");
	tcase_add_test(tc, test_every_command_option_parses);
	tcase_add_test(tc, test_options_of_other_commands_named);
	tcase_add_test(tc, test_group_label_value);
	tcase_add_test(tc, test_unknown_command_near_miss);
	tcase_add_test(tc, test_values_checked);
	tcase_add_test(tc, test_positionals_by_form);
	tcase_add_test(tc, test_double_dash_ends_options);
	tcase_add_test(tc, test_peer_files);
	tcase_add_test(tc, test_diff_files);
	tcase_add_test(tc, test_help_and_version);
	tcase_add_test(tc, test_usage_from_the_table);
	tcase_add_test(tc, test_completion);
	tcase_add_test(tc, test_options_api);
	tcase_add_test(tc, test_sampling_options);
	tcase_add_test(tc, test_snapshots_dir);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
