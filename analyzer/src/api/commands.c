/* Command dispatch: parses a command's own options and renders its result. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../goruntime/constants.h"
#include "../report/diff.h"
#include "../report/goroutines.h"
#include "cmd_report.h"
#include "../report/info.h"
#include "../report/streams.h"
#include "../report/why_blocked.h"
#include "../util/alloc.h"
#include "../diagnose/label_filter.h"
#include "../util/strbuf.h"
#include "grammar.h"
#include "peers.h"
#include "listing.h"
#include "sampling.h"
#include "session.h"
#include "warnings.h"

/* The usage text, built once from the grammar: gs_usage returns a pointer that lives as
 * long as the library. */
static pthread_once_t usage_once = PTHREAD_ONCE_INIT;
static char *usage_text;

static void build_usage(void)
{
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_grammar_usage(&sb, NULL);
	usage_text = gs_strbuf_take(&sb);
	if (!usage_text) /* never freed */
		usage_text = (char *)"out of memory";
}

const char *gs_usage(void)
{
	pthread_once(&usage_once, build_usage);
	return usage_text;
}

static int bad(char **errmsg, const char *fmt, const char *arg)
{
	char buf[512];
	snprintf(buf, sizeof buf, fmt, arg);
	*errmsg = gs_msg_dup(buf);
	return 2;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		return -1;
	*v = x;
	return 0;
}

/* Appends a goroutine id; false when out of memory (*ids stays the caller's). */
static bool add_id(uint64_t **ids, size_t *n, uint64_t id)
{
	uint64_t *v = gs_reallocarray(*ids, *n + 1, sizeof **ids, NULL);
	if (!v)
		return false;
	*ids = v;
	v[(*n)++] = id;
	return true;
}

/* The --label filters given, in order (an array to free; NULL when none). */
static const char **gs_label_filters(const gs_cmdline *cl, size_t *n, bool *nomem)
{
	const char **v = NULL;
	*n = 0;
	*nomem = false;
	for (size_t i = 0; i < cl->nitems; i++)
		if (cl->items[i].opt && strcmp(cl->items[i].opt->name, "--label") == 0) {
			const char **w = gs_reallocarray(v, *n + 1, sizeof *v, NULL);
			if (!w) {
				free(v);
				*n = 0;
				*nomem = true;
				return NULL;
			}
			v = w;
			v[(*n)++] = cl->items[i].v1;
		}
	return v;
}

static int cmd_goroutines(gs_session *s, const gs_cmdline *cl, gs_strbuf *out, char **errmsg)
{
	gs_goroutines_opts o = {0};
	uint64_t *ids = NULL;
	size_t nids = 0;
	bool nomem;
	const char **labels = gs_label_filters(cl, &o.nlabels, &nomem);
	if (nomem) {
		*errmsg = gs_msg_dup("out of memory");
		return 1;
	}
	/* goroutine-bt GOID... is goroutines --stacks --id GOID... */
	o.stacks = strcmp(cl->cmd->name, "goroutine-bt") == 0;
	for (size_t i = 0; i < cl->nitems; i++) {
		const gs_item *it = &cl->items[i];
		const char *n = it->opt ? it->opt->name : NULL;
		if (!n || strcmp(n, "--id") == 0) {
			uint64_t id;
			if (parse_u64(it->v1, &id) < 0) {
				free(ids);
				free(labels);
				return bad(errmsg, "goroutines: not a goroutine id: %s", it->v1);
			}
			if (!add_id(&ids, &nids, id)) {
				free(ids);
				free(labels);
				*errmsg = gs_msg_dup("out of memory");
				return 1;
			}
		} else if (strcmp(n, "--json") == 0) {
			o.json = true;
		} else if (strcmp(n, "--stacks") == 0) {
			o.stacks = true;
		} else if (strcmp(n, "--group") == 0) {
			o.group = !it->v1; /* label:KEY groups by that label instead */
			o.group_label = it->v1 ? it->v1 + 6 : NULL;
		} else if (strcmp(n, "--status") == 0) {
			o.status = it->v1;
		} else if (strcmp(n, "--reason") == 0) {
			o.reason = it->v1;
		}
	}
	if (gs_cmdline_get(cl, "--samples") || gs_cmdline_get(cl, "--interval")) {
		free(ids);
		free(labels);
		/* samples are compared whole: a label filter would be silently dropped */
		if (o.nlabels)
			return bad(errmsg, "%s", "goroutines: --samples and --label do not go together");
		sampling_req rq = {"goroutines", o.json ? GS_FMT_JSON : GS_FMT_TEXT, NULL, 0};
		return gs_cmd_sampled(s, cl, &rq, out, errmsg);
	}
	if (!s) { /* gs_command_check: the arguments are fine */
		free(ids);
		free(labels);
		return 0;
	}
	o.labels = labels;
	o.ids = ids;
	o.nids = nids;
	o.phases = &s->phases;
	/* While the heap is scanned for transports: the goroutines' top frames and waits. */
	gs_session_grpc_begin(s);
	gs_rt_waits_job *waits = gs_listing_prepare(s->rt, &o);
	gs_err e = {0};
	o.owner_ctx = gs_session_grpc(s, &e);
	gs_rt_waits_join(waits);
	gs_grpc_find_dropped(o.owner_ctx);
	gs_phases_mark(o.phases, "waits");
	if (!o.owner_ctx && e.code == GS_EINTERNAL) { /* out of memory: owners would be missing */
		free(ids);
		free(labels);
		*errmsg = gs_msg_dup(e.msg);
		return 1;
	}
	o.owner = o.owner_ctx ? gs_grpc_owner : NULL;
	o.owner_prefetch = o.owner_ctx ? gs_grpc_owner_prefetch : NULL;
	gs_listing_render(s->rt, &o, out);
	free(ids);
	free(labels);
	return 0;
}

void gs_session_info(gs_session *s, gs_info *in, char *types, size_t cap)
{
	bool dw = gs_dwarf_has_dwarf(s->dwarf);
	uint64_t a;
	snprintf(types, cap, "runtime type descriptors (%zu indexed) and tables",
		 gs_dwarf_name_count(s->dwarf));
	*in = (gs_info){
		.exe = s->exe_path,
		.target = gs_target_name(s->target),
		.target_kind = gs_target_kind(s->target),
		.go_version = gs_rt_go_version(s->rt),
		.grpc_version = s->grpc_version,
		.go_build_id = gs_binary_go_build_id(s->binary),
		.gnu_build_id = gs_binary_gnu_build_id(s->binary),
		.pie = gs_binary_is_pie(s->binary),
		.bias = gs_rt_bias(s->rt),
		.threads = gs_target_nthreads(s->target),
		.pause_ns = gs_target_pause_ns(s->target),
		.open_ns = s->open_ns,
		.missing_bytes = gs_target_missing_bytes(s->target),
		.debug_source = (int)s->debuginfo.source,
		.debug_file = s->debuginfo.file ? gs_binary_path(s->debuginfo.file) : NULL,
		.debug_found_by = s->debuginfo.found_by,
		.debug_searched = s->debuginfo.searched,
		.warnings = s->debuginfo.warnings,
		.types_from = dw ? "DWARF" : types,
		.symbols_from = dw ? "DWARF"
			: gs_binary_symbol(s->binary, "runtime.allgs", &a, NULL) == 0
			? "symbol table" : "code and data signatures (no symbol table)",
	};
}

static int cmd_info(gs_session *s, const gs_cmdline *cl, gs_strbuf *out, char **errmsg)
{
	(void)errmsg;
	bool json = gs_cmdline_get(cl, "--json") != NULL;
	if (!s)
		return 0;
	gs_info in;
	char types[96];
	gs_session_info(s, &in, types, sizeof types);
	gs_report_info(s->rt, &in, json, out);
	return 0;
}

static int cmd_selfcheck(gs_session *s, const gs_cmdline *cl, gs_strbuf *out, char **errmsg)
{
	(void)errmsg;
	bool json = gs_cmdline_get(cl, "--json") != NULL;
	if (!s)
		return 0;
	const gs_layout *l = gs_rt_layout(s->rt);
	if (json) {
		gs_strbuf_puts(out, "{\"schema\":\"grpcscope/1\",\"command\":\"selfcheck\",\"fields\":[");
		int missing = gs_layout_report(l, out, true);
		gs_strbuf_puts(out, "],\"constants\":[");
		gs_consts k = *gs_rt_consts(s->rt); /* checked against the descriptors too */
		gs_consts_check_descriptors(&k, gs_rt_dwarf(s->rt));
		int differ = gs_consts_report(&k, out, true);
		gs_strbuf_puts(out, "],\"mismatches\":[");
		size_t nm = gs_layout_report_mismatches(l, out, true);
		gs_err e;
		gs_grpc *g = gs_session_grpc_linked(s, &e);
		if (g) {
			gs_strbuf sb;
			gs_strbuf_init(&sb);
			size_t ng = gs_layout_report_mismatches(gs_grpc_layout(g), &sb, true);
			if (ng)
				gs_strbuf_printf(out, "%s%s", nm ? "," : "", sb.buf);
			gs_strbuf_free(&sb);
		}
		gs_strbuf_printf(out, "],\"constants_differ\":%d,\"missing_required\":%d}\n", differ,
				 missing);
		return missing || differ ? 1 : 0;
	}
	gs_strbuf_printf(out, "runtime fields (%s, %s):\n", s->exe_path, gs_rt_go_version(s->rt));
	int missing = gs_layout_report(l, out, false);
	gs_err e;
	gs_grpc *g = gs_session_grpc_linked(s, &e);
	if (g) {
		gs_strbuf_puts(out, "grpc-go fields (optional; absent ones are other versions' names):\n");
		gs_layout_report(gs_grpc_layout(g), out, false);
	}
	gs_strbuf_puts(out, "runtime globals:\n");
	static const char *const globals[] = {
		"runtime.allgs", "runtime.allm", "runtime.sched", "runtime.mheap_",
		"runtime.semtable", "runtime.itabTable", "runtime.persistentChunks",
		"runtime.waitReasonStrings", "runtime.firstmoduledata"};
	bool dw = gs_dwarf_has_dwarf(s->dwarf);
	for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
		uint64_t a, sa;
		const char *src = dw ? "dwarf"
			: gs_binary_symbol(s->binary, globals[i], &sa, NULL) == 0 ? "symbol"
			: "code";
		if (gs_rt_global(s->rt, globals[i], &a, NULL) == 0)
			gs_strbuf_printf(out, "  %-52s 0x%-12llx ok  %s\n", globals[i],
					 (unsigned long long)a, src);
		else
			gs_strbuf_printf(out, "  %-52s %-14s absent\n", globals[i], "");
	}
	size_t nm = gs_layout_report_mismatches(l, out, false);
	if (g)
		nm += gs_layout_report_mismatches(gs_grpc_layout(g), out, false);
	if (nm)
		gs_strbuf_printf(out, "%zu field%s of another kind than the manifest's: not read\n",
				 nm, nm == 1 ? "" : "s");
	gs_strbuf_puts(out, "constants (value, source, checked against the version table):\n");
	gs_consts k = *gs_rt_consts(s->rt); /* checked against the descriptors too */
	gs_consts_check_descriptors(&k, gs_rt_dwarf(s->rt));
	int differ = gs_consts_report(&k, out, false);
	if (differ)
		gs_strbuf_printf(out, "%d constant%s differ from the version table\n", differ,
				 differ == 1 ? "" : "s");
	gs_strbuf_printf(out, "%d required field%s missing\n", missing, missing == 1 ? "" : "s");
	return missing || differ ? 1 : 0;
}

static int cmd_streams(gs_session *s, const gs_cmdline *cl, gs_strbuf *out, char **errmsg)
{
	bool json = gs_cmdline_get(cl, "--json") != NULL;
	if (gs_cmdline_get(cl, "--samples") || gs_cmdline_get(cl, "--interval")) {
		sampling_req rq = {"streams", json ? GS_FMT_JSON : GS_FMT_TEXT, NULL, 0};
		return gs_cmd_sampled(s, cl, &rq, out, errmsg);
	}
	if (!s)
		return 0;
	gs_err e = {0};
	gs_grpc *g = gs_session_grpc_linked(s, &e);
	if (!g) {
		*errmsg = gs_msg_dup(e.msg);
		return 1;
	}
	gs_report_streams(g, json, out);
	return 0;
}

static int cmd_stream_state(gs_session *s, const gs_cmdline *cl, gs_strbuf *out,
			    char **errmsg)
{
	bool json = gs_cmdline_get(cl, "--json") != NULL;
	const char *spec = NULL;
	for (size_t i = 0; i < cl->nitems && !spec; i++)
		if (!cl->items[i].opt)
			spec = cl->items[i].v1;
	if (!s)
		return 0;
	gs_err e = {0};
	gs_grpc *g = gs_session_grpc_linked(s, &e);
	if (!g) {
		*errmsg = gs_msg_dup(e.msg);
		return 1;
	}
	char msg[256];
	long idx = gs_find_stream(g, spec, msg, sizeof msg);
	if (idx < 0) {
		*errmsg = gs_msg_dup(msg);
		return 2;
	}
	gs_report_stream_state(g, s->rt, (size_t)idx, json, out);
	return 0;
}

static int cmd_why_blocked(gs_session *s, const gs_cmdline *cl, gs_strbuf *out,
			   char **errmsg)
{
	enum gs_format fmt = GS_FMT_TEXT;
	uint64_t *ids = NULL;
	size_t nids = 0;
	bool all = false;
	size_t nlabels;
	bool nomem;
	const char **labels = gs_label_filters(cl, &nlabels, &nomem);
	if (nomem) {
		*errmsg = gs_msg_dup("out of memory");
		return 1;
	}
	for (size_t i = 0; i < cl->nitems; i++) {
		const gs_item *it = &cl->items[i];
		const char *n = it->opt ? it->opt->name : NULL;
		uint64_t id;
		if (!n) {
			if (parse_u64(it->v1, &id) < 0) {
				free(ids);
				free(labels);
				return bad(errmsg, "why-blocked: not a goroutine id: %s", it->v1);
			}
			if (!add_id(&ids, &nids, id)) {
				free(ids);
				free(labels);
				*errmsg = gs_msg_dup("out of memory");
				return 1;
			}
		} else if (strcmp(n, "--json") == 0) {
			fmt = GS_FMT_JSON;
		} else if (strcmp(n, "--dot") == 0) {
			fmt = GS_FMT_DOT;
		} else if (strcmp(n, "--all") == 0) {
			all = true;
		}
	}
	if (all && fmt == GS_FMT_TEXT)
		fmt = GS_FMT_TEXT_ALL;
	if (gs_cmdline_get(cl, "--samples") || gs_cmdline_get(cl, "--interval")) {
		free(labels);
		if (gs_cmdline_get(cl, "--peer") || gs_cmdline_get(cl, "--snapshots")) {
			free(ids);
			return bad(errmsg, "%s", "why-blocked: --samples and --peer do not go together");
		}
		if (nlabels) { /* verdicts are kept by what stayed parked, not by label */
			free(ids);
			return bad(errmsg, "%s", "why-blocked: --samples and --label do not go together");
		}
		sampling_req rq = {"why-blocked", fmt, ids, nids};
		int rc = gs_cmd_sampled(s, cl, &rq, out, errmsg);
		free(ids);
		return rc;
	}
	gs_peers ps;
	int rc = gs_peers_open(NULL, cl, &ps, errmsg); /* the line first: bad input opens nothing */
	if (rc || !s) {
		free(ids);
		free(labels);
		return rc;
	}
	gs_err e = {0};
	gs_session_grpc_begin(s);
	gs_grpc *g = gs_session_grpc_for_verdicts(s, &e);
	if (!g) {
		free(ids);
		free(labels);
		*errmsg = gs_msg_dup(e.msg);
		return 1;
	}
	/* the page cache goes before the peers open (each theirs once built, peers.c): judging
	 * reads no memory */
	gs_session_models_built(s);
	if ((rc = gs_peers_open(s, cl, &ps, errmsg)) != 0) {
		free(ids);
		free(labels);
		return rc;
	}
	if (ps.n) /* their opening is no verdict time */
		gs_phases_mark(&s->phases, "peers");
	size_t n = ps.n + 1;
	gs_rt **rts = gs_calloc(n, sizeof *rts, NULL);
	gs_grpc **gs = gs_calloc(n, sizeof *gs, NULL);
	gs_diagnosis *dg = gs_calloc(n, sizeof *dg, NULL);
	gs_snapview *set = gs_calloc(n, sizeof *set, NULL);
	if (!rts || !gs || !dg || !set) {
		*errmsg = gs_msg_dup("out of memory");
		rc = 1;
		goto done;
	}
	rts[0] = s->rt;
	gs[0] = g;
	set[0] = (gs_snapview){s->rt, g, &dg[0], gs_target_name(s->target), s->exe_path};
	for (size_t i = 1; i < n; i++) {
		rts[i] = ps.p[i - 1].s->rt;
		gs[i] = ps.p[i - 1].g;
		set[i] = (gs_snapview){rts[i], gs[i], &dg[i], ps.p[i - 1].core, ps.p[i - 1].s->exe_path};
	}
	/* The grouped text speaks through one verdict a group: the others need no words. */
	int (*judge)(gs_rt *const *, gs_grpc *const *, size_t, const uint64_t *, size_t,
		     gs_diagnosis *, gs_err *) =
		fmt == GS_FMT_TEXT && !nlabels ? gs_diagnose_set_grouped : gs_diagnose_set;
	if (judge(rts, gs, n, ids, nids, dg, &e) < 0) {
		*errmsg = gs_msg_dup(e.msg);
		rc = e.code == GS_EINPUT ? 2 : 1;
	} else {
		gs_phases_mark(&s->phases, "verdicts");
		/* --label narrows the set as one: a peer's verdict a kept chain reaches stays */
		if (gs_diagnosis_set_filter_labels(rts, dg, n, labels, nlabels) < 0)
			gs_strbuf_fail(out); /* the command says "out of memory" */
		gs_report_why_blocked_set(set, n, fmt, out);
		for (size_t i = 0; i < n; i++)
			gs_diagnosis_free(&dg[i]);
	}
done:
	free(rts);
	free(gs);
	free(dg);
	free(set);
	gs_peers_close(&ps);
	free(ids);
	free(labels);
	return rc;
}

/* The later snapshot's damage is the answer's too. */
static void later_warning(void *ctx, const char *msg)
{
	char m[1200];
	snprintf(m, sizeof m, "later snapshot: %s", msg);
	gs_session_warn(ctx, m);
}

/* diff [--json] --later CORE2: this session's core is the earlier moment; the later core is
 * read with the same executable and must be of the same process. */
static int cmd_diff(gs_session *s, const gs_cmdline *cl, gs_strbuf *out, char **errmsg)
{
	bool json = gs_cmdline_get(cl, "--json") != NULL;
	const gs_item *later = gs_cmdline_get(cl, "--later");
	gs_open_options lo = {0};
	if (!later)
		return bad(errmsg, "%s", "diff: give EXE CORE_EARLIER CORE_LATER");
	lo.core = later->v1;
	if (!s)
		return 0;
	gs_err e = {0};
	gs_grpc *g1 = gs_session_grpc_linked(s, &e);
	if (!g1) {
		*errmsg = gs_msg_dup(e.msg);
		return 1;
	}
	lo.exe = s->exe_path;
	lo.want_grpc = 1;
	lo.progress = s->progress;
	lo.progress_ctx = s->progress_ctx;
	char msg[1024];
	int st;
	gs_session *ls = gs_open(&lo, &st, msg, sizeof msg);
	gs_grpc *g2 = ls ? gs_session_grpc_linked(ls, &e) : NULL;
	if (!g2) {
		*errmsg = gs_msg_dup(ls ? e.msg : msg);
		gs_close(ls);
		return ls ? 1 : st;
	}
	gs_session_warnings(ls, later_warning, s);
	gs_diff d;
	if (gs_diff_models(s->rt, g1, ls->rt, g2, &d, &e) < 0) {
		*errmsg = gs_msg_dup(e.msg);
		gs_close(ls);
		return e.code == GS_EINPUT ? 2 : 1;
	}
	gs_report_diff(s->rt, g1, ls->rt, g2, &d, json, out);
	gs_diff_free(&d);
	gs_close(ls);
	return 0;
}

typedef int (*cmd_fn)(gs_session *, const gs_cmdline *, gs_strbuf *, char **);

/* What each command of the grammar runs; a command the grammar knows and this build does
 * not implement says so. */
static const struct {
	const char *name;
	cmd_fn fn;
} commands[] = {
	{"info", cmd_info},
	{"goroutines", cmd_goroutines},
	{"goroutine-bt", cmd_goroutines},
	{"selfcheck", cmd_selfcheck},
	{"streams", cmd_streams},
	{"stream-state", cmd_stream_state},
	{"why-blocked", cmd_why_blocked},
	{"diff", cmd_diff},
	{"report", gs_cmd_report},
};

/* JSON output gets the session's warnings after its "command" key: spliced into the first
 * piece of output that reaches the sink (every command has built what its answer rests on
 * before it prints), or into the whole output when it is returned at once. */
typedef struct splice {
	gs_session *s;
	gs_write_fn write;
	void *ctx;
	bool done;
	bool nomem; /* the spliced first piece was cut short */
} splice;

static void splice_into(gs_session *s, const char *p, size_t n, gs_strbuf *out)
{
	size_t at = gs_json_warnings_at(p, n);
	gs_strbuf_put(out, p, at);
	if (at)
		gs_json_warnings(s, out);
	gs_strbuf_put(out, p + at, n - at);
}

static void splice_write(void *arg, const char *p, size_t n)
{
	splice *sp = arg;
	if (sp->done) {
		sp->write(sp->ctx, p, n);
		return;
	}
	sp->done = true;
	gs_strbuf tmp;
	gs_strbuf_init(&tmp);
	splice_into(sp->s, p, n, &tmp);
	sp->nomem = gs_strbuf_failed(&tmp); /* told after the last write */
	sp->write(sp->ctx, tmp.buf ? tmp.buf : "", tmp.len);
	gs_strbuf_free(&tmp);
}

/* Parses argv with the grammar and runs the command (s NULL: only checks; each command
 * returns before using the session). */
static int run(gs_session *s, int argc, const char *const *argv, gs_strbuf *sb, char **errmsg,
	       bool *json)
{
	*errmsg = NULL;
	*json = false;
	gs_cmdline cl;
	char err[1024];
	if (gs_cmdline_parse(argc, argv, GS_PARSE_COMMAND, &cl, err, sizeof err) != 0) {
		gs_cmdline_free(&cl);
		*errmsg = gs_msg_dup(err);
		return 2;
	}
	*json = gs_cmdline_get(&cl, "--json") != NULL;
	cmd_fn fn = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0] && !fn; i++)
		if (strcmp(cl.cmd->name, commands[i].name) == 0)
			fn = commands[i].fn;
	int rc = !fn ? bad(errmsg, "%s: not built into this version of grpcscope", cl.cmd->name)
		 : fn(s, &cl, sb, errmsg);
	gs_cmdline_free(&cl);
	/* Out of memory anywhere (the output, the models, the warnings): an error like any
	 * other, never an answer with a part missing. */
	if (rc == 0 && s && (gs_strbuf_failed(sb) || s->nomem || (s->rt && gs_rt_alloc_check(s->rt, NULL) < 0) ||
			     (s->grpc && gs_grpc_alloc_check(s->grpc, NULL) < 0))) {
		*errmsg = gs_msg_dup("out of memory");
		rc = 1;
	}
	return rc;
}

int gs_command_check(int argc, const char *const *argv, char **errmsg)
{
	bool json;
	return run(NULL, argc, argv, NULL, errmsg, &json);
}

int gs_command(gs_session *s, int argc, const char *const *argv, char **out, char **errmsg)
{
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	bool json;
	int rc = run(s, argc, argv, &sb, errmsg, &json);
	if (json && sb.len) {
		gs_strbuf all;
		gs_strbuf_init(&all);
		splice_into(s, sb.buf, sb.len, &all);
		gs_strbuf_free(&sb);
		sb = all;
	}
	*out = gs_strbuf_take(&sb);
	if (!*out && rc == 0) {
		*errmsg = gs_msg_dup("out of memory");
		rc = 1;
	}
	gs_phases_mark(&s->phases, "report");
	return rc;
}

int gs_command_stream(gs_session *s, int argc, const char *const *argv, gs_write_fn write,
		      void *ctx, char **errmsg)
{
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	splice sp = { s, write, ctx, false, false };
	/* JSON or not is known before the first byte reaches the sink */
	gs_cmdline cl;
	char err[16];
	bool json = gs_cmdline_parse(argc, argv, GS_PARSE_COMMAND, &cl, err, sizeof err) == 0 &&
		    gs_cmdline_get(&cl, "--json") != NULL;
	gs_cmdline_free(&cl);
	sb.sink = json ? splice_write : write;
	sb.sink_ctx = json ? (void *)&sp : ctx;
	int rc = run(s, argc, argv, &sb, errmsg, &json);
	gs_strbuf_flush(&sb);
	gs_strbuf_free(&sb);
	if (rc == 0 && sp.nomem) {
		*errmsg = gs_msg_dup("out of memory");
		rc = 1;
	}
	gs_phases_mark(&s->phases, "report");
	return rc;
}

static void text_emit(void *ctx, const char *msg)
{
	gs_strbuf *sb = ctx;
	char safe[2048];
	gs_strbuf_puts(sb, "warning: ");
	gs_strbuf_puts(sb, GS_SAFE(msg, safe));
	gs_strbuf_putc(sb, '\n');
}

char *gs_warnings(gs_session *s)
{
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_session_warnings(s, text_emit, &sb);
	if (!sb.len && !gs_strbuf_failed(&sb)) {
		gs_strbuf_free(&sb);
		return NULL;
	}
	char *w = gs_strbuf_take(&sb);
	return w ? w : gs_msg_dup("warning: out of memory\n");
}
