/* Goroutine stacks from the pclntab (mirrors the runtime's own unwinder on amd64).
 *
 * Frame size at a pc comes from pcsp; the return address sits at sp+size; the caller's sp
 * is one word above. Return addresses are symbolized at pc-1 so that a call at the end of
 * an inlined body is named as the user sees it. Stops at TopFrame functions (goexit,
 * mstart), at SPWrite functions past the innermost frame, and at anything unreadable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/strbuf.h"
#include "model_internal.h"

#define GS_MAX_FRAMES 1024
#define GS_MAX_INLINE 16
#define FUNCFLAG_TOPFRAME 0x1
#define FUNCFLAG_SPWRITE 0x2

typedef struct frame_vec {
	gs_frame *v;
	size_t n, cap;
} frame_vec;

static void push(frame_vec *fv, const gs_frame *f)
{
	if (fv->n == fv->cap) {
		fv->cap = fv->cap ? fv->cap * 2 : 16;
		fv->v = gs_xrealloc(fv->v, fv->cap * sizeof *fv->v);
	}
	fv->v[fv->n++] = *f;
}

static void set_error(gs_goroutine *g, const char *fmt, unsigned long long a)
{
	char buf[160];
	snprintf(buf, sizeof buf, fmt, a);
	free(g->stack_error);
	g->stack_error = gs_xstrdup(buf);
}

/* Where to start: thread registers for a running goroutine whose sp is on its own stack,
 * syscallsp/pc in a syscall, the saved context otherwise. */
static void start_point(gs_rt *rt, gs_goroutine *g, uint64_t *pc, uint64_t *sp, bool *exact)
{
	*exact = false;
	if (g->status == GS_G_RUNNING && g->thread) {
		uint64_t lo = 0, hi = 0;
		gs_target_read_u64(rt->target, g->addr + rt->layout.offsets[RT_G_STACK_LO], &lo,
				   NULL);
		gs_target_read_u64(rt->target, g->addr + rt->layout.offsets[RT_G_STACK_HI], &hi,
				   NULL);
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

static void unwind(gs_rt *rt, gs_goroutine *g)
{
	frame_vec fv = {0};
	uint64_t pc, sp;
	bool exact;
	start_point(rt, g, &pc, &sp, &exact);
	if (pc == 0 && sp) { /* a call through a nil func value */
		gs_target_read_u64(rt->target, sp, &pc, NULL);
		sp += 8;
	}
	for (bool innermost = true; fv.n < GS_MAX_FRAMES; innermost = false) {
		uint64_t lpc = pc - rt->bias;
		uint64_t sympc = exact ? lpc : lpc - 1;
		gs_func f;
		if (pc == 0 || gs_pclntab_find(rt->pcln, sympc, &f) < 0) {
			if (!fv.n || pc)
				set_error(g, "unknown pc 0x%llx", (unsigned long long)pc);
			break;
		}
		gs_pcframe pf[GS_MAX_INLINE];
		if (innermost) {
			int nc = gs_pclntab_frames(rt->pcln, &f, lpc, pf, GS_MAX_INLINE);
			g->current = (gs_frame){pc, sp, nc > 0 ? pf[0].function : f.name,
						nc > 0 ? pf[0].file : "?", nc > 0 ? pf[0].line : 0,
						nc > 1};
		}
		int nf = gs_pclntab_frames(rt->pcln, &f, sympc, pf, GS_MAX_INLINE);
		for (int i = 0; i < nf; i++) {
			gs_frame fr = {pc, sp, pf[i].function, pf[i].file, pf[i].line, i < nf - 1};
			push(&fv, &fr);
		}
		if (nf <= 0) {
			gs_frame fr = {pc, sp, f.name, "?", 0, false};
			push(&fv, &fr);
		}
		if ((f.flag & FUNCFLAG_TOPFRAME) || strcmp(f.name, "runtime.goexit") == 0)
			break;
		if ((f.flag & FUNCFLAG_SPWRITE) && !innermost) {
			set_error(g, "stack switch at pc 0x%llx", (unsigned long long)pc);
			break;
		}
		bool ok = true;
		int32_t delta = gs_pclntab_spdelta(rt->pcln, &f, lpc, &ok);
		if (!ok || delta < 0) {
			set_error(g, "no frame size at pc 0x%llx", (unsigned long long)pc);
			break;
		}
		uint64_t fp = sp + (uint64_t)delta + 8, ret;
		if (gs_target_read_u64(rt->target, fp - 8, &ret, NULL) < 0) {
			set_error(g, "return address unreadable at 0x%llx",
				  (unsigned long long)(fp - 8));
			break;
		}
		pc = ret;
		sp = fp;
		exact = false;
	}
	if (fv.n >= GS_MAX_FRAMES)
		g->stack_truncated = true;
	g->frames = fv.v;
	g->nframes = fv.n;
}

const gs_frame *gs_rt_stack(gs_rt *rt, gs_goroutine *g, size_t *n)
{
	if (!g->stack_done) {
		g->stack_done = true;
		unwind(rt, g);
	}
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
	size_t n;
	const gs_frame *f = gs_rt_stack(rt, g, &n);
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
