#include "warnings.h"

#include <stdio.h>
#include <string.h>

#include "../goruntime/identity.h"
#include "../goruntime/plausible.h"
#include "../util/alloc.h"

static void notes_warning(gs_session *s, void (*emit)(void *, const char *), void *ctx)
{
	const char *p = gs_target_notes_problem(s->target);
	if (!p)
		return;
	char m[1400];
	snprintf(m, sizeof m, "%s: %s: %s%s", gs_target_name(s->target), p,
		 gs_target_nthreads(s->target) ? "some thread registers may be missing"
					       : "thread registers are missing, so a running "
						 "goroutine's stack is where it last stopped, not where "
						 "it runs",
		 gs_target_exe_path(s->target) ? ""
					       : "; the executable is the one given on the "
						 "command line");
	emit(ctx, m);
}

static void goroutine_warnings(gs_session *s, void (*emit)(void *, const char *), void *ctx)
{
	const uint64_t *bad;
	const bool *slot;
	size_t listed, nbad = gs_rt_unreadable(s->rt, &bad, &slot, &listed);
	size_t nimp = gs_rt_implausible(s->rt);
	char m[512];
	if (nbad > nimp) {
		uint64_t first = 0;
		for (size_t i = 0; i < listed && !first; i++)
			if (slot[i] || !gs_rt_implausible_reason(s->rt, bad[i]))
				first = bad[i];
		snprintf(m, sizeof m, "%zu goroutine%s in runtime.allgs could not be read (first at "
			 "0x%llx): the answer may miss them", nbad - nimp, nbad - nimp == 1 ? "" : "s",
			 (unsigned long long)first);
		emit(ctx, m);
	}
	if (nimp) {
		const char *why = NULL;
		uint64_t first = 0;
		for (size_t i = 0; i < listed && !why; i++)
			if (!slot[i] && (why = gs_rt_implausible_reason(s->rt, bad[i])))
				first = bad[i];
		snprintf(m, sizeof m, "%zu goroutine struct%s hold%s implausible values (damaged "
			 "memory) and %s left out (first at 0x%llx: %s)", nimp, nimp == 1 ? "" : "s",
			 nimp == 1 ? "s" : "", nimp == 1 ? "is" : "are", (unsigned long long)first,
			 why ? why : "?");
		emit(ctx, m);
	}
}

static void grpc_warnings(gs_session *s, void (*emit)(void *, const char *), void *ctx)
{
	if (!s->grpc)
		return;
	char m[256];
	const gs_unreadable_transport *u;
	size_t nu = gs_grpc_unreadable_transports(s->grpc, &u);
	if (nu) {
		snprintf(m, sizeof m, "%zu possible %s transport%s in the heap could not be read "
			 "(first at 0x%llx: unreadable at 0x%llx) and %s left out", nu,
			 u[0].server ? "server" : "client", nu == 1 ? "" : "s",
			 (unsigned long long)u[0].addr, (unsigned long long)u[0].at,
			 nu == 1 ? "is" : "are");
		emit(ctx, m);
	}
	size_t nt = 0, ns = 0;
	for (size_t i = 0; i < gs_grpc_ntransports(s->grpc); i++)
		nt += gs_grpc_transport(s->grpc, i)->problem[0] != '\0';
	for (size_t i = 0; i < gs_grpc_nstreams(s->grpc); i++) {
		const char *p = gs_grpc_stream(s->grpc, i)->problem;
		ns += p && *p;
	}
	if (!nt && !ns)
		return;
	snprintf(m, sizeof m, "%zu transport%s and %zu stream%s could not be read whole (see "
		 "their problem): what rests on them is unknown", nt, nt == 1 ? "" : "s", ns,
		 ns == 1 ? "" : "s");
	emit(ctx, m);
}

/* Without DWARF or symbols a runtime global comes from the code that uses it, checked
 * against the snapshot: one that could not be found or confirmed is said, with what it
 * costs, never guessed. */
static void global_warnings(gs_session *s, void (*emit)(void *, const char *), void *ctx)
{
	static const char *const globals[][2] = {
		{"runtime.allm", "running goroutines are not matched to their threads"},
		{"runtime.sched", "wait times rest on the goroutines' own clocks only"},
		{"runtime.semtable", "mutex and semaphore waits are not resolved"},
		{"runtime.persistentChunks", "file-descriptor waits are not shown"},
		{"runtime.itabTable", "transports are not found"},
		{"runtime.mheap_", "transports are not found"},
		{"runtime.waitReasonStrings", "wait reasons are unknown"},
	};
	if (!s->rt || gs_dwarf_has_dwarf(s->dwarf))
		return;
	for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
		uint64_t a;
		gs_err e = {0};
		if (gs_rt_global(s->rt, globals[i][0], &a, &e) == 0)
			continue;
		char m[1400];
		snprintf(m, sizeof m, "%s (no DWARF or symbols): %s", e.msg, globals[i][1]);
		emit(ctx, m);
	}
}

/* A field whose type in the binary is not the kind the manifest expects is not read. */
static void layout_warning(const gs_layout *l, void (*emit)(void *, const char *), void *ctx)
{
	if (!l || !l->nmismatch)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (!l->mismatch[i])
			continue;
		char m[512];
		snprintf(m, sizeof m, "%zu field%s of another kind in the binary than the analyser "
			 "expects (first %s.%s: a %s, expected a %s) %s not read; what rests on them "
			 "is unknown (see selfcheck)", l->nmismatch, l->nmismatch == 1 ? "" : "s",
			 l->specs[i].type, l->specs[i].names, gs_fkind_name(l->kinds[i]),
			 gs_fkind_name(l->specs[i].kind), l->nmismatch == 1 ? "is" : "are");
		emit(ctx, m);
		return;
	}
}

void gs_session_warnings(gs_session *s, void (*emit)(void *ctx, const char *msg), void *ctx)
{
	if (!s || !s->target)
		return;
	char m[512];
	const char *forced = s->rt ? gs_rt_forced_mismatch(s->rt) : NULL;
	if (forced) {
		snprintf(m, sizeof m, "read with --force although %s", forced);
		emit(ctx, m);
	}
	notes_warning(s, emit, ctx);
	uint64_t miss = gs_target_missing_bytes(s->target);
	if (miss) {
		snprintf(m, sizeof m, "%s is truncated: %llu bytes of the process's memory are "
			 "missing; goroutines, streams and verdicts there can be absent or unknown",
			 gs_target_name(s->target), (unsigned long long)miss);
		emit(ctx, m);
	}
	if (s->rt)
		goroutine_warnings(s, emit, ctx);
	global_warnings(s, emit, ctx);
	if (s->rt)
		layout_warning(gs_rt_layout(s->rt), emit, ctx);
	if (s->grpc)
		layout_warning(gs_grpc_layout(s->grpc), emit, ctx);
	grpc_warnings(s, emit, ctx);
	for (size_t i = 0; i < s->nextra_warnings; i++)
		emit(ctx, s->extra_warnings[i]);
}

void gs_session_warn(gs_session *s, const char *msg)
{
	char **v = gs_reallocarray(s->extra_warnings, s->nextra_warnings + 1, sizeof *v, NULL);
	char *copy = v ? strdup(msg) : NULL;
	if (v)
		s->extra_warnings = v;
	if (!copy) {
		s->nomem = true;
		return;
	}
	s->extra_warnings[s->nextra_warnings++] = copy;
}

typedef struct json_ctx {
	gs_strbuf *out;
	size_t n;
} json_ctx;

static void json_emit(void *ctx, const char *msg)
{
	json_ctx *j = ctx;
	if (j->n++)
		gs_strbuf_putc(j->out, ',');
	gs_strbuf_json_str(j->out, msg);
}

void gs_json_warnings(gs_session *s, gs_strbuf *out)
{
	json_ctx j = { out, 0 };
	gs_strbuf_puts(out, ",\"warnings\":[");
	gs_session_warnings(s, json_emit, &j);
	gs_strbuf_putc(out, ']');
}

size_t gs_json_warnings_at(const char *p, size_t n)
{
	static const char head[] = "{\"schema\":\"grpcscope/1\",\"command\":\"";
	size_t h = sizeof head - 1;
	if (n < h || memcmp(p, head, h) != 0)
		return 0;
	const char *q = memchr(p + h, '"', n - h);
	return q ? (size_t)(q - p) + 1 : 0;
}
