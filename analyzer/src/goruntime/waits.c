/* What a parked goroutine waits on.
 *
 * Channel waits: g.waiting is the list of sudogs the goroutine parked with; which queue of
 * the channel holds the sudog tells receive from send. Sync waits: before Go 1.26 only the
 * semaphore table knows who waits on which address (a treap per root, keyed by address,
 * same-address waiters chained on waitlink); from 1.26 g.waiting points at the sudog too.
 * The semaphore word is inside the sync object; which object is told by the runtime entry
 * point on the stack (Mutex: sema at +4, RWMutex reader sem at +12, writer sem at +8,
 * WaitGroup sema at +8).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../util/chunks.h"
#include "../util/executor.h"
#include "../util/radix.h"
#include "../util/runs.h"
#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "../util/u64set.h"
#include "model_internal.h"

#define GS_MAX_QUEUE 1000000
#define GS_MAX_SUDOGS 4096
#define GS_SEMTAB_MAX_NODES 2000000

typedef struct wait_vec {
	gs_waitobj *v;
	size_t n, cap;
	bool nomem; /* a wait was dropped */
} wait_vec;

static void add(wait_vec *w, gs_waitobj o)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 4;
		gs_waitobj *v = gs_reallocarray(w->v, cap, sizeof *v, NULL);
		if (!v) {
			w->nomem = true;
			return;
		}
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = o;
}

/* Where a waits computation reads: the model's own target, unwinder and send-queue sets on
 * the calling thread, or a worker's (gs_rt_waits_start). */
typedef struct wctx {
	gs_rt *rt;
	gs_target *t;
	struct gs_unwinder *uw; /* NULL: the model's */
	gs_u64set *walked, *sending;
	/* A run of neighbouring sudogs copied in one read (waits_worker): reads inside it
	 * are served from the copy. */
	gs_run_copy ov;
	gs_chunks *chunks; /* where the waits arrays are kept */
	bool *nomem; /* set when a goroutine's waits could not be kept whole */
} wctx;

static wctx main_ctx(gs_rt *rt)
{
	return (wctx){rt, rt->target, NULL, &rt->sendq_walked, &rt->sending_sudogs, {0},
		      &rt->wait_chunks, &rt->nomem};
}

static int rd_bytes(const wctx *c, uint64_t a, void *dst, size_t n)
{
	return gs_run_read(&c->ov, a, dst, n) ? 0 : gs_target_read(c->t, a, dst, n, NULL);
}

/* rd for a field narrower than a word. */
static __attribute__((noinline)) uint64_t rd_narrow(const wctx *c, uint64_t base,
						     enum gs_rt_field f)
{
	const gs_layout *l = &c->rt->layout;
	uint64_t v = 0;
	int64_t off = l->offsets[f];
	unsigned w = l->widths[f];
	if (!w || rd_bytes(c, base + (uint64_t)off, &v, w) < 0)
		return 0;
	return gs_layout_get(l, f, (const uint8_t *)&v, w, -off);
}

/* Field f at base, read with its type's width (gs_layout_get); 0 when absent or unread. */
static uint64_t rd(const wctx *c, uint64_t base, enum gs_rt_field f)
{
	uint64_t v = 0;
	int64_t off = c->rt->layout.offsets[f];
	if (!base || off < 0)
		return 0;
	if (c->rt->layout.widths[f] != 8)
		return rd_narrow(c, base, f);
	if (rd_bytes(c, base + (uint64_t)off, &v, 8) < 0)
		v = 0;
	return v;
}

/* Follows a sudog list from p through field f, at most GS_MAX_QUEUE nodes. Returns the
 * number of nodes, or -1 when the list cycles (Brent's algorithm: a hostile core can link a
 * list into a ring, and a ring must not cost a million reads per question). With find, stops
 * at that node and sets *found. */
static long walk_sudogs(const wctx *c, uint64_t p, enum gs_rt_field f, uint64_t find, bool *found)
{
	uint64_t tort = p;
	unsigned long power = 1, lam = 0, k = 0;
	if (found)
		*found = false;
	while (p && k < GS_MAX_QUEUE) {
		if (find && p == find) {
			*found = true;
			return (long)k;
		}
		k++;
		p = rd(c, p, f);
		if (p && p == tort)
			return -1;
		if (++lam == power) {
			tort = p;
			power *= 2;
			lam = 0;
		}
	}
	return (long)k;
}

/* Whether sudog s waits in channel c's send queue. Each channel's send queue is walked once
 * per session into a set of sending sudogs: a channel that thousands of selects wait on
 * (a ClientConn's context) must not be walked once per waiter. */
static bool in_sendq(const wctx *x, uint64_t c, uint64_t s)
{
	/* Most channels a select waits on have nobody sending: one read, no set. */
	uint64_t first = rd(x, c + (uint64_t)x->rt->layout.offsets[RT_HCHAN_SENDQ], RT_WAITQ_FIRST);
	if (!first)
		return false;
	if (gs_u64set_add(x->walked, c)) {
		uint64_t p = first;
		gs_u64set seen = {0};
		for (unsigned k = 0; p && k < GS_MAX_QUEUE && gs_u64set_add(&seen, p); k++) {
			gs_u64set_add(x->sending, p);
			p = rd(x, p, RT_SUDOG_NEXT);
		}
		*x->nomem |= seen.failed;
		gs_u64set_free(&seen);
	}
	return gs_u64set_has(x->sending, s);
}

static void chan_waits(const wctx *x, gs_goroutine *g, wait_vec *w)
{
	gs_rt *rt = x->rt;
	uint64_t s = g->waiting, tort = s;
	unsigned long power = 1, lam = 0;
	for (unsigned i = 0; s && i < GS_MAX_SUDOGS; i++) {
		uint64_t c = rd(x, s, RT_SUDOG_C);
		bool sel = rd(x, s, RT_SUDOG_ISSELECT) != 0;
		if (c) {
			/* A plain send or receive says its direction in the wait reason; a select
			 * case is a send iff its sudog sits in the channel's send queue. */
			bool send = sel ? in_sendq(x, c, s)
					: strstr(gs_rt_wait_reason(rt, g), "send") != NULL;
			bool recv = !send;
			enum gs_wait_kind k;
			if (sel)
				k = send ? GS_WAIT_SELECT_SEND : GS_WAIT_SELECT_RECV;
			else
				k = send ? GS_WAIT_CHAN_SEND : GS_WAIT_CHAN_RECV;
			if (!recv && !send && !sel) /* not queued: trust the wait reason */
				k = strstr(gs_rt_wait_reason(rt, g), "send") ? GS_WAIT_CHAN_SEND
									       : GS_WAIT_CHAN_RECV;
			add(w, (gs_waitobj){k, c, 0, -1});
		}
		s = rd(x, s, RT_SUDOG_WAITLINK);
		if (s && s == tort)
			break; /* waitlink cycles (hostile core) */
		if (++lam == power) {
			tort = s;
			power *= 2;
			lam = 0;
		}
	}
}

/* ---- semaphore table ---- */

static int cmp_waiter(const void *a, const void *b)
{
	const gs_sema_waiter *x = a, *y = b;
	return x->g < y->g ? -1 : x->g > y->g;
}

void gs_sema_index_free(gs_sema_index *s)
{
	free(s->w);
	memset(s, 0, sizeof *s);
}

static void build_sema_index(gs_rt *rt)
{
	wctx mc = main_ctx(rt), *c = &mc;
	gs_sema_index *si = &rt->sema;
	si->built = true;
	uint64_t tab;
	const gs_dtype *type = NULL;
	if (rt->layout.offsets[RT_SEMAROOT_TREAP] < 0 ||
	    gs_dwarf_global(rt->dwarf, "runtime.semtable", &tab, &type, NULL) < 0)
		return;
	tab += rt->bias;
	while (type && type->kind == GS_DK_TYPEDEF)
		type = type->elem;
	if (!type || type->kind != GS_DK_ARRAY || !type->count || !type->elem)
		return;
	uint64_t stride = type->size / type->count;
	/* The root sits at offset 0 of each padded entry (struct{root semaRoot; pad}). */
	size_t cap = 64, sp = 0, visited = 0;
	uint64_t *stack = malloc(cap * sizeof *stack);
	if (!stack) {
		si->nomem = true;
		return;
	}
	for (uint64_t i = 0; i < type->count; i++) {
		uint64_t treap = rd(c, tab + i * stride, RT_SEMAROOT_TREAP);
		if (!treap)
			continue;
		sp = 0;
		stack[sp++] = treap;
		while (sp && visited < GS_SEMTAB_MAX_NODES) {
			uint64_t t = stack[--sp];
			visited++;
			uint64_t elem = rd(c, t, RT_SUDOG_ELEM);
			uint64_t s = t;
			for (unsigned k = 0; s && k < GS_MAX_QUEUE && visited < GS_SEMTAB_MAX_NODES;
			     k++, visited++) {
				uint64_t gp = rd(c, s, RT_SUDOG_G);
				if (si->n % 256 == 0) {
					void *v = gs_reallocarray(si->w, si->n + 256, sizeof *si->w, NULL);
					if (!v) {
						si->nomem = true;
						break;
					}
					si->w = v;
				}
				si->w[si->n++] = (gs_sema_waiter){gp, elem};
				s = rd(c, s, RT_SUDOG_WAITLINK);
			}
			uint64_t kids[2] = {rd(c, t, RT_SUDOG_PREV), rd(c, t, RT_SUDOG_NEXT)};
			for (int k = 0; k < 2; k++) {
				if (!kids[k])
					continue;
				if (sp == cap) {
					uint64_t *v = gs_reallocarray(stack, cap * 2, sizeof *v, NULL);
					if (!v) {
						si->nomem = true;
						break;
					}
					stack = v;
					cap *= 2;
				}
				stack[sp++] = kids[k];
			}
		}
	}
	free(stack);
	if (si->n)
		qsort(si->w, si->n, sizeof *si->w, cmp_waiter);
}

uint64_t gs_sema_lookup(gs_rt *rt, uint64_t gaddr)
{
	if (!rt->sema.built)
		build_sema_index(rt);
	gs_sema_waiter key = {gaddr, 0};
	gs_sema_waiter *hit = rt->sema.n ? bsearch(&key, rt->sema.w, rt->sema.n, sizeof key, cmp_waiter) : NULL;
	return hit ? hit->addr : 0;
}

static bool stack_has(const wctx *x, gs_goroutine *g, const char *suffix)
{
	size_t n;
	const gs_frame *f = gs_rt_stack_with(x->rt, x->uw, g, &n);
	size_t ls = strlen(suffix);
	for (size_t i = 0; i < n && i < 12; i++) {
		size_t lf = strlen(f[i].function);
		if (lf >= ls && strcmp(f[i].function + lf - ls, suffix) == 0)
			return true;
	}
	return false;
}

/* The sync object that holds semaphore word `sema`, from the runtime entry on the stack. */
static uint64_t sync_object(const wctx *x, gs_goroutine *g, uint64_t sema)
{
	if (stack_has(x, g, "runtime_SemacquireRWMutexR"))
		return sema - 12;
	if (stack_has(x, g, "runtime_SemacquireRWMutex"))
		return sema - 8;
	if (stack_has(x, g, "runtime_SemacquireMutex"))
		return sema - 4;
	if (stack_has(x, g, "runtime_SemacquireWaitGroup") || stack_has(x, g, "(*WaitGroup).Wait"))
		return sema - 8;
	if (stack_has(x, g, "runtime_notifyListWait"))
		return sema - 16;
	return sema;
}

static bool is_sync_reason(const char *r)
{
	return strcmp(r, "semacquire") == 0 || strncmp(r, "sync.", 5) == 0;
}

/* w: scratch, reused from one goroutine to the next. */
static void compute_waits(const wctx *x, gs_goroutine *g, wait_vec *wp)
{
	gs_rt *rt = x->rt;
	wait_vec w = *wp;
	w.n = 0;
	const char *r = gs_rt_wait_reason(rt, g);
	if (!gs_g_parked(g))
		goto done;
	if (strcmp(r, "chan receive (nil chan)") == 0 || strcmp(r, "chan send (nil chan)") == 0) {
		add(&w, (gs_waitobj){GS_WAIT_NIL_CHAN, 0, 0, -1});
	} else if (strcmp(r, "select (no cases)") == 0) {
		add(&w, (gs_waitobj){GS_WAIT_SELECT_EMPTY, 0, 0, -1});
	} else if (strncmp(r, "chan ", 5) == 0 || strncmp(r, "select", 6) == 0) {
		chan_waits(x, g, &w);
	} else if (is_sync_reason(r)) {
		uint64_t sema = 0;
		/* 1.26+: the sudog is on g.waiting with no channel. */
		if (g->waiting && !rd(x, g->waiting, RT_SUDOG_C))
			sema = rd(x, g->waiting, RT_SUDOG_ELEM);
		if (!sema)
			sema = gs_sema_lookup(rt, g->addr);
		if (sema)
			add(&w, (gs_waitobj){GS_WAIT_SEMA, sync_object(x, g, sema), sema, -1});
	} else if (strcmp(r, "sleep") == 0) {
		add(&w, (gs_waitobj){GS_WAIT_SLEEP, 0, 0, -1});
	} else if (strcmp(r, "IO wait") == 0) {
		gs_waitobj o;
		if (gs_netpoll_lookup(rt, g->addr, &o))
			add(&w, o);
	}
done:
	g->waits = w.n ? gs_chunks_alloc(x->chunks, w.n * sizeof *w.v) : NULL;
	if (w.n && !g->waits)
		w.n = 0, w.nomem = true;
	if (w.n)
		memcpy(g->waits, w.v, w.n * sizeof *w.v);
	g->nwaits = w.n;
	*x->nomem |= w.nomem;
	w.nomem = false;
	*wp = w;
}

const gs_waitobj *gs_rt_waits(gs_rt *rt, gs_goroutine *g, size_t *n)
{
	if (!g->waits_done) {
		g->waits_done = true;
		wctx c = main_ctx(rt);
		wait_vec w = {0};
		compute_waits(&c, g, &w);
		free(w.v);
	}
	*n = g->nwaits;
	return g->waits;
}

int gs_rt_read_chan(gs_rt *rt, uint64_t addr, gs_chan *out, gs_err *err)
{
	const int64_t *o = rt->layout.offsets;
	uint8_t buf[256];
	size_t size = rt->layout.sizes[RT_HCHAN_QCOUNT];
	if (size == 0 || size > sizeof buf)
		return gs_errf(err, GS_EINTERNAL, "runtime.hchan layout unknown");
	if (gs_target_read(rt->target, addr, buf, size, err) < 0)
		return -1;
	memset(out, 0, sizeof *out);
	out->addr = addr;
	const gs_layout *l = &rt->layout;
	out->qcount = gs_layout_get(l, RT_HCHAN_QCOUNT, buf, size, 0);
	out->dataqsiz = gs_layout_get(l, RT_HCHAN_DATAQSIZ, buf, size, 0);
	out->elemsize = (uint16_t)gs_layout_get(l, RT_HCHAN_ELEMSIZE, buf, size, 0);
	out->closed = gs_layout_get(l, RT_HCHAN_CLOSED, buf, size, 0) != 0;
	wctx c = main_ctx(rt);
	for (int q = 0; q < 2; q++) {
		uint64_t p = rd(&c, addr + (uint64_t)o[q ? RT_HCHAN_SENDQ : RT_HCHAN_RECVQ],
				RT_WAITQ_FIRST);
		long k = walk_sudogs(&c, p, RT_SUDOG_NEXT, 0, NULL);
		if (k < 0)
			return gs_errf(err, GS_EMEM, "channel at 0x%llx: %s queue cycles",
				       (unsigned long long)addr, q ? "send" : "receive");
		if (q)
			out->nsend = (size_t)k;
		else
			out->nrecv = (size_t)k;
	}
	return 0;
}

/* ---- waits on a worker thread ---- */

struct gs_rt_waits_job {
	gs_rt *rt;
	const bool *which; /* a copy, or NULL */
	gs_target *view;   /* the worker's own page cache */
	gs_chunks chunks;  /* the waits arrays it made: the model's at the join */
	bool io;           /* the netpoll index is wanted: built by the worker */
	uint64_t netpoll_list;
	gs_job worker;     /* joined by gs_rt_waits_join */
	bool nomem;        /* the worker ran short of memory: the model's at the join */
};

#define SUDOG_RUN_MAX ((uint64_t)64 << 10)
#define SUDOG_RUN_GAP ((uint64_t)2 << 10)

typedef struct wref { /* the address first: gs_run_end */
	uint64_t waiting;
	size_t i;
} wref;

static void waits_worker(void *arg)
{
	gs_rt_waits_job *j = arg;
	gs_u64set walked = {0}, sending = {0};
	struct gs_unwinder *uw = gs_unwinder_new(j->view);
	wctx c = {j->rt, j->view, uw, &walked, &sending, {0}, &j->chunks, &j->nomem};
	wait_vec w = {0};
	if (j->io)
		gs_netpoll_build_from(j->rt, j->view, j->netpoll_list);
	/* In the order of the goroutines' first sudogs: neighbours share pages of the page
	 * cache, where allgs order would fill a page for almost every goroutine. */
	size_t n = j->rt->ngs, m = 0;
	wref *ord = malloc((n ? n : 1) * sizeof *ord), *tmp = malloc((n ? n : 1) * sizeof *tmp);
	if (!uw || !ord || !tmp) { /* nothing computed: told at the join */
		j->nomem = true;
		free(ord);
		free(tmp);
		gs_unwinder_free(uw);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if ((!j->which || j->which[i]) && !j->rt->gs[i].waits_done)
			ord[m++] = (wref){j->rt->gs[i].waiting, i};
	gs_radix_sort(ord, m, sizeof *ord, offsetof(wref, waiting), tmp);
	/* Runs of sudogs close together are copied with one read each. */
	uint64_t ssize = j->rt->layout.sizes[RT_SUDOG_G];
	uint8_t *run = ssize && ssize <= 1024 ? malloc(SUDOG_RUN_MAX + ssize) : NULL; /* NULL: one by one */
	for (size_t a = 0, b; a < m; a = b) {
		b = run ? gs_run_end(ord, sizeof *ord, m, a, ssize, SUDOG_RUN_GAP, SUDOG_RUN_MAX)
			: a + 1;
		uint64_t lo = ord[a].waiting, len = ord[b - 1].waiting - lo + ssize;
		if (b - a > 1 && gs_target_read_bulk(j->view, lo, run, len, NULL) == 0)
			c.ov = (gs_run_copy){run, lo, lo + len};
		for (size_t k = a; k < b; k++) {
			gs_goroutine *g = &j->rt->gs[ord[k].i];
			g->waits_done = true;
			compute_waits(&c, g, &w);
		}
		c.ov = (gs_run_copy){0};
	}
	free(run);
	free(ord);
	free(tmp);
	free(w.v);
	j->nomem |= gs_unwinder_nomem(uw) || walked.failed || sending.failed;
	gs_unwinder_free(uw);
	gs_u64set_free(&walked);
	gs_u64set_free(&sending);
}

gs_rt_waits_job *gs_rt_waits_start(gs_rt *rt, const bool *which)
{
	gs_rt_waits_job *j = calloc(1, sizeof *j);
	bool *w = which ? malloc(rt->ngs ? rt->ngs : 1) : NULL;
	if (!j || (which && !w)) { /* out of memory: computed by nobody, told by the model */
		free(j);
		free(w);
		rt->nomem = true;
		return NULL;
	}
	j->rt = rt;
	if (which) {
		memcpy(w, which, rt->ngs);
		j->which = w;
	}
	/* The tables every waiter shares are found here, on the caller's thread, for the
	 * DWARF lookups they take: the semaphore table is built here too, the netpoll index
	 * (megabytes of chunks to read) by the worker. The worker never touches DWARF. */
	bool sync = false, io = false;
	for (size_t i = 0; i < rt->ngs; i++) {
		gs_goroutine *g = &rt->gs[i];
		if ((which && !which[i]) || g->waits_done || !gs_g_parked(g))
			continue;
		const char *r = gs_rt_wait_reason(rt, g);
		sync = sync || is_sync_reason(r);
		io = io || strcmp(r, "IO wait") == 0;
	}
	if (sync && !rt->sema.built)
		build_sema_index(rt);
	j->view = gs_target_view(rt->target);
	j->io = io && !rt->netpoll.built;
	if (j->io && j->view)
		j->netpoll_list = gs_netpoll_list(rt);
	/* Refused (or no view): computed here and now, on the caller's thread. */
	if (!j->view || !gs_exec_submit(rt->exec, &j->worker, waits_worker, j)) {
		for (size_t i = 0; i < rt->ngs; i++)
			if (!which || which[i])
				gs_rt_waits(rt, &rt->gs[i], &(size_t){0});
	}
	return j;
}

void gs_rt_waits_join(gs_rt_waits_job *j)
{
	if (!j)
		return;
	gs_exec_join(&j->worker);
	gs_chunks_move(&j->rt->wait_chunks, &j->chunks);
	j->rt->nomem |= j->nomem;
	gs_target_close(j->view);
	free((bool *)j->which);
	free(j);
}
