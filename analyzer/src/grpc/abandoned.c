/* Abandoned client streams: open, holding a slot of the peer's MAX_CONCURRENT_STREAMS, their
 * context not done, and nothing left in the program that could use or end them — what a
 * ClientStream dropped without CloseSend, a full read or a cancel leaves behind (grpc-go
 * keeps such a stream until its context ends).
 *
 * "Nothing refers to it" is decided from goroutine stacks, the only roots read here:
 *  - no goroutine waits on the stream's own objects (recv buffer, write quota, headers), grpc's
 *    stream watcher (the goroutine newClientStream starts to wait for the context) excepted;
 *  - no goroutine's live stack (from its saved or its thread's stack pointer to the top)
 *    reaches the stream, grpc's clientStream around it (what the application's ClientStream
 *    or generated stub points to) or that clientStream's attempt, directly or through at most
 *    two heap objects (a struct that holds the stub, the stub that holds the ClientStream),
 *    each read within its own bounds (heapobj.c: its span's element size, first OBJ_WORDS
 *    words), pointer-free objects skipped;
 *  - goroutines grpc started are not counted (its transport and watcher goroutines hold
 *    streams by design) unless they run a server handler (a handler may be a client too),
 *    nor the runtime's own (GC workers, forcegc: their stacks point into the runtime's
 *    bookkeeping, not at the program's values); the main goroutine is counted.
 * Not seen: references three or more objects away from every stack (a map's buckets, a
 * slice of structs behind a struct), beyond an object's first OBJ_WORDS words, and those
 * held only by global variables or timers. A stream kept only there is called abandoned.
 * The scan is conservative: a stale pointer in a dead stack slot counts as a reference, so
 * an abandoned stream can go unreported. When a stack cannot be read, the heap's spans are
 * unknown, or the walk exceeds its budget, no stream is called abandoned.
 */
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/u64set.h"
#include "grpc_internal.h"

#define CLOSURE_WORDS 16
#define OBJ_WORDS 64         /* read of each heap object */
#define CHASE_BUDGET 100000  /* heap objects read, over every stack */
#define MAX_STACK (1u << 20)

/* What the stacks are searched for: object address -> candidate stream index. */
typedef struct target { uint64_t addr; size_t stream; } target;

typedef struct walk {
	gs_grpc *g;
	target *tg;
	size_t ntg, captg;
	bool *used;        /* per stream: referred to */
	bool blind;        /* a stack or the heap could not be walked: decide nothing */
	gs_heapobj_ix *heap;
	gs_u64set deep, shallow; /* objects whose words were followed / only compared */
	size_t budget;
} walk;

static int cmp_target(const void *a, const void *b)
{
	const target *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void add_target(walk *w, uint64_t addr, size_t si)
{
	if (w->ntg == w->captg) {
		target *v = gs_reallocarray(w->tg, w->captg ? 2 * w->captg : 16, sizeof *v, NULL);
		if (!v) { /* decide nothing, and say why */
			w->blind = w->g->nomem = true;
			return;
		}
		w->tg = v;
		w->captg = w->captg ? 2 * w->captg : 16;
	}
	w->tg[w->ntg++] = (target){addr, si};
}

static const target *find_target(const walk *w, uint64_t addr)
{
	target key = {addr, 0};
	return w->ntg ? bsearch(&key, w->tg, w->ntg, sizeof key, cmp_target) : NULL;
}

static bool start_has(gs_grpc *g, const gs_goroutine *gr, const char *prefix)
{
	gs_func sf;
	return gr->startpc &&
	       gs_pclntab_find(gs_rt_pclntab(g->rt), gr->startpc - gs_rt_bias(g->rt), &sf) == 0 &&
	       strncmp(sf.name, prefix, strlen(prefix)) == 0;
}

/* grpc's stream watcher: every watcher starts at the same pc, so the answer is kept for the
 * last pc asked (tens of thousands of streams each have one). */
typedef struct watcher_pc { uint64_t yes, no; } watcher_pc;

static bool is_watcher_pc(gs_grpc *g, const gs_goroutine *gr, watcher_pc *c)
{
	if (gr->startpc && gr->startpc == c->yes)
		return true;
	if (gr->startpc == c->no)
		return false;
	bool r = start_has(g, gr, "google.golang.org/grpc.newClientStream");
	*(r ? &c->yes : &c->no) = gr->startpc;
	return r;
}

static bool is_watcher(gs_grpc *g, const gs_goroutine *gr)
{
	watcher_pc c = {0, 0};
	return is_watcher_pc(g, gr, &c);
}

/* A candidate: an open client stream, context known and not done, no goroutine waiting on
 * it but grpc's watcher. */
static bool candidate(gs_grpc *g, const gs_stream *s, watcher_pc *c)
{
	if (s->side != GS_CLIENT || s->detached || s->has_status || s->state == GS_STREAM_DONE ||
	    s->unreadable ||
	    !s->ctx_known || s->ctx.done)
		return false;
	for (size_t i = 0; i < s->ngoroutines; i++) {
		gs_goroutine *gr = gs_rt_find_goroutine(g->rt, s->goroutines[i]);
		if (!gr || !is_watcher_pc(g, gr, c))
			return false;
	}
	return true;
}

/* Live stack bounds of a goroutine, false when they are not known. */
static bool stack_bounds(const gs_goroutine *gr, uint64_t *lo, uint64_t *hi)
{
	uint64_t sp = gr->sched_sp;
	if (gr->status == GS_G_SYSCALL && gr->syscallsp)
		sp = gr->syscallsp;
	else if (gr->status == GS_G_RUNNING)
		sp = gr->thread ? gr->thread->regs.rsp : 0;
	*lo = sp;
	*hi = gr->stack_hi;
	return sp && *hi > sp && *hi - sp <= MAX_STACK && (!gr->stack_lo || sp >= gr->stack_lo);
}

static void check_word(walk *w, uint64_t v, int depth);

/* The words of the heap object holding p, compared with the targets and, while depth > 1,
 * followed into the objects they point to. */
static void follow(walk *w, uint64_t p, int depth)
{
	uint64_t base, size, words[OBJ_WORDS];
	if (!gs_heapobj_find(w->heap, p, &base, &size))
		return;
	if (gs_u64set_has(&w->deep, base) || !gs_u64set_add(depth > 1 ? &w->deep : &w->shallow, base))
		return;
	if (!w->budget) {
		w->blind = true;
		return;
	}
	w->budget--;
	size_t n = size / 8 < OBJ_WORDS ? size / 8 : OBJ_WORDS;
	if (gs_target_read(w->g->t, base, words, n * 8, NULL) < 0)
		return;
	for (size_t i = 0; i < n && !w->blind; i++)
		check_word(w, words[i], depth - 1);
}

static void check_word(walk *w, uint64_t v, int depth)
{
	if (v < 0x10000 || (v & 7))
		return;
	const target *t = find_target(w, v);
	if (t)
		w->used[t->stream] = true;
	else if (depth > 0)
		follow(w, v, depth);
}

/* grpc's clientStream (and its attempt) around each candidate, from the watcher goroutine
 * that holds it (on its stack or in its closure). */
static void find_client_streams(walk *w)
{
	gs_grpc *g = w->g;
	if (!gs_layout_has(&g->l, CLS_ATTEMPT) || !gs_layout_has(&g->l, CSA_S))
		return;
	uint64_t *buf = malloc(MAX_STACK);
	if (!buf) {
		w->blind = g->nomem = true;
		return;
	}
	size_t base = w->ntg;
	for (size_t i = 0; i < gs_rt_ngoroutines(g->rt); i++) {
		gs_goroutine *gr = gs_rt_goroutine(g->rt, i);
		uint64_t lo, hi;
		if (!is_watcher(g, gr) || !stack_bounds(gr, &lo, &hi) ||
		    gs_target_read_bulk(g->t, lo, buf, hi - lo, NULL) < 0)
			continue;
		for (size_t k = 0; k < (hi - lo) / 8; k++) {
			uint64_t ptrs[1 + CLOSURE_WORDS];
			size_t np = 0;
			ptrs[np++] = buf[k];
			/* the closure: its words hold the clientStream */
			if (buf[k] > 0x10000 && !(buf[k] & 7) &&
			    gs_target_read(g->t, buf[k], ptrs + 1, CLOSURE_WORDS * 8, NULL) == 0)
				np += CLOSURE_WORDS;
			for (size_t j = 0; j < np; j++) {
				uint64_t cs = ptrs[j], a = 0, s = 0;
				if (cs < 0x10000 || (cs & 7) ||
				    gs_layout_read(&g->l, CLS_ATTEMPT, g->t, cs, 0, &a) < 0 || !a ||
				    (a & 7) || gs_layout_read(&g->l, CSA_S, g->t, a, 0, &s) < 0 || !s)
					continue;
				for (size_t c = 0; c < base; c++)
					if (w->tg[c].addr == s) {
						add_target(w, cs, w->tg[c].stream);
						add_target(w, a, w->tg[c].stream);
					}
			}
		}
	}
	free(buf);
}

static bool runs_handler(gs_grpc *g, gs_goroutine *gr)
{
	size_t n;
	const gs_frame *f = gs_rt_stack(g->rt, gr, &n);
	for (size_t i = 0; i < n; i++)
		if (strstr(f[i].function, "grpc.(*Server).processStreamingRPC") ||
		    strstr(f[i].function, "grpc.(*Server).processUnaryRPC"))
			return true;
	return false;
}

static void walk_stacks(walk *w)
{
	gs_grpc *g = w->g;
	uint64_t *buf = malloc(MAX_STACK);
	if (!buf) {
		w->blind = g->nomem = true;
		return;
	}
	for (size_t i = 0; i < gs_rt_ngoroutines(g->rt) && !w->blind; i++) {
		gs_goroutine *gr = gs_rt_goroutine(g->rt, i);
		if (gr->status == GS_G_DEAD || gr->status == GS_G_IDLE ||
		    (start_has(g, gr, "runtime.") && !start_has(g, gr, "runtime.main")) ||
		    (start_has(g, gr, "google.golang.org/grpc") && !runs_handler(g, gr)))
			continue;
		uint64_t lo, hi;
		if (!stack_bounds(gr, &lo, &hi) || gs_target_read_bulk(g->t, lo, buf, hi - lo, NULL) < 0) {
			w->blind = true;
			break;
		}
			for (size_t k = 0; k < (hi - lo) / 8 && !w->blind; k++) {
			uint64_t v = buf[k];
			if (v >= lo && v < hi) /* frame pointers and the like */
				continue;
			check_word(w, v, 2);
		}
	}
	free(buf);
}

void gs_grpc_find_abandoned(gs_grpc *g)
{
	if (g->abandoned_done)
		return;
	g->abandoned_done = true;
	walk w = {.g = g, .budget = CHASE_BUDGET};
	watcher_pc c = {0, 0};
	for (size_t i = 0; i < g->nst; i++)
		if (candidate(g, &g->st[i], &c))
			add_target(&w, g->st[i].addr, i);
	if (!w.ntg)
		return;
	w.heap = gs_heapobj_open(g);
	if (!w.heap) {
		free(w.tg);
		return;
	}
	find_client_streams(&w);
	qsort(w.tg, w.ntg, sizeof *w.tg, cmp_target);
	w.used = calloc(g->nst ? g->nst : 1, sizeof *w.used);
	if (w.used)
		walk_stacks(&w);
	if (!w.used || w.deep.failed || w.shallow.failed)
		w.blind = g->nomem = true;
	for (size_t i = 0; i < w.ntg && !w.blind; i++)
		if (!w.used[w.tg[i].stream])
			g->st[w.tg[i].stream].abandoned = true;
	free(w.used);
	free(w.tg);
	gs_heapobj_close(w.heap);
	gs_u64set_free(&w.deep);
	gs_u64set_free(&w.shallow);
}
