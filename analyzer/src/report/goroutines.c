#include "goroutines.h"

#include "../goruntime/labels.h"
#include "../goruntime/plausible.h"
#include "../util/alloc.h"

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

bool gs_goroutines_selected(gs_rt *rt, gs_goroutine *g, const gs_goroutines_opts *o)
{
	if (o->status && strcmp(o->status, gs_rt_status_name(g->status)) != 0)
		return false;
	if (o->reason && !strstr(gs_rt_wait_reason(rt, g), o->reason))
		return false;
	if (o->nlabels && !gs_labels_match(gs_rt_labels(rt, g), o->labels, o->nlabels))
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
	gs_strbuf_puts(out, "]");
	const gs_labels *lb = gs_rt_labels(rt, g);
	if (lb) { /* absent when the goroutine has none */
		gs_strbuf_puts(out, ",\"labels\":");
		gs_labels_json(lb, out);
	}
	gs_strbuf_puts(out, "}");
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
	if (*r && g->status == GS_G_LEAKED) /* as the runtime's traceback says it */
		gs_strbuf_puts(out, " (leaked)");
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
	const gs_labels *lb = gs_rt_labels(rt, g);
	if (lb) {
		gs_strbuf_puts(out, "  labels: ");
		gs_labels_text(lb, out);
	}
	gs_strbuf_putc(out, '\n');
}

/* ---- plain listings in parts ----
 * Without --stacks or --group a line needs nothing that is not computed already (top
 * frame, waits, owners; for JSON creator and start function), so a listing can be rendered
 * in independent parts: the caller (api/) may render them, in parts, with
 * gs_report_goroutine_lines and hand them over through opts->parts. */
bool gs_report_goroutines_splittable(gs_rt *rt, const gs_goroutines_opts *o)
{
	if (o->stacks || o->group || o->group_label)
		return false;
	for (size_t i = 0; i < gs_rt_ngoroutines(rt); i++) {
		gs_goroutine *g = gs_rt_goroutine(rt, i);
		if (gs_goroutines_selected(rt, g, o) && (!g->stack_done || !g->waits_done ||
					    (o->json && !gs_rt_origin_ready(rt, g))))
			return false;
	}
	return true;
}

size_t gs_report_goroutine_lines(gs_rt *rt, const gs_goroutines_opts *o, size_t from, size_t to,
				 bool lead_comma, gs_strbuf *out)
{
	size_t shown = 0;
	gs_strbuf tmp; /* scratch for owners, this thread's own */
	gs_strbuf_init(&tmp);
	for (size_t i = from; i < to; i++) {
		gs_goroutine *g = gs_rt_goroutine(rt, i);
		if (o->owner_prefetch && i + PREFETCH_AHEAD < to)
			prefetch_owners(rt, gs_rt_goroutine(rt, i + PREFETCH_AHEAD), o);
		if (!gs_goroutines_selected(rt, g, o))
			continue;
		if (o->json) {
			if (shown || lead_comma)
				gs_strbuf_putc(out, ',');
			json_goroutine(rt, g, o, out, &tmp);
		} else {
			text_line(rt, g, o, out, &tmp);
		}
		shown++;
		gs_rt_stack_release(g);
	}
	gs_strbuf_free(&tmp);
	return shown;
}

/* The plain listing with opts->parts: its lines come from the caller. Returns how many
 * were shown; false in *done when there are no parts to use. */
static size_t lines_from_parts(const gs_goroutines_opts *o, gs_strbuf *out, bool *done)
{
	*done = o->parts && !o->stacks && !o->group && !o->group_label;
	return *done ? o->parts->lines(o->parts->ctx, out) : 0;
}

/* --group label:KEY: the selected goroutines by the value of one pprof label, the largest
 * group first, then those whose labels could not be read, those without the label last. */
typedef struct lgroup {
	const char *value; /* NULL: without the label, or unreadable */
	bool unreadable;
	size_t *members, n, order;
} lgroup;

static int rank(const lgroup *g)
{
	return g->value ? 0 : g->unreadable ? 1 : 2;
}

static int cmp_lgroup(const void *a, const void *b)
{
	const lgroup *x = a, *y = b;
	if (rank(x) != rank(y))
		return rank(x) - rank(y);
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* One selected goroutine's key: its value of the label, and its place in the listing. */
typedef struct lkey {
	const char *value;
	bool unreadable;
	size_t i;
} lkey;

static int lkey_rank(const lkey *k)
{
	return k->value ? 0 : k->unreadable ? 1 : 2;
}

static int cmp_lkey(const void *a, const void *b)
{
	const lkey *x = a, *y = b;
	int c = lkey_rank(x) - lkey_rank(y);
	if (!c && x->value)
		c = strcmp(x->value, y->value);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Sorted by value, not compared pairwise: every goroutine may have its own request id. */
/* On running out of memory: NULL, nothing, and out marked failed. */
static lgroup *label_groups(gs_rt *rt, const gs_goroutines_opts *o, size_t *ng, gs_strbuf *out)
{
	size_t total = gs_rt_ngoroutines(rt), n = 0;
	*ng = 0;
	lkey *k = malloc((total ? total : 1) * sizeof *k);
	if (!k) {
		gs_strbuf_fail(out);
		return NULL;
	}
	for (size_t i = 0; i < total; i++) {
		gs_goroutine *g = gs_rt_goroutine(rt, i);
		if (!gs_goroutines_selected(rt, g, o))
			continue;
		const gs_labels *l = gs_rt_labels(rt, g);
		k[n++] = (lkey){gs_labels_get(l, o->group_label), l && l->problem, i};
	}
	if (n > 1)
		qsort(k, n, sizeof *k, cmp_lkey);
	lgroup *gr = NULL;
	*ng = 0;
	for (size_t j = 0; j < n; j++) {
		if (!*ng || cmp_lkey(&(lkey){gr[*ng - 1].value, gr[*ng - 1].unreadable, k[j].i}, &k[j])) {
			lgroup *v = gs_reallocarray(gr, *ng + 1, sizeof *gr, NULL);
			if (!v)
				goto nomem;
			gr = v;
			gr[(*ng)++] = (lgroup){k[j].value, k[j].unreadable, NULL, 0, k[j].i};
		}
		lgroup *g = &gr[*ng - 1];
		size_t *m = gs_reallocarray(g->members, g->n + 1, sizeof *g->members, NULL);
		if (!m)
			goto nomem;
		g->members = m;
		g->members[g->n++] = k[j].i;
	}
	free(k);
	if (*ng > 1) /* order: the first member's place in the listing (ties keep it) */
		qsort(gr, *ng, sizeof *gr, cmp_lgroup);
	return gr;
nomem:
	free(k);
	for (size_t x = 0; x < *ng; x++)
		free(gr[x].members);
	free(gr);
	*ng = 0;
	gs_strbuf_fail(out);
	return NULL;
}

static void free_label_groups(lgroup *gr, size_t ng)
{
	for (size_t k = 0; k < ng; k++)
		free(gr[k].members);
	free(gr);
}

static void text_by_label(gs_rt *rt, const gs_goroutines_opts *o, gs_strbuf *out)
{
	size_t ng, shown = 0;
	lgroup *gr = label_groups(rt, o, &ng, out);
	gs_strbuf tmp;
	gs_strbuf_init(&tmp);
	char e1[512], e2[512];
	for (size_t k = 0; k < ng; k++) {
		if (gr[k].value)
			gs_strbuf_printf(out, "%s=%s: ", GS_SAFE(o->group_label, e1),
					 GS_SAFE(gr[k].value, e2));
		else if (gr[k].unreadable)
			gs_strbuf_printf(out, "%s unreadable: ", GS_SAFE(o->group_label, e1));
		else
			gs_strbuf_printf(out, "no %s: ", GS_SAFE(o->group_label, e1));
		gs_strbuf_printf(out, "%zu goroutine%s\n", gr[k].n, gr[k].n == 1 ? "" : "s");
		for (size_t m = 0; m < gr[k].n; m++) {
			gs_goroutine *g = gs_rt_goroutine(rt, gr[k].members[m]);
			gs_strbuf_puts(out, "  ");
			text_line(rt, g, o, out, &tmp);
			if (o->stacks)
				text_stack(rt, g, out);
			gs_rt_stack_release(g);
			shown++;
		}
	}
	free_label_groups(gr, ng);
	gs_strbuf_free(&tmp);
	gs_strbuf_printf(out, "%zu goroutine%s shown of %zu\n", shown, shown == 1 ? "" : "s",
			 gs_rt_ngoroutines(rt));
}

static void json_label_groups(gs_rt *rt, const gs_goroutines_opts *o, gs_strbuf *out)
{
	size_t ng;
	lgroup *gr = label_groups(rt, o, &ng, out);
	gs_strbuf_puts(out, ",\"groups\":[");
	for (size_t k = 0; k < ng; k++) {
		gs_strbuf_puts(out, k ? ",{\"label\":" : "{\"label\":");
		gs_strbuf_json_str(out, o->group_label);
		gs_strbuf_puts(out, ",\"value\":");
		if (gr[k].value)
			gs_strbuf_json_str(out, gr[k].value);
		else
			gs_strbuf_puts(out, "null");
		if (gr[k].unreadable)
			gs_strbuf_puts(out, ",\"unreadable\":true");
		gs_strbuf_printf(out, ",\"count\":%zu,\"goroutines\":[", gr[k].n);
		for (size_t m = 0; m < gr[k].n; m++)
			gs_strbuf_printf(out, "%s%llu", m ? "," : "",
					 (unsigned long long)gs_rt_goroutine(rt, gr[k].members[m])->goid);
		gs_strbuf_puts(out, "]}");
	}
	gs_strbuf_puts(out, "]");
	free_label_groups(gr, ng);
}

static void text_report(gs_rt *rt, const gs_goroutines_opts *o, gs_strbuf *out)
{
	if (o->group_label) {
		text_by_label(rt, o, out);
		return;
	}
	size_t shown = 0, total = gs_rt_ngoroutines(rt);
	group *groups = NULL;
	size_t ng = 0;
	gs_strbuf tmp;
	gs_strbuf_init(&tmp);
	bool ran;
	shown = lines_from_parts(o, out, &ran);
	for (size_t i = 0; !ran && i < total; i++) {
		gs_goroutine *g = gs_rt_goroutine(rt, i);
		if (o->owner_prefetch && i + PREFETCH_AHEAD < total)
			prefetch_owners(rt, gs_rt_goroutine(rt, i + PREFETCH_AHEAD), o);
		if (!gs_goroutines_selected(rt, g, o))
			continue;
		shown++;
		if (o->group) {
			size_t k = 0;
			for (; k < ng; k++)
				if (same_stack(rt, groups[k].first, g))
					break;
			if (k == ng) {
				group *v = gs_reallocarray(groups, ng + 1, sizeof *groups, NULL);
				if (!v) {
					gs_strbuf_fail(out);
					break;
				}
				groups = v;
				groups[ng] = (group){g, 0, ng};
				ng++;
			}
			groups[k].count++;
			if (groups[k].first != g)
				gs_rt_stack_release(g); /* compared: only each group's first is printed */
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
	lines_from_parts(o, out, &ran);
	for (size_t i = 0; !ran && i < gs_rt_ngoroutines(rt); i++) {
		gs_goroutine *g = gs_rt_goroutine(rt, i);
		if (!gs_goroutines_selected(rt, g, o))
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
	gs_strbuf_puts(out, "]}");
	if (o->group_label)
		json_label_groups(rt, o, out);
	gs_strbuf_puts(out, "}\n");
}
