#include "plausible.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/radix.h"
#include "../util/alloc.h"
#include "model_internal.h"

/* The runtime's stacks grow up to 1 GB (runtime.maxstacksize on 64-bit). */
#define MAX_STACK ((uint64_t)1 << 30)
/* nanotime counts from boot: a clock reading beyond this is no reading. */
#define MAX_NANOTIME ((int64_t)20 * 365 * 24 * 3600 * 1000000000LL)
/* Without runtime.sched.goidgen: no program has started more goroutines. */
#define MAX_GOID ((uint64_t)1 << 48)

typedef struct bad_g {
	uint64_t addr;
	char reason[120];
} bad_g;

struct gs_plausible {
	size_t n;
	bad_g *items; /* the first GS_MAX_UNREADABLE_GS */
	bool nomem;
};

typedef struct bounds {
	uint64_t goidgen;        /* 0: unknown */
	uint64_t text_lo, text_hi;
} bounds;

static void load_bounds(gs_rt *rt, bounds *b)
{
	uint64_t a, v;
	memset(b, 0, sizeof *b);
	if (gs_rt_global(rt, "runtime.sched", &a, NULL) == 0) {
		const gs_dtype *t = gs_dwarf_type(rt->dwarf, "runtime.schedt", NULL);
		const gs_dmember *m = t ? gs_dwarf_member(t, "goidgen") : NULL;
		if (m && gs_target_read_u64(rt->target, a + m->offset, &v, NULL) == 0)
			b->goidgen = v;
	}
	const gs_section *s = gs_binary_section(rt->binary, ".text");
	if (s) {
		b->text_lo = s->addr + rt->bias;
		b->text_hi = s->addr + s->size + rt->bias;
	}
}

static bool known_status(uint32_t st)
{
	switch (st) {
	case GS_G_IDLE: case GS_G_RUNNABLE: case GS_G_RUNNING: case GS_G_SYSCALL:
	case GS_G_WAITING: case GS_G_DEAD: case GS_G_COPYSTACK: case GS_G_PREEMPTED:
	case GS_G_LEAKED: case GS_G_DEADEXTRA:
		return true;
	default:
		return false;
	}
}

static bool is_mapped(gs_rt *rt, uint64_t addr)
{
	return gs_target_mapped(rt->target, addr) != 0; /* -1: cannot tell, taken as yes */
}

/* Why g cannot be a goroutine of this process, in why; false when it can. */
static bool implausible(gs_rt *rt, const bounds *b, const gs_goroutine *g, char *why, size_t n)
{
	if (!known_status(g->status)) {
		snprintf(why, n, "status %" PRIu32 " is none of the runtime's",
			 g->status & ~(uint32_t)GS_CONST_UNMAPPED);
		return true;
	}
	if (g->status == GS_G_DEAD || g->status == GS_G_IDLE || g->status == GS_G_DEADEXTRA)
		return false; /* not listed; their other fields are not read */
	if (g->goid == 0 || g->goid > (b->goidgen ? b->goidgen : MAX_GOID)) {
		snprintf(why, n, "goroutine id %" PRIu64 " beyond the %" PRIu64 " ids handed out",
			 g->goid, b->goidgen ? b->goidgen : MAX_GOID);
		return true;
	}
	if (g->stack_lo || g->stack_hi) {
		if (g->stack_lo >= g->stack_hi || g->stack_hi - g->stack_lo > MAX_STACK) {
			snprintf(why, n, "stack bounds 0x%" PRIx64 "-0x%" PRIx64 " are no stack",
				 g->stack_lo, g->stack_hi);
			return true;
		}
		if (!is_mapped(rt, g->stack_lo) || !is_mapped(rt, g->stack_hi - 1)) {
			snprintf(why, n, "stack 0x%" PRIx64 "-0x%" PRIx64 " is outside the process's memory",
				 g->stack_lo, g->stack_hi);
			return true;
		}
	}
	/* Where it was created and what it runs: code of the program, when recorded. */
	if (b->text_hi && ((g->gopc && (g->gopc < b->text_lo || g->gopc >= b->text_hi)) ||
			   (g->startpc && (g->startpc < b->text_lo || g->startpc >= b->text_hi)))) {
		snprintf(why, n, "creator pc 0x%" PRIx64 " or start pc 0x%" PRIx64 " is outside the "
			 "program's text", g->gopc, g->startpc);
		return true;
	}
	if (!gs_g_parked(g))
		return false;
	/* Parked: the runtime saved where it stopped, on its own stack, in its own text. */
	if (b->text_hi && (g->sched_pc < b->text_lo || g->sched_pc >= b->text_hi)) {
		snprintf(why, n, "saved pc 0x%" PRIx64 " is outside the program's text", g->sched_pc);
		return true;
	}
	if (g->stack_hi && (g->sched_sp < g->stack_lo || g->sched_sp > g->stack_hi)) {
		snprintf(why, n, "saved sp 0x%" PRIx64 " is off its stack 0x%" PRIx64 "-0x%" PRIx64,
			 g->sched_sp, g->stack_lo, g->stack_hi);
		return true;
	}
	if (rt->nwait_reasons && g->waitreason >= rt->nwait_reasons) {
		snprintf(why, n, "wait reason %u is none of the %zu the binary knows", g->waitreason,
			 rt->nwait_reasons);
		return true;
	}
	if (g->waitsince < 0 || g->waitsince > MAX_NANOTIME) {
		snprintf(why, n, "wait start %" PRId64 " is no clock reading", g->waitsince);
		return true;
	}
	return false;
}

static void reject(gs_plausible *p, uint64_t addr, const char *why)
{
	if (p->n < GS_MAX_UNREADABLE_GS) {
		if (!p->items)
			p->items = calloc(GS_MAX_UNREADABLE_GS, sizeof *p->items);
		if (!p->items) {
			p->nomem = true;
			return;
		}
		p->items[p->n].addr = addr;
		snprintf(p->items[p->n].reason, sizeof p->items[p->n].reason, "%s", why);
	}
	p->n++;
}

typedef struct goid_ref {
	uint64_t goid;
	size_t i;
} goid_ref;

/* A goid used by two live g's: the later one in allgs is the odd one out. */
static void check_unique(gs_plausible *p, const uint64_t *ptrs, size_t n, const gs_goroutine *gs,
			 bool *ok)
{
	goid_ref *r = malloc((n ? n : 1) * sizeof *r), *tmp = malloc((n ? n : 1) * sizeof *r);
	if (!r || !tmp) {
		p->nomem = true;
		free(r);
		free(tmp);
		return;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t st = gs[i].status;
		if (ok[i] && st != GS_G_DEAD && st != GS_G_IDLE && st != GS_G_DEADEXTRA)
			r[m++] = (goid_ref){gs[i].goid, i};
	}
	gs_radix_sort(r, m, sizeof *r, offsetof(goid_ref, goid), tmp);
	for (size_t k = 1; k < m; k++) {
		if (r[k].goid != r[k - 1].goid)
			continue;
		/* radix sort is stable: r[k - 1] comes first in allgs */
		char why[120];
		snprintf(why, sizeof why, "goroutine id %" PRIu64 " is also the g's at 0x%" PRIx64,
			 r[k].goid, ptrs[r[k - 1].i]);
		ok[r[k].i] = false;
		reject(p, ptrs[r[k].i], why);
	}
	free(r);
	free(tmp);
}

int gs_plausible_check(gs_rt *rt, const uint64_t *ptrs, size_t n, const gs_goroutine *gs,
		       bool *ok, gs_err *err)
{
	gs_plausible *p = gs_calloc(1, sizeof *p, err);
	if (!p)
		return -1;
	bounds b;
	load_bounds(rt, &b);
	char why[120];
	for (size_t i = 0; i < n; i++) {
		if (ok[i] && implausible(rt, &b, &gs[i], why, sizeof why)) {
			ok[i] = false;
			reject(p, ptrs[i], why);
		}
	}
	check_unique(p, ptrs, n, gs, ok);
	gs_plausible_free(rt);
	rt->plausible = p;
	return p->nomem ? gs_errf(err, GS_EINTERNAL, "checking goroutines: out of memory") : 0;
}

size_t gs_rt_implausible(const gs_rt *rt)
{
	return rt->plausible ? rt->plausible->n : 0;
}

const char *gs_rt_implausible_reason(const gs_rt *rt, uint64_t addr)
{
	const gs_plausible *p = rt->plausible;
	size_t listed = p ? (p->n < GS_MAX_UNREADABLE_GS ? p->n : GS_MAX_UNREADABLE_GS) : 0;
	for (size_t i = 0; i < listed; i++)
		if (p->items[i].addr == addr)
			return p->items[i].reason;
	return NULL;
}

void gs_plausible_free(gs_rt *rt)
{
	if (rt->plausible) {
		free(rt->plausible->items);
		free(rt->plausible);
		rt->plausible = NULL;
	}
}
