/* Goroutine stacks from the pclntab (mirrors the runtime's own unwinder on amd64).
 *
 * Frame size at a pc comes from pcsp; the return address sits at sp+size; the caller's sp
 * is one word above. Return addresses are symbolized at pc-1 so that a call at the end of
 * an inlined body is named as the user sees it. Stops at TopFrame functions (goexit,
 * mstart), at SPWrite functions past the innermost frame, and at anything unreadable.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/batch.h"
#include "../util/executor.h"
#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "model_internal.h"

#define GS_MAX_FRAMES 1024
#define GS_MAX_INLINE 16


static void set_error(struct gs_unwinder *u, gs_goroutine *g, const char *fmt,
		      unsigned long long a);

/* Where to start: thread registers for a running goroutine whose sp is on its own stack,
 * syscallsp/pc in a syscall, the saved context otherwise. */
static void start_point(const gs_goroutine *g, uint64_t *pc, uint64_t *sp, bool *exact)
{
	*exact = false;
	if (g->status == GS_G_RUNNING && g->thread) {
		uint64_t lo = g->stack_lo, hi = g->stack_hi;
		uint64_t rsp = g->thread->regs.rsp;
		if (rsp >= lo && rsp < hi) {
			*pc = g->thread->regs.rip;
			*sp = rsp;
			*exact = true;
			return;
		}
	}
	if (g->syscallsp && (g->status == GS_G_SYSCALL || g->status == GS_G_RUNNING)) {
		*pc = g->syscallpc;
		*sp = g->syscallsp;
		return;
	}
	*pc = g->sched_pc;
	*sp = g->sched_sp;
}

/* What the pclntab says about one pc, decoded once: thousands of goroutines park at the
 * same few pcs, and decoding pc-value tables is the cost of unwinding. */
typedef struct pc_info {
	uint64_t key; /* link pc << 1 | exact; 0 = empty slot */
	gs_func f;
	bool found, delta_ok;
	int32_t delta;
	int nf, ncur;
	gs_pcframe pf[GS_MAX_INLINE], cur; /* cur: innermost frame at pc itself */
	uint32_t need; /* stack bytes from sp that reached the user frame from here last time */
} pc_info;

struct gs_pc_cache {
	pc_info *slot;
	size_t cap, n;
};

/* Stacks kept to the model's end, each once: tens of thousands of goroutines parked in the
 * same code have the same frames, pc for pc (a million frames, 32 MB, on a 75,000-goroutine
 * core; a few hundred distinct stacks). Open addressing on a hash of the frames. */
typedef struct shared_stack {
	uint64_t hash; /* 0 = empty slot */
	const gs_frame *f;
	size_t n;
} shared_stack;

typedef struct stack_set {
	shared_stack *slot;
	size_t cap, n;
} stack_set;

/* One thread's unwinding state: its pc cache and scratch buffers. The model keeps the
 * calling thread's; workers make their own. A worker reads memory with bulk reads only, or
 * through a view of the target with a page cache of its own (a page cache serves one
 * thread). */
struct gs_unwinder {
	struct gs_pc_cache pcc;
	uint64_t *stackbuf; /* one goroutine's stack */
	size_t stackbuf_cap;
	gs_frame *framebuf; /* frames being collected */
	size_t framebuf_cap;
	bool bulk_only;
	gs_target *t; /* what it reads; NULL: the model's target */
	gs_chunks *chunks; /* where top frames go (until_user); NULL: malloc */
	bool nomem; /* an allocation failed: what it unwound since is incomplete */
	pc_info spare; /* a pc looked up when the cache cannot grow */
	bool share;        /* full stacks are kept to the model's end too: chunks, shared */
	stack_set stacks;  /* the arrays this unwinder put in chunks, for sharing */
};

struct gs_unwinder *gs_unwinder_new(gs_target *t)
{
	struct gs_unwinder *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->t = t;
	u->bulk_only = t == NULL; /* the model's page cache belongs to its own thread */
	return u;
}

void gs_unwinder_free(struct gs_unwinder *u)
{
	if (u) {
		free(u->pcc.slot);
		free(u->stackbuf);
		free(u->framebuf);
		free(u->stacks.slot);
		free(u);
	}
}

static void set_error(struct gs_unwinder *u, gs_goroutine *g, const char *fmt,
		      unsigned long long a)
{
	char buf[160];
	snprintf(buf, sizeof buf, fmt, a);
	free(g->stack_error);
	g->stack_error = strdup(buf);
	u->nomem |= !g->stack_error;
}

/* Frames are collected in the model's scratch buffer and kept in an exact-size copy: tens
 * of thousands of goroutines each holding a doubled buffer add up to tens of MB. */
typedef struct frame_vec {
	struct gs_unwinder *u;
	size_t n;
} frame_vec;

static void push(frame_vec *fv, const gs_frame *f)
{
	struct gs_unwinder *u = fv->u;
	if (fv->n == u->framebuf_cap) {
		size_t cap = u->framebuf_cap ? u->framebuf_cap * 2 : 64;
		gs_frame *v = gs_reallocarray(u->framebuf, cap, sizeof *v, NULL);
		if (!v) {
			u->nomem = true;
			return;
		}
		u->framebuf = v;
		u->framebuf_cap = cap;
	}
	u->framebuf[fv->n++] = *f;
}

/* Made when the model opens (gs_rt_unwinder_init). */
static struct gs_unwinder *main_unwinder(gs_rt *rt)
{
	return rt->uw;
}

int gs_rt_unwinder_init(gs_rt *rt, gs_err *err)
{
	rt->uw = gs_calloc(1, sizeof *rt->uw, err);
	if (!rt->uw)
		return -1;
	rt->uw->chunks = &rt->frame_chunks;
	return 0;
}

bool gs_unwinder_nomem(const struct gs_unwinder *u)
{
	return u && u->nomem;
}

static int read_word(gs_rt *rt, const struct gs_unwinder *u, uint64_t addr, uint64_t *v)
{
	gs_target *t = u->t ? u->t : rt->target;
	if (u->bulk_only)
		return gs_target_read_bulk(t, addr, v, 8, NULL);
	return gs_target_read_u64(t, addr, v, NULL);
}

static pc_info *pc_slot(struct gs_pc_cache *c, uint64_t key)
{
	size_t h = (size_t)(key * 0x9e3779b97f4a7c15ull >> 20) & (c->cap - 1);
	while (c->slot[h].key && c->slot[h].key != key)
		h = (h + 1) & (c->cap - 1);
	return &c->slot[h];
}

static const pc_info *lookup_pc(gs_rt *rt, struct gs_unwinder *u, uint64_t lpc, bool exact)
{
	struct gs_pc_cache *c = &u->pcc;
	if (!c->slot && (c->slot = calloc(1024, sizeof *c->slot)) != NULL)
		c->cap = 1024;
	if (c->slot && 2 * (c->n + 1) > c->cap) {
		struct gs_pc_cache big = {calloc(c->cap * 2, sizeof *c->slot), c->cap * 2, c->n};
		if (big.slot) {
			for (size_t i = 0; i < c->cap; i++)
				if (c->slot[i].key)
					*pc_slot(&big, c->slot[i].key) = c->slot[i];
			free(c->slot);
			*c = big;
		}
	}
	uint64_t key = lpc << 1 | (exact ? 1 : 0);
	pc_info *p;
	if (c->slot && c->n + 1 < c->cap) { /* a full cache still answers, uncached */
		p = pc_slot(c, key);
		if (p->key == key)
			return p;
		c->n++;
	} else {
		p = &u->spare;
		memset(p, 0, sizeof *p);
	}
	p->key = key;
	uint64_t sympc = exact ? lpc : lpc - 1;
	p->found = gs_pclntab_find(rt->pcln, sympc, &p->f) == 0;
	if (!p->found)
		return p;
	p->nf = gs_pclntab_frames(rt->pcln, &p->f, sympc, p->pf, GS_MAX_INLINE);
	gs_pcframe cur[GS_MAX_INLINE];
	p->ncur = gs_pclntab_frames(rt->pcln, &p->f, lpc, cur, GS_MAX_INLINE);
	p->cur = p->ncur > 0 ? cur[0] : (gs_pcframe){p->f.name, "?", 0};
	p->delta_ok = true;
	p->delta = gs_pclntab_spdelta(rt->pcln, &p->f, lpc, &p->delta_ok);
	return p;
}

static bool is_user(const char *name);

/* Unwinds g; with until_user, stops after the first physical frame that is_user accepts
 * (all that `goroutines` without --stacks needs). */
/* The stack from the start sp towards stack.hi, copied in one read and grown on demand
 * (the first user frame is usually near the top, the full stack is wanted whole): the
 * unwinder's reads of return addresses then cost neither syscalls nor cache pages. */
#define MAX_STACK_WINDOW (256u << 10)
#define FIRST_WINDOW (2u << 10)

typedef struct stack_window {
	uint64_t lo, hi; /* what words holds */
	uint64_t top;    /* stack.hi: how far it may grow */
	uint64_t *words;
} stack_window;

static bool window_read(gs_rt *rt, struct gs_unwinder *u, stack_window *w, uint64_t len)
{
	if (u->stackbuf_cap < len) {
		uint64_t *v = realloc(u->stackbuf, len);
		if (!v) {
			u->nomem = true;
			return false;
		}
		u->stackbuf = v;
		u->stackbuf_cap = len;
	}
	if (gs_target_read_bulk(u->t ? u->t : rt->target, w->lo, u->stackbuf, len, NULL) < 0)
		return false;
	w->hi = w->lo + len;
	w->words = u->stackbuf;
	return true;
}

static void window_load(gs_rt *rt, struct gs_unwinder *u, gs_goroutine *g, uint64_t sp,
			bool whole, uint64_t first, stack_window *w)
{
	uint64_t hi = g->stack_hi;
	*w = (stack_window){0};
	if (hi <= sp || hi - sp > MAX_STACK_WINDOW || (sp & 7))
		return;
	w->lo = sp;
	w->top = hi;
	if (!window_read(rt, u, w, whole || hi - sp < first ? hi - sp : first))
		*w = (stack_window){0};
}

static int window_u64(gs_rt *rt, struct gs_unwinder *u, stack_window *w, uint64_t addr,
		      uint64_t *v)
{
	if (w->words && addr >= w->hi && addr + 8 <= w->top) {
		uint64_t len = 2 * (w->hi - w->lo);
		if (len < addr + 8 - w->lo)
			len = addr + 8 - w->lo;
		if (len > w->top - w->lo)
			len = w->top - w->lo;
		if (!window_read(rt, u, w, len))
			*w = (stack_window){0};
	}
	if (w->words && addr >= w->lo && addr + 8 <= w->hi && !((addr - w->lo) & 7)) {
		*v = w->words[(addr - w->lo) / 8];
		return 0;
	}
	return read_word(rt, u, addr, v);
}

static bool frames_equal(const gs_frame *a, const gs_frame *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].pc != b[i].pc || a[i].function != b[i].function ||
		    a[i].file != b[i].file || a[i].line != b[i].line ||
		    a[i].inlined != b[i].inlined)
			return false;
	return true;
}

/* The kept copy of the n frames in u's buffer: an earlier goroutine's identical array, or a
 * new one in u's chunks. Nobody writes a goroutine's frames after the unwinder. h: a hash of
 * what the frames were made from (their physical pcs); equal frames from other pcs only
 * miss the sharing. NULL when out of memory. */
static gs_frame *keep_frames(struct gs_unwinder *u, size_t n, uint64_t h)
{
	stack_set *s = &u->stacks;
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		shared_stack *slot = calloc(cap, sizeof *slot);
		if (!slot)
			return NULL;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slot[i].hash)
				continue;
			size_t j = s->slot[i].hash & (cap - 1);
			while (slot[j].hash)
				j = (j + 1) & (cap - 1);
			slot[j] = s->slot[i];
		}
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	h ^= h >> 32;
	h *= 0x9E3779B97F4A7C15ull;
	h ^= h >> 29;
	h = h ? h : 1;
	size_t j = h & (s->cap - 1);
	for (; s->slot[j].hash; j = (j + 1) & (s->cap - 1))
		if (s->slot[j].hash == h && s->slot[j].n == n &&
		    frames_equal(s->slot[j].f, u->framebuf, n))
			return (gs_frame *)s->slot[j].f;
	gs_frame *f = gs_chunks_alloc(u->chunks, n * sizeof *f);
	if (!f)
		return NULL;
	memcpy(f, u->framebuf, n * sizeof *f);
	s->slot[j] = (shared_stack){h, f, n};
	s->n++;
	return f;
}

static void unwind(gs_rt *rt, struct gs_unwinder *u, gs_goroutine *g, bool until_user)
{
	frame_vec fv = {u, 0};
	uint64_t pc, sp;
	bool exact;
	start_point(g, &pc, &sp, &exact);
	/* Goroutines parked at one pc mostly share the frames above it: the first read is as
	 * long as the last one from this pc needed to reach the user frame. */
	const uint64_t pc0 = pc, sp0 = sp;
	const bool exact0 = exact;
	uint64_t first = FIRST_WINDOW, reach = 0, h = 0;
	const pc_info *pi0 = until_user && pc ? lookup_pc(rt, u, pc - rt->bias, exact) : NULL;
	if (pi0 && pi0->found && pi0->need)
		first = pi0->need;
	stack_window win;
	window_load(rt, u, g, sp, !until_user, first, &win);
	if (pc == 0 && sp) { /* a call through a nil func value */
		if (read_word(rt, u, sp, &pc) < 0)
			pc = 0;
		sp += 8;
	}
	for (bool innermost = true; fv.n < GS_MAX_FRAMES; innermost = false) {
		uint64_t lpc = pc - rt->bias;
		const pc_info *pi = pc ? lookup_pc(rt, u, lpc, exact) : NULL;
		if (!pi || !pi->found) {
			if (!fv.n || pc)
				set_error(u, g, "unknown pc 0x%llx", (unsigned long long)pc);
			break;
		}
		const gs_func *f = &pi->f;
		h = (h ^ (pc << 1 | exact)) * 0x100000001B3ull;
		if (innermost)
			g->current = (gs_frame){pc, pi->cur.function, pi->cur.file, pi->cur.line,
						pi->ncur > 1};
		for (int i = 0; i < pi->nf; i++) {
			gs_frame fr = {pc, pi->pf[i].function, pi->pf[i].file, pi->pf[i].line,
				       i < pi->nf - 1};
			push(&fv, &fr);
		}
		if (pi->nf <= 0) {
			gs_frame fr = {pc, f->name, "?", 0, false};
			push(&fv, &fr);
		}
		if ((f->flag & gs_const(&rt->consts, GS_K_FUNCFLAG_TOPFRAME)) ||
		    strcmp(f->name, "runtime.goexit") == 0)
			break;
		if (until_user && pi->nf > 0 && is_user(pi->pf[pi->nf - 1].function)) {
			g->stack_partial = true;
			break;
		}
		if ((f->flag & gs_const(&rt->consts, GS_K_FUNCFLAG_SPWRITE)) && !innermost) {
			set_error(u, g, "stack switch at pc 0x%llx", (unsigned long long)pc);
			break;
		}
		int32_t delta = pi->delta;
		if (!pi->delta_ok || delta < 0) {
			set_error(u, g, "no frame size at pc 0x%llx", (unsigned long long)pc);
			break;
		}
		uint64_t fp = sp + (uint64_t)delta + 8, ret;
		if (fp - sp0 > reach)
			reach = fp - sp0;
		if (window_u64(rt, u, &win, fp - 8, &ret) < 0) {
			set_error(u, g, "return address unreadable at 0x%llx",
				  (unsigned long long)(fp - 8));
			break;
		}
		pc = ret;
		sp = fp;
		exact = false;
	}
	if (pi0 && g->stack_partial && reach && reach <= MAX_STACK_WINDOW) {
		/* Looked up again: the cache may have grown (and moved) since. */
		pc_info *p = (pc_info *)lookup_pc(rt, u, pc0 - rt->bias, exact0);
		uint32_t r = (uint32_t)((reach + 63) & ~(uint64_t)63);
		if (p->found && r > p->need)
			p->need = r;
	}
	if (fv.n >= GS_MAX_FRAMES)
		g->stack_truncated = true;
	g->frames = NULL;
	g->frames_chunked = false;
	if (fv.n) {
		/* Tens of thousands of top-frame arrays live as long as the model: chunks. */
		g->frames_chunked = (until_user || u->share) && u->chunks;
		g->frames = g->frames_chunked ? keep_frames(u, fv.n, h)
					      : malloc(fv.n * sizeof *g->frames);
		if (!g->frames) {
			u->nomem = true;
			fv.n = 0;
		} else if (!g->frames_chunked) {
			memcpy(g->frames, u->framebuf, fv.n * sizeof *g->frames);
		}
	}
	g->nframes = fv.n;
}

static void full_unwind(gs_rt *rt, struct gs_unwinder *u, gs_goroutine *g)
{
	gs_rt_stack_release(g);
	g->stack_done = true;
	unwind(rt, u, g, false);
}

void gs_rt_stack_release(gs_goroutine *g)
{
	if (!g->frames_chunked)
		free(g->frames);
	g->frames_chunked = false;
	free(g->stack_error);
	g->frames = NULL;
	g->stack_error = NULL;
	g->nframes = 0;
	g->stack_done = false;
	g->stack_partial = false;
	g->stack_truncated = false;
}

const gs_frame *gs_rt_stack(gs_rt *rt, gs_goroutine *g, size_t *n)
{
	return gs_rt_stack_with(rt, NULL, g, n);
}

const gs_frame *gs_rt_stack_with(gs_rt *rt, struct gs_unwinder *u, gs_goroutine *g, size_t *n)
{
	if (!g->stack_done || g->stack_partial)
		full_unwind(rt, u ? u : main_unwinder(rt), g);
	*n = g->nframes;
	return g->frames;
}

/* delve's rule for the "User" location: a qualified name outside package runtime and the
 * standard library's internal packages, or an exported runtime function. */
static bool is_user(const char *name)
{
	if (!strchr(name, '.') || strncmp(name, "internal/", 9) == 0 ||
	    strncmp(name, "runtime/internal/", 17) == 0)
		return false;
	if (strncmp(name, "runtime.", 8) != 0)
		return true;
	return name[8] >= 'A' && name[8] <= 'Z';
}

/* Like delve, judge physical frames only: the user location is the first physical function
 * that passes is_user, placed at the innermost source position of its pc (so a stdlib call
 * inlined into user code shows the stdlib line under the user's function). */
const gs_frame *gs_rt_user_frame(gs_rt *rt, gs_goroutine *g)
{
	if (!g->stack_done) {
		g->stack_done = true;
		unwind(rt, main_unwinder(rt), g, true);
	}
	size_t n = g->nframes;
	const gs_frame *f = g->frames;
	size_t group = 0;
	for (size_t i = 0; i < n; i++) {
		if (f[i].inlined)
			continue;
		if (is_user(f[i].function)) {
			g->user = f[i];
			g->user.file = f[group].file;
			g->user.line = f[group].line;
			return &g->user;
		}
		group = i + 1;
	}
	return n ? &g->current : NULL;
}

/* The runtime backs gopc up to the call instruction before symbolizing it. */
static bool creator_with(gs_rt *rt, struct gs_unwinder *u, const gs_goroutine *g,
			 gs_pcframe *out)
{
	if (!g->gopc)
		return false;
	const pc_info *pi = lookup_pc(rt, u, g->gopc - rt->bias, false);
	if (!pi->found || pi->nf <= 0)
		return false;
	*out = pi->pf[0];
	return true;
}

static bool start_with(gs_rt *rt, struct gs_unwinder *u, const gs_goroutine *g, gs_pcframe *out)
{
	if (!g->startpc)
		return false;
	const pc_info *pi = lookup_pc(rt, u, g->startpc - rt->bias, true);
	if (!pi->found)
		return false;
	*out = pi->cur;
	return true;
}

/* gs[i]'s creator and start function, looked up with u (the thread's that claimed i). */
static void resolve_origin(gs_rt *rt, struct gs_unwinder *u, size_t i)
{
	gs_origin *o = &rt->origins[i];
	o->has_creator = creator_with(rt, u, &rt->gs[i], &o->creator);
	o->has_start = start_with(rt, u, &rt->gs[i], &o->start);
	o->done = true;
}

/* g's origin when gs_rt_prepare resolved it, else NULL. */
static const gs_origin *origin_of(const gs_rt *rt, const gs_goroutine *g)
{
	uintptr_t a = (uintptr_t)g, lo = (uintptr_t)rt->gs;
	if (!rt->origins || a < lo || a >= lo + rt->ngs * sizeof *rt->gs)
		return NULL;
	const gs_origin *o = &rt->origins[(a - lo) / sizeof *rt->gs];
	return o->done ? o : NULL;
}

bool gs_rt_origin_ready(const gs_rt *rt, const gs_goroutine *g)
{
	return origin_of(rt, g) != NULL;
}

bool gs_rt_creator(gs_rt *rt, const gs_goroutine *g, gs_pcframe *out)
{
	const gs_origin *o = origin_of(rt, g);
	if (!o)
		return creator_with(rt, main_unwinder(rt), g, out);
	if (o->has_creator)
		*out = o->creator;
	return o->has_creator;
}

bool gs_rt_start_function(gs_rt *rt, const gs_goroutine *g, gs_pcframe *out)
{
	const gs_origin *o = origin_of(rt, g);
	if (!o)
		return start_with(rt, main_unwinder(rt), g, out);
	if (o->has_start)
		*out = o->start;
	return o->has_start;
}

/* ---- unwinding many goroutines on two threads ---- */

#define PREP_BATCH 64

typedef struct prep {
	gs_rt *rt;
	const bool *which;
	bool full, origins;
	atomic_size_t next;
	gs_chunks worker_chunks; /* the worker's top frames: the model's after the join */
	bool nomem; /* the worker's unwinder ran short of memory */
} prep;

static void prep_run(prep *p, struct gs_unwinder *u)
{
	gs_rt *rt = p->rt;
	size_t b, e;
	while (gs_batch_claim(&p->next, rt->ngs, PREP_BATCH, &b, &e)) {
		for (size_t i = b; i < e; i++) {
			gs_goroutine *g = &rt->gs[i];
			if (p->which && !p->which[i])
				continue;
			if (p->full && (!g->stack_done || g->stack_partial)) {
				full_unwind(rt, u, g);
			} else if (!g->stack_done) {
				g->stack_done = true;
				unwind(rt, u, g, true);
			}
			if (p->origins && !rt->origins[i].done)
				resolve_origin(rt, u, i);
		}
	}
}

static void prep_worker(void *arg)
{
	prep *p = arg;
	struct gs_unwinder *u = gs_unwinder_new(NULL); /* bulk reads only */
	if (!u)
		return; /* the caller takes every batch */
	u->chunks = &p->worker_chunks;
	u->share = true;
	prep_run(p, u);
	p->nomem = u->nomem;
	gs_unwinder_free(u);
}

void gs_rt_prepare(gs_rt *rt, const bool *which, unsigned what)
{
	prep p = {.rt = rt, .which = which, .full = what & GS_PREP_FULL,
		  .origins = what & GS_PREP_ORIGINS};
	if (p.origins && !rt->origins &&
	    !(rt->origins = calloc(rt->ngs ? rt->ngs : 1, sizeof *rt->origins))) {
		rt->nomem = true;
		return;
	}
	atomic_init(&p.next, 0);
	/* Each goroutine is claimed by one thread and only its own g is written. The worker
	 * reads with bulk reads (pread on a core), so it needs a core target. Refused: the
	 * caller takes every batch. */
	gs_job worker = {0};
	if (gs_target_kind(rt->target) == GS_TARGET_CORE && rt->ngs > 4 * PREP_BATCH)
		gs_exec_submit(rt->exec, &worker, prep_worker, &p);
	/* What is prepared is kept to the model's end: shared stacks (keep_frames). */
	struct gs_unwinder *mu = main_unwinder(rt);
	mu->share = true;
	prep_run(&p, mu);
	mu->share = false;
	gs_exec_join(&worker);
	gs_chunks_move(&rt->frame_chunks, &p.worker_chunks);
	rt->nomem |= p.nomem;
}
