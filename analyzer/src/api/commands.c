/* Command dispatch: parses a command's own options and renders its result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/goroutines.h"
#include "../report/info.h"
#include "../report/streams.h"
#include "../report/why_blocked.h"
#include "../util/strbuf.h"
#include "session.h"

static const char usage[] =
	"usage: grpcscope COMMAND [OPTIONS] EXE CORE\n"
	"       grpcscope COMMAND [OPTIONS] CORE\n"
	"       grpcscope COMMAND [OPTIONS] --pid PID\n"
	"CORE may be compressed with zstd, xz, gzip or lz4 (told by its content).\n"
	"\n"
	"commands:\n"
	"  info                      the snapshot: Go and grpc-go versions, threads, counts\n"
	"  goroutines                every goroutine: status, wait reason, top user frame,\n"
	"                            what it waits on\n"
	"      --stacks              full stacks\n"
	"      --group               group goroutines with identical stacks\n"
	"      --status S            only goroutines in status S (waiting, runnable, ...)\n"
	"      --reason R            only goroutines whose wait reason contains R\n"
	"      --id N                only goroutine N (repeatable)\n"
	"  streams                   every gRPC transport with its streams: state, flow\n"
	"                            windows, recv buffers, goroutines\n"
	"  stream-state STREAM       one stream in depth; STREAM is an id (when unique),\n"
	"                            TRANSPORT:ID, or the stream's address\n"
	"  why-blocked [GOID...]     a verdict for each goroutine blocked in or on gRPC, with\n"
	"                            evidence and the goroutines it blames next\n"
	"      --dot                 the wait-for graph for Graphviz\n"
	"      --peer [EXE2] CORE2   the process at the other end (e.g. the server's core):\n"
	"                            connections are paired and chains cross into it\n"
	"  selfcheck                 every runtime field the analyser reads: found or missing\n"
	"\n"
	"options:\n"
	"  --json                    machine-readable output (schema grpcscope/1)\n"
	"  --force                   read a core whose executable has another build id\n"
	"  --timeout SECONDS         give up after SECONDS (exit 1); a live process is resumed\n"
	"  --help, --version\n";

const char *gs_usage(void)
{
	return usage;
}

static int bad(char **errmsg, const char *fmt, const char *arg)
{
	char buf[512];
	snprintf(buf, sizeof buf, fmt, arg);
	*errmsg = gs_xstrdup(buf);
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

static int cmd_goroutines(gs_session *s, int argc, const char *const *argv, gs_strbuf *out,
			  char **errmsg)
{
	gs_goroutines_opts o = {0};
	uint64_t *ids = NULL;
	size_t nids = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--json") == 0)
			o.json = true;
		else if (strcmp(a, "--stacks") == 0)
			o.stacks = true;
		else if (strcmp(a, "--group") == 0)
			o.group = true;
		else if (strcmp(a, "--status") == 0 && i + 1 < argc)
			o.status = argv[++i];
		else if (strcmp(a, "--reason") == 0 && i + 1 < argc)
			o.reason = argv[++i];
		else if ((strcmp(a, "--id") == 0 && i + 1 < argc) || a[0] != '-') {
			const char *v = a[0] == '-' ? argv[++i] : a;
			uint64_t id;
			if (parse_u64(v, &id) < 0) {
				free(ids);
				return bad(errmsg, "goroutines: not a goroutine id: %s", v);
			}
			ids = gs_xrealloc(ids, (nids + 1) * sizeof *ids);
			ids[nids++] = id;
		} else {
			free(ids);
			return bad(errmsg, "goroutines: unknown option %s (see --help)", a);
		}
	}
	o.ids = ids;
	o.nids = nids;
	o.phases = &s->phases;
	/* While the heap is scanned for transports: the goroutines' top frames and waits. */
	gs_session_grpc_begin(s);
	gs_rt_waits_job *waits = gs_report_goroutines_prepare(s->rt, &o);
	gs_err e;
	o.owner_ctx = gs_session_grpc(s, &e);
	gs_rt_waits_join(waits);
	gs_phases_mark(o.phases, "waits");
	o.owner = o.owner_ctx ? gs_grpc_owner : NULL;
	o.owner_prefetch = o.owner_ctx ? gs_grpc_owner_prefetch : NULL;
	gs_report_goroutines(s->rt, &o, out);
	free(ids);
	return 0;
}

static int cmd_info(gs_session *s, int argc, const char *const *argv, gs_strbuf *out,
		    char **errmsg)
{
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			return bad(errmsg, "info: unknown option %s", argv[i]);
	}
	gs_info in = {
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
	};
	gs_report_info(s->rt, &in, json, out);
	return 0;
}

static int cmd_selfcheck(gs_session *s, int argc, const char *const *argv, gs_strbuf *out,
			 char **errmsg)
{
	bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
	if (argc > 2 || (argc == 2 && !json))
		return bad(errmsg, "selfcheck: unknown option %s", argv[argc - 1]);
	const gs_layout *l = gs_rt_layout(s->rt);
	if (json) {
		gs_strbuf_puts(out, "{\"schema\":\"grpcscope/1\",\"command\":\"selfcheck\",\"fields\":[");
		int missing = gs_layout_report(l, out, true);
		gs_strbuf_printf(out, "],\"missing_required\":%d}\n", missing);
		return missing ? 1 : 0;
	}
	gs_strbuf_printf(out, "runtime fields (%s, %s):\n", s->exe_path, gs_rt_go_version(s->rt));
	int missing = gs_layout_report(l, out, false);
	gs_err e;
	gs_grpc *g = gs_session_grpc_linked(s, &e);
	if (g) {
		gs_strbuf_puts(out, "grpc-go fields (optional; absent ones are other versions' names):\n");
		gs_layout_report(gs_grpc_layout(g), out, false);
	}
	gs_strbuf_printf(out, "%d required field%s missing\n", missing, missing == 1 ? "" : "s");
	return missing ? 1 : 0;
}

static int cmd_streams(gs_session *s, int argc, const char *const *argv, gs_strbuf *out,
		       char **errmsg)
{
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			return bad(errmsg, "streams: unknown option %s", argv[i]);
	}
	gs_err e = {0};
	gs_grpc *g = gs_session_grpc_linked(s, &e);
	if (!g) {
		*errmsg = gs_xstrdup(e.msg);
		return 1;
	}
	gs_grpc_load_contexts(g);
	gs_report_streams(g, json, out);
	return 0;
}

static int cmd_stream_state(gs_session *s, int argc, const char *const *argv, gs_strbuf *out,
			    char **errmsg)
{
	bool json = false;
	const char *spec = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (argv[i][0] != '-' && !spec)
			spec = argv[i];
		else
			return bad(errmsg, "stream-state: unexpected argument %s", argv[i]);
	}
	if (!spec)
		return bad(errmsg, "%s", "stream-state: which stream? (ID, TRANSPORT:ID or address)");
	gs_err e = {0};
	gs_grpc *g = gs_session_grpc_linked(s, &e);
	if (!g) {
		*errmsg = gs_xstrdup(e.msg);
		return 1;
	}
	char msg[256];
	long idx = gs_find_stream(g, spec, msg, sizeof msg);
	if (idx < 0) {
		*errmsg = gs_xstrdup(msg);
		return 2;
	}
	gs_grpc_load_contexts(g);
	gs_report_stream_state(g, s->rt, (size_t)idx, json, out);
	return 0;
}

static int cmd_why_blocked(gs_session *s, int argc, const char *const *argv, gs_strbuf *out,
			   char **errmsg)
{
	enum gs_format fmt = GS_FMT_TEXT;
	uint64_t *ids = NULL;
	size_t nids = 0;
	gs_open_options po = {0};
	po.progress = s->progress;
	po.progress_ctx = s->progress_ctx;
	for (int i = 1; i < argc; i++) {
		uint64_t id;
		if (strcmp(argv[i], "--json") == 0)
			fmt = GS_FMT_JSON;
		else if (strcmp(argv[i], "--dot") == 0)
			fmt = GS_FMT_DOT;
		else if (strcmp(argv[i], "--peer") == 0 && i + 1 < argc) {
			/* --peer CORE or --peer EXE CORE */
			if (i + 2 < argc && argv[i + 2][0] != '-' && parse_u64(argv[i + 2], &id) < 0) {
				po.exe = argv[++i];
				po.core = argv[++i];
			} else {
				po.core = argv[++i];
			}
		} else if (argv[i][0] != '-' && parse_u64(argv[i], &id) == 0) {
			ids = gs_xrealloc(ids, (nids + 1) * sizeof *ids);
			ids[nids++] = id;
		} else {
			free(ids);
			return bad(errmsg, "why-blocked: unexpected argument %s", argv[i]);
		}
	}
	gs_err e = {0};
	gs_session_grpc_begin(s);
	gs_diagnose_prepare(s->rt);
	gs_grpc *g = gs_session_grpc_linked(s, &e);
	if (!g) {
		free(ids);
		*errmsg = gs_xstrdup(e.msg);
		return 1;
	}
	gs_grpc_load_contexts(g);
	gs_session *ps = NULL;
	gs_grpc *pg = NULL;
	if (po.core) {
		char msg[1024];
		int st;
		ps = gs_open(&po, &st, msg, sizeof msg);
		if (ps && (pg = gs_session_grpc_linked(ps, &e)))
			gs_grpc_load_contexts(pg);
		if (!ps || !pg) {
			free(ids);
			*errmsg = gs_xstrdup(ps ? e.msg : msg);
			gs_close(ps);
			return ps ? 1 : st;
		}
	}
	gs_diagnosis dg, pdg;
	if (gs_diagnose_pair(s->rt, g, ps ? ps->rt : NULL, pg, ids, nids, &dg, &pdg, &e) < 0) {
		free(ids);
		gs_close(ps);
		*errmsg = gs_xstrdup(e.msg);
		return e.code == GS_EINPUT ? 2 : 1;
	}
	if (ps) {
		gs_report_why_blocked_pair(s->rt, g, &dg, ps->rt, pg, &pdg, po.core, fmt, out);
		gs_diagnosis_free(&pdg);
		gs_close(ps);
	} else {
		gs_report_why_blocked(s->rt, g, &dg, fmt, out);
	}
	gs_diagnosis_free(&dg);
	free(ids);
	return 0;
}

typedef int (*cmd_fn)(gs_session *, int, const char *const *, gs_strbuf *, char **);

static const struct {
	const char *name;
	cmd_fn fn;
} commands[] = {
	{"info", cmd_info},
	{"goroutines", cmd_goroutines},
	{"selfcheck", cmd_selfcheck},
	{"streams", cmd_streams},
	{"stream-state", cmd_stream_state},
	{"why-blocked", cmd_why_blocked},
};

/* A truncated core still analyses, but what was lost reads as absent: say so first (text
 * output; JSON carries it in info's missing_bytes). */
static void truncation_warning(gs_session *s, int argc, const char *const *argv, gs_strbuf *sb)
{
	uint64_t miss = gs_target_missing_bytes(s->target);
	if (!miss || strcmp(argv[0], "info") == 0)
		return;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--dot") == 0)
			return;
	gs_strbuf_printf(sb, "warning: %s is truncated: %llu bytes of the process's memory are "
			     "missing; goroutines, streams and verdicts there can be absent or unknown\n\n",
			 gs_target_name(s->target), (unsigned long long)miss);
}

static int run(gs_session *s, int argc, const char *const *argv, gs_strbuf *sb, char **errmsg)
{
	*errmsg = NULL;
	if (argc < 1)
		return bad(errmsg, "%s", "no command (see --help)");
	truncation_warning(s, argc, argv, sb);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(s, argc, argv, sb, errmsg);
	return bad(errmsg, "unknown command '%s' (see --help)", argv[0]);
}

int gs_command(gs_session *s, int argc, const char *const *argv, char **out, char **errmsg)
{
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	int rc = run(s, argc, argv, &sb, errmsg);
	*out = gs_strbuf_take(&sb);
	gs_phases_mark(&s->phases, "report");
	return rc;
}

int gs_command_stream(gs_session *s, int argc, const char *const *argv, gs_write_fn write,
		      void *ctx, char **errmsg)
{
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	sb.sink = write;
	sb.sink_ctx = ctx;
	int rc = run(s, argc, argv, &sb, errmsg);
	gs_strbuf_flush(&sb);
	gs_strbuf_free(&sb);
	gs_phases_mark(&s->phases, "report");
	return rc;
}
