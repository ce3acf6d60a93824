/* The grpc layer above transports: a ClientConn's target, connectivity state, subchannels
 * and last connection error, for goroutines blocked in the picker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "grpc_internal.h"

#define MAX_SCAN (1u << 20)

static const char *state_name(uint64_t s)
{
	static const char *const n[GS_CONN_NSTATES] = {"IDLE", "CONNECTING", "READY",
						       "TRANSIENT_FAILURE", "SHUTDOWN"};
	return s < GS_CONN_NSTATES ? n[s] : "?";
}

/* A connectivityStateManager's state, in the model's terms. */
static uint64_t conn_state(gs_grpc *g, uint64_t csm)
{
	return (uint64_t)gs_grpc_state(g, GS_K_CONN_IDLE, GS_CONN_NSTATES,
				       (int64_t)gs_grpc_get(g, csm, CSM_STATE));
}

/* The blocking channel of a pickerWrapper: a field (1.33, 1.64) or inside the current
 * pickerGeneration behind an atomic.Pointer (1.81). */
static uint64_t blocking_chan(gs_grpc *g, uint64_t pw)
{
	if (g->l.offsets[PW_BLOCKINGCH] >= 0)
		return gs_grpc_get(g, pw, PW_BLOCKINGCH);
	uint64_t gen = gs_grpc_get(g, pw, PW_GEN);
	return gen ? gs_grpc_get(g, gen, PG_BLOCKINGCH) : 0;
}

static void error_text(gs_grpc *g, uint64_t iface_addr, char *buf, size_t cap)
{
	gs_iface e;
	buf[0] = '\0';
	if (gs_iface_read(g->ty, iface_addr, false, &e, NULL) < 0 || !e.type)
		return;
	char name[128];
	if (gs_type_name(g->ty, e.type, name, sizeof name, NULL) < 0)
		snprintf(name, sizeof name, "?");
	if (strcmp(name, "*errors.errorString") == 0 &&
	    gs_rt_read_string(g->rt, e.data, buf, cap, NULL) == 0)
		return;
	snprintf(buf, cap, "(%s)", name);
}

typedef struct ac_count {
	gs_grpc *g;
	unsigned n[GS_CONN_NSTATES + 1]; /* the last: none of grpc-go's */
} ac_count;

static int count_ac(void *ctx, uint64_t key, uint64_t val)
{
	(void)val;
	ac_count *c = ctx;
	uint64_t ac = 0;
	if (gs_target_read_u64(c->g->t, key, &ac, NULL) == 0 && ac) {
		uint64_t st = (uint64_t)gs_grpc_state(c->g, GS_K_CONN_IDLE, GS_CONN_NSTATES,
						      (int64_t)gs_grpc_get(c->g, ac, AC_STATE));
		c->n[st < GS_CONN_NSTATES ? st : GS_CONN_NSTATES]++;
	}
	return 0;
}

static void read_clientconn(gs_grpc *g, uint64_t cc, gs_cc_info *out)
{
	out->addr = cc;
	if (gs_rt_read_string(g->rt, cc + (uint64_t)g->l.offsets[CC_TARGET], out->target,
			      sizeof out->target, NULL) < 0)
		snprintf(out->target, sizeof out->target, "?");
	uint64_t csm = gs_grpc_get(g, cc, CC_CSMGR);
	snprintf(out->state, sizeof out->state, "%s",
		 csm && g->l.offsets[CSM_STATE] >= 0 ? state_name(conn_state(g, csm)) : "?");
	const gs_dtype *cct = gs_dwarf_type(g->d, "google.golang.org/grpc.ClientConn", NULL);
	const gs_dmember *cm = cct ? gs_dwarf_member(gs_dwarf_resolve(cct), "conns") : NULL;
	gs_map_layout ml;
	ac_count c = {g, {0}};
	uint64_t conns = gs_grpc_get(g, cc, CC_CONNS);
	if (cm && gs_map_layout_resolve(g->d, cm->type, &ml, NULL) == 0 &&
	    gs_map_walk(g->t, &ml, conns, count_ac, &c, NULL) >= 0) {
		gs_strbuf sb;
		gs_strbuf_init(&sb);
		for (int i = 0; i <= GS_CONN_NSTATES; i++)
			if (c.n[i])
				gs_strbuf_printf(&sb, "%s%u %s", sb.len ? ", " : "", c.n[i],
						 i < GS_CONN_NSTATES ? state_name((uint64_t)i) : "?");
		snprintf(out->subchannels, sizeof out->subchannels, "%s", sb.len ? sb.buf : "none");
		gs_strbuf_free(&sb);
	} else {
		snprintf(out->subchannels, sizeof out->subchannels, "unreadable");
	}
	if (g->l.offsets[CC_LASTERR] >= 0)
		error_text(g, cc + (uint64_t)g->l.offsets[CC_LASTERR], out->last_error,
			   sizeof out->last_error);
}

bool gs_grpc_find_clientconn(gs_grpc *g, gs_goroutine *gr, gs_cc_info *out)
{
	memset(out, 0, sizeof *out);
	if (g->l.offsets[CC_PW] < 0 || g->l.offsets[CC_TARGET] < 0)
		return false;
	size_t nw;
	const gs_waitobj *w = gs_rt_waits(g->rt, gr, &nw);
	uint64_t hi = 0, lo = gr->sched_sp;
	if (!nw || gs_rt_field(g->rt, gr->addr, RT_G_STACK_HI, &hi) < 0 ||
	    hi <= lo || hi - lo > MAX_SCAN)
		return false;
	uint64_t *buf = malloc(hi - lo);
	uint64_t cc = 0;
	g->nomem |= !buf;
	if (buf && gs_target_read_bulk(g->t, lo, buf, hi - lo, NULL) == 0) {
		for (size_t i = 0; i < (hi - lo) / 8 && !cc; i++) {
			uint64_t p = buf[i], pw;
			if (!p || (p & 7) || !(pw = gs_grpc_get(g, p, CC_PW)) || (pw & 7))
				continue;
			uint64_t ch = blocking_chan(g, pw);
			for (size_t k = 0; ch && k < nw && !cc; k++)
				if (w[k].addr == ch)
					cc = p;
		}
	}
	free(buf);
	if (!cc)
		return false;
	out->addr = cc;
	read_clientconn(g, cc, out);
	return true;
}

/* ClientConns behind the client transports: the itab word of a transport found in the heap
 * sits in its holder, and when that holder is an addrConn (its `transport` field), the
 * addrConn's cc is the ClientConn. Validated by the ClientConn's conns set holding it. */
typedef struct has_ac {
	gs_grpc *g;
	uint64_t ac;
	bool found;
} has_ac;

static int find_ac(void *ctx, uint64_t key, uint64_t val)
{
	(void)val;
	has_ac *h = ctx;
	uint64_t ac = 0;
	gs_target_read_u64(h->g->t, key, &ac, NULL);
	if (ac == h->ac)
		h->found = true;
	return h->found;
}

void gs_grpc_read_clientconns(gs_grpc *g, const uint64_t *holders, size_t n)
{
	int64_t ato = g->l.offsets[AC_TRANSPORT], cco = g->l.offsets[AC_CC];
	const gs_dtype *cct = gs_dwarf_type(g->d, "google.golang.org/grpc.ClientConn", NULL);
	const gs_dmember *cm = cct ? gs_dwarf_member(gs_dwarf_resolve(cct), "conns") : NULL;
	gs_map_layout ml;
	if (ato < 0 || cco < 0 || !cm || gs_map_layout_resolve(g->d, cm->type, &ml, NULL) < 0)
		return;
	for (size_t i = 0; i < n && g->ncc < GS_MAX_CLIENTCONNS; i++) {
		if (holders[i] < (uint64_t)ato)
			continue;
		uint64_t ac = holders[i] - (uint64_t)ato, cc = 0;
		if (gs_layout_read(&g->l, AC_CC, g->t, ac, 0, &cc) < 0 || !cc || (cc & 7))
			continue;
		bool seen = false;
		for (size_t k = 0; k < g->ncc && !seen; k++)
			seen = g->cc[k].addr == cc;
		if (seen)
			continue;
		has_ac h = {g, ac, false};
		if (gs_map_walk(g->t, &ml, gs_grpc_get(g, cc, CC_CONNS), find_ac, &h, NULL) < 0 || !h.found)
			continue;
		gs_cc_info *v = gs_reallocarray(g->cc, g->ncc + 1, sizeof *g->cc, NULL);
		if (!v) {
			g->nomem = true;
			return;
		}
		g->cc = v;
		read_clientconn(g, cc, &g->cc[g->ncc]);
		g->cc[g->ncc++].addr = cc;
	}
}

size_t gs_grpc_nclientconns(const gs_grpc *g)
{
	return g->ncc;
}

const gs_cc_info *gs_grpc_clientconn(const gs_grpc *g, size_t i)
{
	return &g->cc[i];
}
