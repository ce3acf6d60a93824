#include "goroutines.h"

#include "../goruntime/plausible.h"
#include "../util/executor.h"

#include <stdlib.h>
#include <string.h>

const char *gs_wait_kind_name(enum gs_wait_kind k)
{
	switch (k) {
	case GS_WAIT_CHAN_RECV:
	case GS_WAIT_CHAN_SEND: return "chan";
	case GS_WAIT_SELECT_RECV:
	case GS_WAIT_SELECT_SEND: return "select";
	case GS_WAIT_SEMA: return "semaphore";
	case GS_WAIT_NETPOLL_READ:
	case GS_WAIT_NETPOLL_WRITE: return "netpoll";
	case GS_WAIT_NIL_CHAN: return "nil-chan";
	case GS_WAIT_SELECT_EMPTY: return "select-empty";
	case GS_WAIT_SLEEP: return "sleep";
	default: return "unknown";
	}
}

static const char *direction(enum gs_wait_kind k)
{
	switch (k) {
	case GS_WAIT_CHAN_RECV:
	case GS_WAIT_SELECT_RECV: return "recv";
	case GS_WAIT_CHAN_SEND:
	case GS_WAIT_SELECT_SEND: return "send";
	case GS_WAIT_NETPOLL_READ: return "read";
	case GS_WAIT_NETPOLL_WRITE: return "write";
	default: return NULL;
	}
}

void gs_describe_wait(const gs_waitobj *w, gs_strbuf *out)
{
	switch (w->kind) {
	case GS_WAIT_CHAN_RECV:
	case GS_WAIT_CHAN_SEND:
	case GS_WAIT_SELECT_RECV:
	case GS_WAIT_SELECT_SEND:
		if (w->kind == GS_WAIT_SELECT_RECV || w->kind == GS_WAIT_SELECT_SEND)
			gs_strbuf_puts(out, "select ");
		gs_strbuf_puts(out, strcmp(direction(w->kind), "recv") == 0 ? "receive" : "send");
		gs_strbuf_puts(out, " on chan ");
		gs_strbuf_put_hex(out, w->addr);
		break;
	case GS_WAIT_SEMA: gs_strbuf_printf(out, "semaphore of sync object 0x%llx", (unsigned long long)w->addr); break;
	case GS_WAIT_NETPOLL_READ: gs_strbuf_printf(out, "read on fd %lld", (long long)w->fd); break;
	case GS_WAIT_NETPOLL_WRITE: gs_strbuf_printf(out, "write on fd %lld", (long long)w->fd); break;
	case GS_WAIT_NIL_CHAN: gs_strbuf_puts(out, "nil channel (forever)"); break;
	case GS_WAIT_SELECT_EMPTY: gs_strbuf_puts(out, "select {} (forever)"); break;
	case GS_WAIT_SLEEP: gs_strbuf_puts(out, "sleep"); break;
	default: gs_strbuf_puts(out, "unknown"); break;
	}
}

static bool selected(gs_rt *rt, gs_goroutine *g, const gs_goroutines_opts *o)
{
	if (o->status && strcmp(o->status, gs_rt_status_name(g->status)) != 0)
		return false;
	if (o->reason && !strstr(gs_rt_wait_reason(rt, g), o->reason))
		return false;
	if (o->ids) {
		for (size_t i = 0; i < o->nids; i++)
			if (o->ids[i] == g->goid)
				return true;
		return false;
	}
	return true;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* The owner of the object at addr, in tmp (the calling thread's scratch); false: none. */
static bool owner_of(const gs_goroutines_opts *o, uint64_t addr, gs_strbuf *tmp)
{
	if (!o->owner)
		return false;
	tmp->len = 0;
	return o->owner(o->owner_ctx, addr, tmp);
}

/* tmp: the calling thread's scratch. */
static void json_goroutine(gs_rt *rt, gs_goroutine *g, const gs_goroutines_opts *o,
			   gs_strbuf *out, gs_strbuf *tmp)
{
	const gs_frame *top = gs_rt_user_frame(rt, g);
	gs_strbuf_printf(out, "{\"id\":%llu,\"status\":\"%s\",\"wait_reason\":",
			 (unsigned long long)g->goid, gs_rt_status_name(g->status));
	gs_strbuf_json_str(out, gs_rt_wait_reason(rt, g));
	int64_t mins = gs_rt_wait_minutes(rt, g);
	if (mins >= 0)
		gs_strbuf_printf(out, ",\"wait_minutes\":%lld", (long long)mins);
	else
		gs_strbuf_puts(out, ",\"wait_minutes\":null");
	gs_strbuf_puts(out, ",\"top_function\":");
	gs_strbuf_json_str(out, top ? top->function : "");
	if (top) { /* the file name comes from the binary: a JSON string like any other */
		gs_strbuf_puts(out, ",\"top_file\":");
		gs_strbuf_json_str(out, top->file);
		gs_strbuf_printf(out, ",\"top_line\":%d", top->line);
	}
	gs_pcframe pf;
	if (gs_rt_creator(rt, g, &pf)) {
		gs_strbuf_puts(out, ",\"created_by\":{\"function\":");
		gs_strbuf_json_str(out, pf.function);
		gs_strbuf_puts(out, ",\"file\":");
		gs_strbuf_json_str(out, pf.file);
		gs_strbuf_printf(out, ",\"line\":%d", pf.line);
		if (g->parent_goid)
			gs_strbuf_printf(out, ",\"goroutine\":%llu", (unsigned long long)g->parent_goid);
		gs_strbuf_puts(out, "}");
	}
	if (gs_rt_start_function(rt, g, &pf)) {
		gs_strbuf_puts(out, ",\"start_function\":");
		gs_strbuf_json_str(out, pf.function);
	}
	gs_strbuf_printf(out, ",\"address\":\"0x%llx\"", (unsigned long long)g->addr);
	size_t n = g->nframes;
	const gs_frame *f = g->frames; /* down to the user frame (gs_rt_user_frame above) */
	if (o->stacks)
		f = gs_rt_stack(rt, g, &n);
	gs_strbuf_puts(out, ",\"frames\":[");
	/* Without --stacks: the frames down to the top user frame. */
	size_t limit = n;
	if (!o->stacks && top && top != &g->current)
		for (limit = 0; limit < n && f[limit].pc != top->pc; limit++)
			;
	if (limit < n)
		limit++;
	for (size_t i = 0; i < limit; i++) {
		gs_strbuf_puts(out, i ? ",{\"function\":" : "{\"function\":");
		gs_strbuf_json_str(out, f[i].function);
		gs_strbuf_puts(out, ",\"file\":");
		gs_strbuf_json_str(out, f[i].file);
		gs_strbuf_printf(out, ",\"line\":%d,\"pc\":\"0x%llx\",\"inlined\":%s}", f[i].line,
				 (unsigned long long)f[i].pc, f[i].inlined ? "true" : "false");
	}
	gs_strbuf_puts(out, "]");
	if (g->stack_error) {
		gs_strbuf_puts(out, ",\"stack_error\":");
		gs_strbuf_json_str(out, g->stack_error);
	}
	size_t nw;
	const gs_waitobj *w = gs_rt_waits(rt, g, &nw);
	gs_strbuf_puts(out, ",\"waiting_on\":[");
	for (size_t i = 0; i < nw; i++) {
		gs_strbuf_printf(out, "%s{\"kind\":\"%s\",\"address\":\"0x%llx\"", i ? "," : "",
				 gs_wait_kind_name(w[i].kind), (unsigned long long)w[i].addr);
		const char *dir = direction(w[i].kind);
		if (dir)
			gs_strbuf_printf(out, ",\"direction\":\"%s\"", dir);
		if (w[i].fd >= 0)
			gs_strbuf_printf(out, ",\"fd\":%lld", (long long)w[i].fd);
		if (owner_of(o, w[i].addr, tmp)) {
			gs_strbuf_puts(out, ",\"owner\":");
			gs_strbuf_json_str(out, tmp->buf);
		} else {
			gs_strbuf_puts(out, ",\"owner\":null");
		}
		gs_strbuf_puts(out, "}");
	}
	gs_strbuf_puts(out, "]}");
}

static void text_waits(gs_rt *rt, gs_goroutine *g, const gs_goroutines_opts *o, gs_strbuf *out,
		       gs_strbuf *tmp)
{
	size_t nw;
	const gs_waitobj *w = gs_rt_waits(rt, g, &nw);
	for (size_t i = 0; i < nw; i++) {
		gs_strbuf_puts(out, i ? "; " : "  waits: ");
		gs_describe_wait(&w[i], out);
		if (owner_of(o, w[i].addr, tmp)) {
			gs_strbuf_puts(out, " (");
			gs_strbuf_put(out, tmp->buf, tmp->len);
			gs_strbuf_putc(out, ')');
		}
	}
}

static void text_header(gs_rt *rt, gs_goroutine *g, gs_strbuf *out)
{
	const char *r = gs_rt_wait_reason(rt, g);
	gs_strbuf_puts(out, "goroutine ");
	gs_strbuf_put_u64(out, (unsigned long long)g->goid);
	gs_strbuf_puts(out, " [");
	gs_strbuf_puts(out, *r ? r : gs_rt_status_name(g->status));
	int64_t mins = gs_rt_wait_minutes(rt, g);
	if (mins > 0) {
		gs_strbuf_puts(out, ", ");
		gs_strbuf_put_i64(out, (long long)mins);
		gs_strbuf_puts(out, " minutes");
	}
	gs_strbuf_putc(out, ']');
}

static void text_stack(gs_rt *rt, gs_goroutine *g, gs_strbuf *out)
{
	size_t n;
	const gs_frame *f = gs_rt_stack(rt, g, &n);
	for (size_t i = 0; i < n; i++)
		gs_strbuf_printf(out, "    %s%s\n        %s:%d\n", f[i].function,
				 f[i].inlined ? " (inlined)" : "", f[i].file, f[i].line);
	if (g->stack_error)
		gs_strbuf_printf(out, "    ... stack ends early: %s\n", g->stack_error);
	gs_pcframe pf;
	if (gs_rt_creator(rt, g, &pf)) {
		gs_strbuf_printf(out, "    created by %s", pf.function);
		if (g->parent_goid)
			gs_strbuf_printf(out, " in goroutine %llu", (unsigned long long)g->parent_goid);
		gs_strbuf_printf(out, "\n        %s:%d\n", pf.file, pf.line);
	}
}

/* Groups goroutines with the same status, wait reason and stack functions. */
typedef struct group {
	gs_goroutine *first;
	size_t count;
	size_t order; /* first seen: ties keep the listing's order */
} group;

/* Largest group first (as panicparse prints them). */
static int cmp_group_size(const void *a, const void *b)
{
	const group *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

static bool same_stack(gs_rt *rt, gs_goroutine *a, gs_goroutine *b)
{
	size_t na, nb;
	const gs_frame *fa = gs_rt_stack(rt, a, &na), *fb = gs_rt_stack(rt, b, &nb);
	if (na != nb || a->status != b->status || a->waitreason != b->waitreason)
		return false;
	for (size_t i = 0; i < na; i++)
		if (fa[i].line != fb[i].line || strcmp(fa[i].function, fb[i].function) != 0)
			return false;
	return true;
}

/* Owner lookups land at random in a table of many MB: each is a cache and TLB miss unless
 * started a few goroutines ahead. Only waits already computed are looked at. */
#define PREFETCH_AHEAD 8

static void prefetch_owners(gs_rt *rt, gs_goroutine *g, const gs_goroutines_opts *o)
{
	size_t nw;
	const gs_waitobj *w = g->waits_done ? gs_rt_waits(rt, g, &nw) : NULL;
	for (size_t k = 0; w && k < nw; k++)
		o->owner_prefetch(o->owner_ctx, w[k].addr);
}

static void text_line(gs_rt *rt, gs_goroutine *g, const gs_goroutines_opts *o, gs_strbuf *out,
		      gs_strbuf *tmp)
{
	const gs_frame *top = gs_rt_user_frame(rt, g);
	text_header(rt, g, out);
	if (top) {
		gs_strbuf_putc(out, ' ');
		gs_strbuf_puts(out, top->function);
		gs_strbuf_putc(out, ' ');
		gs_strbuf_puts(out, base_name(top->file));
		gs_strbuf_putc(out, ':');
		gs_strbuf_put_i64(out, top->line);
	}
	text_waits(rt, g, o, out, tmp);
	gs_strbuf_putc(out, '\n');
}

/* ---- plain listings formatted on two threads ----
 * Without --stacks or --group a line needs nothing that is not computed already (top
 * frame, waits, owners; for JSON creator and start function): the second half of the
 * goroutines is formatted by an executor job into a buffer of its own while the first
 * streams out, and follows it. */
typedef struct half {
	gs_rt *rt;
	const gs_goroutines_opts *o;
	size_t from, to, shown;
	gs_strbuf sb;
	bool lead_comma; /* JSON: a comma before the first item too (the second half) */
	gs_strbuf tmp;   /* scratch for owners */
} half;

static void format_half(half *h)
{
	for (size_t i = h->from; i < h->to; i++) {
		gs_goroutine *g = gs_rt_goroutine(h->rt, i);
		if (h->o->owner_prefetch && i + PREFETCH_AHEAD < h->to)
			prefetch_owners(h->rt, gs_rt_goroutine(h->rt, i + PREFETCH_AHEAD), h->o);
		if (!selected(h->rt, g, h->o))
			continue;
		if (h->o->json) {
			if (h->shown || h->lead_comma)
				gs_strbuf_putc(&h->sb, ',');
			json_goroutine(h->rt, g, h->o, &h->sb, &h->tmp);
		} else {
			text_line(h->rt, g, h->o, &h->sb, &h->tmp);
		}
		h->shown++;
		gs_rt_stack_release(g);
	}
}

static void half_worker(void *arg)
{
	format_half(arg);
}

/* Whether every selected goroutine has its top frame and waits computed, and for JSON its
 * creator and start function (the worker only reads the model). */
static bool all_prepared(gs_rt *rt, const gs_goroutines_opts *o)
{
	for (size_t i = 0; i < gs_rt_ngoroutines(rt); i++) {
		gs_goroutine *g = gs_rt_goroutine(rt, i);
		if (selected(rt, g, o) && (!g->stack_done || !g->waits_done ||
					    (o->json && !gs_rt_origin_ready(rt, g))))
			return false;
	}
	return true;
}

/* Slices of the listing, in pairs: the caller formats one while a job formats the next
 * into a buffer of its own, which follows it out. Slices, not halves: the job's buffer holds
 * one slice (megabytes), not half of a listing that runs to 100 MB as JSON. */
#define SLICE 2048

/* Formats the goroutines [0, total) on two threads. Returns how many were shown; false in
 * *ran when no worker could be used (the caller then formats everything itself). */
static size_t format_halves(gs_rt *rt, const gs_goroutines_opts *o, gs_strbuf *out, bool *ran)
{
	size_t total = gs_rt_ngoroutines(rt), shown = 0;
	*ran = false;
	if (o->stacks || o->group || total < 512 || !all_prepared(rt, o))
		return 0;
	half second = {rt, o, 0, 0, 0, {0}, true, {0}};
	half first = {rt, o, 0, 0, 0, {0}, false, {0}};
	gs_strbuf_init(&second.sb);
	/* A shorter listing is cut in two halves, so that both threads get work. */
	size_t slice = total < 2 * SLICE ? (total + 1) / 2 : SLICE;
	for (size_t at = 0; at < total; at += 2 * slice) {
		second.from = at + slice < total ? at + slice : total;
		second.to = at + 2 * slice < total ? at + 2 * slice : total;
		second.shown = 0;
		second.sb.len = 0;
		gs_job worker;
		bool threaded = second.from < second.to &&
				gs_exec_submit(gs_rt_exec(rt), &worker, half_worker, &second);
		if (at == 0 && !threaded && second.from < second.to)
			break; /* no worker: the caller formats all */
		*ran = true;
		first.from = at;
		first.to = second.from;
		first.shown = 0;
		first.lead_comma = shown > 0;
		first.sb = *out; /* the caller's buffer, sink and all */
		format_half(&first);
		*out = first.sb;
		shown += first.shown;
		if (threaded)
			gs_exec_join(&worker);
		else if (second.from < second.to)
			format_half(&second);
		/* The job's first JSON item came with a comma: not wanted if it is the first. */
		const char *p = second.sb.buf;
		size_t n = second.sb.len;
		if (o->json && shown == 0 && n) {
			p++;
			n--;
		}
		if (n && out->sink) { /* streamed: no copy into out */
			gs_strbuf_flush(out);
			out->sink(out->sink_ctx, p, n);
		} else if (n) {
			gs_strbuf_put(out, p, n);
		}
		shown += second.shown;
	}
	gs_strbuf_free(&second.sb);
	gs_strbuf_free(&first.tmp);
	gs_strbuf_free(&second.tmp);
	return shown;
}

static void text_report(gs_rt *rt, const gs_goroutines_opts *o, gs_strbuf *out)
{
	size_t shown = 0, total = gs_rt_ngoroutines(rt);
	group *groups = NULL;
	size_t ng = 0;
	gs_strbuf tmp;
	gs_strbuf_init(&tmp);
	bool ran;
	shown = format_halves(rt, o, out, &ran);
	for (size_t i = 0; !ran && i < total; i++) {
		gs_goroutine *g = gs_rt_goroutine(rt, i);
		if (o->owner_prefetch && i + PREFETCH_AHEAD < total)
			prefetch_owners(rt, gs_rt_goroutine(rt, i + PREFETCH_AHEAD), o);
		if (!selected(rt, g, o))
			continue;
		shown++;
		if (o->group) {
			size_t k = 0;
			for (; k < ng; k++)
				if (same_stack(rt, groups[k].first, g))
					break;
			if (k == ng) {
				groups = gs_xrealloc(groups, (ng + 1) * sizeof *groups);
				groups[ng] = (group){g, 0, ng};
				ng++;
			}
			groups[k].count++;
			continue;
		}
		text_line(rt, g, o, out, &tmp);
		if (o->stacks)
			text_stack(rt, g, out);
		gs_rt_stack_release(g); /* printed: seventy thousand stacks need not stay */
	}
	if (ng > 1)
		qsort(groups, ng, sizeof *groups, cmp_group_size);
	for (size_t k = 0; k < ng; k++) {
		gs_goroutine *g = groups[k].first;
		gs_strbuf_printf(out, "%zu goroutine%s like ", groups[k].count,
				 groups[k].count == 1 ? "" : "s");
		text_header(rt, g, out);
		gs_strbuf_putc(out, '\n');
		text_stack(rt, g, out);
	}
	free(groups);
	gs_strbuf_free(&tmp);
	gs_strbuf_printf(out, "%zu goroutine%s shown of %zu\n", shown, shown == 1 ? "" : "s",
			 total);
	const uint64_t *bad;
	const bool *slot;
	size_t listed, nbad = gs_rt_unreadable(rt, &bad, &slot, &listed);
	for (size_t i = 0; i < listed; i++) {
		const char *why = slot[i] ? NULL : gs_rt_implausible_reason(rt, bad[i]);
		if (why)
			gs_strbuf_printf(out, "goroutine at 0x%llx: implausible, left out (%s)\n",
					 (unsigned long long)bad[i], why);
		else
			gs_strbuf_printf(out, slot[i] ? "runtime.allgs entry at 0x%llx: unreadable (which "
							 "goroutine it names is lost)\n"
						       : "goroutine at 0x%llx: unreadable (listed in runtime.allgs)\n",
					 (unsigned long long)bad[i]);
	}
	if (nbad > listed)
		gs_strbuf_printf(out, "... %zu more unreadable goroutines\n", nbad - listed);
}

gs_rt_waits_job *gs_report_goroutines_prepare(gs_rt *rt, const gs_goroutines_opts *o)
{
	size_t total = gs_rt_ngoroutines(rt);
	bool *which = gs_xcalloc(total ? total : 1, sizeof *which);
	for (size_t i = 0; i < total; i++)
		which[i] = selected(rt, gs_rt_goroutine(rt, i), o);
	/* Top frames only: full stacks are unwound as they are printed, and let go after. JSON
	 * names every goroutine's creator and start function: looked up here too. */
	gs_rt_prepare(rt, which, o->json ? GS_PREP_ORIGINS : GS_PREP_TOP);
	gs_phases_mark(o->phases, "unwind");
	gs_rt_waits_job *j = gs_rt_waits_start(rt, which);
	free(which);
	return j;
}

void gs_report_goroutines(gs_rt *rt, const gs_goroutines_opts *o, gs_strbuf *out)
{
	if (!o->json) {
		text_report(rt, o, out);
		return;
	}
	gs_strbuf_puts(out, "{\"schema\":\"grpcscope/1\",\"command\":\"goroutines\",\"goroutines\":[");
	size_t k = 0;
	gs_strbuf tmp;
	gs_strbuf_init(&tmp);
	bool ran;
	format_halves(rt, o, out, &ran);
	for (size_t i = 0; !ran && i < gs_rt_ngoroutines(rt); i++) {
		gs_goroutine *g = gs_rt_goroutine(rt, i);
		if (!selected(rt, g, o))
			continue;
		if (k++)
			gs_strbuf_putc(out, ',');
		json_goroutine(rt, g, o, out, &tmp);
		gs_rt_stack_release(g);
	}
	/* Kept by the runtime for cgo callbacks but never printed by it (delve lists them). */
	gs_strbuf_free(&tmp);
	gs_strbuf_puts(out, "],\"not_shown\":[");
	for (size_t i = 0; i < gs_rt_nhidden(rt); i++) {
		uint64_t id;
		uint32_t st;
		gs_rt_hidden(rt, i, &id, &st);
		gs_strbuf_printf(out, "%s{\"id\":%llu,\"status\":\"%s\"}", i ? "," : "",
				 (unsigned long long)id, gs_rt_status_name(st));
	}
	/* In runtime.allgs but not readable: said, not dropped. */
	const uint64_t *bad;
	const bool *slot;
	size_t listed, nbad = gs_rt_unreadable(rt, &bad, &slot, &listed);
	gs_strbuf_printf(out, "],\"unreadable\":{\"count\":%zu,\"addresses\":[", nbad);
	for (size_t i = 0; i < listed; i++)
		gs_strbuf_printf(out, "%s\"0x%llx\"", i ? "," : "", (unsigned long long)bad[i]);
	/* Those read but implausible (damaged memory), with the reason. */
	gs_strbuf_puts(out, "],\"implausible\":[");
	for (size_t i = 0, k = 0; i < listed; i++) {
		const char *why = slot[i] ? NULL : gs_rt_implausible_reason(rt, bad[i]);
		if (!why)
			continue;
		gs_strbuf_printf(out, "%s{\"address\":\"0x%llx\",\"reason\":", k++ ? "," : "",
				 (unsigned long long)bad[i]);
		gs_strbuf_json_str(out, why);
		gs_strbuf_putc(out, '}');
	}
	gs_strbuf_puts(out, "]}}\n");
}
