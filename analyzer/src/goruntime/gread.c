#include "gread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../util/batch.h"
#include "../util/executor.h"
#include "../util/radix.h"
#include "../util/runs.h"
#include "../util/alloc.h"
#include "model_internal.h"

#define G_RUN_MAX ((uint64_t)64 << 10)
#define G_RUN_GAP ((uint64_t)4 << 10)

/* A g's address and its allgs index, sorted by address to find the runs (gs_run_end: the
 * address comes first). */
typedef struct gref {
	uint64_t addr;
	size_t i;
} gref;

void gs_gread_plan(gs_rt *rt)
{
	const gs_layout *l = &rt->layout;
	int64_t sched = l->offsets[RT_G_SCHED];
	rt->gplan_size = (size_t)l->sizes[RT_G_GOID];
	for (int f = 0; f <= RT_GOBUF_BP; f++) {
		bool gobuf = f >= RT_GOBUF_SP;
		int64_t off = l->offsets[f] + (gobuf ? sched : 0);
		rt->gword[f] = l->offsets[f] >= 0 && (!gobuf || sched >= 0) && l->widths[f] == 8 &&
				       off >= 0 && (uint64_t)off + 8 <= rt->gplan_size
				       ? off : -1;
	}
}

/* Field f of the g in buf: a word checked by gs_gread_plan, else through gs_layout_get. */
static inline uint64_t gfield(const gs_rt *rt, int f, const uint8_t *buf, size_t gsize,
			      int64_t extra)
{
	int64_t at = rt->gword[f];
	uint64_t v;
	if (at >= 0 && gsize >= rt->gplan_size) {
		memcpy(&v, buf + at, 8);
		return v;
	}
	return gs_layout_get(&rt->layout, f, buf, gsize, extra);
}

static void parse_g(gs_rt *rt, const uint8_t *buf, size_t gsize, uint64_t addr, gs_goroutine *g)
{
	int64_t sched = rt->layout.offsets[RT_G_SCHED];
	uint32_t st = gs_rt_model_status(rt, (uint32_t)gfield(rt, RT_G_STATUS, buf, gsize, 0));
	g->addr = addr;
	g->status = st;
	g->goid = gfield(rt, RT_G_GOID, buf, gsize, 0);
	if (st == GS_G_DEADEXTRA || st == GS_G_DEAD || st == GS_G_IDLE)
		return;
	g->waitreason = (uint8_t)gfield(rt, RT_G_WAITREASON, buf, gsize, 0);
	g->waitsince = (int64_t)gfield(rt, RT_G_WAITSINCE, buf, gsize, 0);
	g->gopc = gfield(rt, RT_G_GOPC, buf, gsize, 0);
	g->startpc = gfield(rt, RT_G_STARTPC, buf, gsize, 0);
	g->parent_goid = gfield(rt, RT_G_PARENTGOID, buf, gsize, 0);
	if (sched >= 0) {
		g->sched_sp = gfield(rt, RT_GOBUF_SP, buf, gsize, sched);
		g->sched_pc = gfield(rt, RT_GOBUF_PC, buf, gsize, sched);
		g->sched_bp = gfield(rt, RT_GOBUF_BP, buf, gsize, sched);
	}
	g->syscallsp = gfield(rt, RT_G_SYSCALLSP, buf, gsize, 0);
	g->syscallpc = gfield(rt, RT_G_SYSCALLPC, buf, gsize, 0);
	g->m = gfield(rt, RT_G_M, buf, gsize, 0);
	g->waiting = gfield(rt, RT_G_WAITING, buf, gsize, 0);
	g->stack_lo = gfield(rt, RT_G_STACK_LO, buf, gsize, 0);
	g->stack_hi = gfield(rt, RT_G_STACK_HI, buf, gsize, 0);
	g->labels = gfield(rt, RT_G_LABELS, buf, gsize, 0);
}

/* Fills raw[i] for every readable ptrs[i]; ok[i] tells which were read. The runs of
 * neighbouring g's are read on two threads for a core (bulk reads only, no page cache). */
typedef struct g_run {
	size_t a, b; /* ord[a..b) */
} g_run;

typedef struct read_job {
	gs_rt *rt;
	const gref *ord;
	const g_run *runs;
	size_t nruns, gsize;
	gs_goroutine *raw;
	bool *ok;
	atomic_size_t next;
} read_job;

/* False when its buffer cannot be had (nothing claimed: the other thread reads on). */
static bool read_runs(read_job *j)
{
	uint8_t *run = malloc(G_RUN_MAX + j->gsize);
	if (!run)
		return false;
	size_t b, e, gsize = j->gsize;
	while (gs_batch_claim(&j->next, j->nruns, 16, &b, &e)) {
		for (size_t r = b; r < e; r++) {
			const g_run *x = &j->runs[r];
			uint64_t lo = j->ord[x->a].addr, hi = j->ord[x->b - 1].addr + gsize;
			bool whole = gs_target_read_bulk(j->rt->target, lo, run, hi - lo, NULL) == 0;
			for (size_t k = x->a; k < x->b; k++) {
				size_t i = j->ord[k].i;
				uint64_t addr = j->ord[k].addr;
				uint8_t *p = run + (addr - lo);
				/* A run with a hole in it: each g on its own. */
				if (!whole && gs_target_read_bulk(j->rt->target, addr, p, gsize, NULL) < 0)
					continue;
				parse_g(j->rt, p, gsize, addr, &j->raw[i]);
				j->ok[i] = true;
			}
		}
	}
	free(run);
	return true;
}

static void read_worker(void *arg)
{
	read_runs(arg);
}

/* The g's of ptrs in address order, cut into runs of neighbours; *ordp NULL when out of
 * memory. */
static size_t make_runs(const uint64_t *ptrs, uint64_t n, size_t gsize, gref **ordp,
			g_run **runsp)
{
	gref *ord = calloc(n ? n : 1, sizeof *ord);
	gref *tmp = calloc(n ? n : 1, sizeof *tmp);
	g_run *runs = calloc(n ? n : 1, sizeof *runs);
	if (!ord || !tmp || !runs) {
		free(ord);
		free(tmp);
		free(runs);
		*ordp = NULL;
		*runsp = NULL;
		return 0;
	}
	size_t m = 0;
	for (uint64_t i = 0; i < n; i++)
		if (ptrs[i] && ptrs[i] + gsize > ptrs[i])
			ord[m++] = (gref){ptrs[i], (size_t)i};
	gs_radix_sort(ord, m, sizeof *ord, offsetof(gref, addr), tmp);
	free(tmp);
	size_t nruns = 0;
	for (size_t a = 0, b; a < m; a = b) {
		b = gs_run_end(ord, sizeof *ord, m, a, gsize, G_RUN_GAP, G_RUN_MAX);
		runs[nruns++] = (g_run){a, b};
	}
	*ordp = ord;
	*runsp = runs;
	return nruns;
}

int gs_gread_all(gs_rt *rt, const uint64_t *ptrs, uint64_t n, size_t gsize, gs_goroutine *raw,
		 bool *ok, gs_err *err)
{
	gref *ord;
	g_run *runs;
	size_t nruns = make_runs(ptrs, n, gsize, &ord, &runs);
	if (!ord)
		return gs_err_nomem(err, (size_t)n * sizeof *ord);
	read_job j = {rt, ord, runs, nruns, gsize, raw, ok, 0};
	atomic_init(&j.next, 0);
	gs_job worker = {0}; /* refused or not started: the caller reads every run */
	if (gs_target_kind(rt->target) == GS_TARGET_CORE && nruns >= 8)
		gs_exec_submit(rt->exec, &worker, read_worker, &j);
	bool read = read_runs(&j);
	gs_exec_join(&worker);
	free(runs);
	free(ord);
	return read ? 0 : gs_err_nomem(err, G_RUN_MAX + gsize);
}

/* ---- ahead of the layout ----
 * The worker lists the runs and reads them; until the caller says the layout is known, each
 * g read is copied aside (arena), after that it is parsed at once. The caller, once it
 * knows the layout, takes runs too, then parses what was copied aside. */
enum { LAYOUT_UNKNOWN, LAYOUT_READY, CANCELLED };

struct gs_gread {
	gs_rt *rt;
	uint64_t allgs, hdr[3], *ptrs;
	size_t gsize, n;
	gref *ord;
	g_run *runs;
	size_t nruns;
	atomic_size_t next;   /* runs claimed so far */
	atomic_size_t next_copy; /* slots claimed so far for parsing their copies */
	atomic_int state;     /* LAYOUT_UNKNOWN, LAYOUT_READY or CANCELLED */
	uint8_t *arena;       /* n * gsize: g's read before the layout was known */
	size_t arena_len;
	bool *pending;        /* per slot: its copy in arena waits to be parsed */
	bool *ok;             /* per slot: read (parsed, or pending) */
	gs_goroutine *gs;     /* the array parsed into */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int setup;            /* 0 running, 1 runs listed and arrays in place, -1 failed */
	gs_job worker;        /* joined by gs_gread_take or gs_gread_free */
};

static void take_runs(gs_gread *p, uint8_t *buf)
{
	size_t b, e;
	while (gs_batch_claim(&p->next, p->nruns, 4, &b, &e)) {
		for (size_t r = b; r < e; r++) {
			int state = atomic_load_explicit(&p->state, memory_order_acquire);
			if (state == CANCELLED)
				return;
			const g_run *x = &p->runs[r];
			uint64_t lo = p->ord[x->a].addr, hi = p->ord[x->b - 1].addr + p->gsize;
			bool whole = gs_target_read_bulk(p->rt->target, lo, buf, hi - lo, NULL) == 0;
			for (size_t k = x->a; k < x->b; k++) {
				size_t i = p->ord[k].i;
				uint8_t *g = buf + (p->ord[k].addr - lo);
				if (!whole && gs_target_read_bulk(p->rt->target, p->ord[k].addr, g,
								  p->gsize, NULL) < 0)
					continue;
				if (state == LAYOUT_READY) {
					parse_g(p->rt, g, p->gsize, p->ord[k].addr, &p->gs[i]);
				} else {
					memcpy(p->arena + i * p->gsize, g, p->gsize);
					p->pending[i] = true;
				}
				p->ok[i] = true;
			}
		}
	}
}

/* Parses the copies made before the layout was known, a batch of slots at a time. */
static void parse_copies(gs_gread *p)
{
	size_t b, e;
	while (gs_batch_claim(&p->next_copy, p->n, 1024, &b, &e))
		for (size_t i = b; i < e; i++)
			if (p->pending[i])
				parse_g(p->rt, p->arena + i * p->gsize, p->gsize, p->ptrs[i], &p->gs[i]);
}

static int setup(gs_gread *p)
{
	gs_target *t = p->rt->target;
	if (gs_target_read_bulk(t, p->allgs, p->hdr, sizeof p->hdr, NULL) < 0)
		return -1;
	uint64_t n = p->hdr[1];
	if (n == 0 || n > GS_MAX_GOROUTINES || n > p->hdr[2])
		return -1;
	p->n = (size_t)n;
	p->ptrs = malloc(n * 8);
	if (!p->ptrs || gs_target_read_bulk(t, p->hdr[0], p->ptrs, n * 8, NULL) < 0)
		return -1;
	p->nruns = make_runs(p->ptrs, n, p->gsize, &p->ord, &p->runs);
	if (!p->ord)
		return -1;
	p->arena_len = n * p->gsize;
	void *m = mmap(NULL, p->arena_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
#ifdef MADV_HUGEPAGE
	madvise(m, p->arena_len, MADV_HUGEPAGE);
#endif
	p->arena = m;
	p->pending = calloc(n, sizeof *p->pending);
	p->ok = calloc(n, sizeof *p->ok);
	p->gs = calloc(n, sizeof *p->gs);
	return p->pending && p->ok && p->gs ? 0 : -1;
}

static void gread_worker(void *arg)
{
	gs_gread *p = arg;
	int rc = setup(p);
	pthread_mutex_lock(&p->lock);
	p->setup = rc == 0 ? 1 : -1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (rc == 0) {
		uint8_t *buf = malloc(G_RUN_MAX + p->gsize);
		if (buf) /* else the caller takes every run */
			take_runs(p, buf);
		free(buf);
		/* Layout known by now (it usually is): the copies are parsed by both threads. */
		if (atomic_load_explicit(&p->state, memory_order_acquire) == LAYOUT_READY)
			parse_copies(p);
	}
}

gs_gread *gs_gread_start(gs_rt *rt)
{
	uint64_t allgs, hsize, g0, gsize;
	if (gs_target_kind(rt->target) != GS_TARGET_CORE ||
	    gs_binary_symbol(rt->binary, "runtime.allgs", &allgs, &hsize) < 0 || hsize != 24 ||
	    gs_binary_symbol(rt->binary, "runtime.g0", &g0, &gsize) < 0 || gsize == 0 ||
	    gsize > 4096)
		return NULL;
	gs_gread *p = calloc(1, sizeof *p);
	if (!p) /* not read ahead */
		return NULL;
	p->rt = rt;
	p->allgs = allgs + rt->bias;
	p->gsize = (size_t)gsize;
	atomic_init(&p->next, 0);
	atomic_init(&p->next_copy, 0);
	atomic_init(&p->state, LAYOUT_UNKNOWN);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (!gs_exec_submit(rt->exec, &p->worker, gread_worker, p)) { /* not read ahead */
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
		free(p);
		return NULL;
	}
	return p;
}

void gs_gread_layout(gs_gread *p, uint64_t allgs, size_t gsize)
{
	if (p)
		atomic_store_explicit(&p->state, p->allgs == allgs && p->gsize == gsize ? LAYOUT_READY
										       : CANCELLED,
				      memory_order_release);
}

gs_goroutine *gs_gread_take(gs_gread *p, uint64_t allgs, const uint64_t hdr[3],
			    const uint64_t *ptrs, size_t gsize, bool *ok)
{
	if (!p || atomic_load(&p->state) != LAYOUT_READY || p->allgs != allgs || p->gsize != gsize)
		return NULL;
	pthread_mutex_lock(&p->lock);
	while (p->setup == 0)
		pthread_cond_wait(&p->cond, &p->lock);
	int ready = p->setup;
	pthread_mutex_unlock(&p->lock);
	uint8_t *buf = ready > 0 ? malloc(G_RUN_MAX + p->gsize) : NULL;
	if (buf) {
		take_runs(p, buf); /* the runs the worker has not reached */
		free(buf);
		parse_copies(p);
	} else {
		ready = -1; /* out of memory: the caller reads them all itself */
	}
	gs_exec_join(&p->worker);
	uint64_t n = hdr[1];
	if (ready <= 0 || n != p->n || memcmp(p->hdr, hdr, sizeof p->hdr) ||
	    memcmp(p->ptrs, ptrs, n * 8))
		return NULL;
	memcpy(ok, p->ok, n * sizeof *ok);
	gs_goroutine *gs = p->gs;
	p->gs = NULL;
	return gs;
}

void gs_gread_free(gs_gread *p)
{
	if (!p)
		return;
	atomic_store(&p->state, CANCELLED);
	gs_exec_join(&p->worker);
	if (p->arena)
		munmap(p->arena, p->arena_len);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->ord);
	free(p->runs);
	free(p->pending);
	free(p->ok);
	free(p->ptrs);
	free(p->gs);
	free(p);
}
