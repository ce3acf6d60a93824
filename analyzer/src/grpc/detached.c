/* Client streams of a transport that is closing. http2Client.Close takes activeStreams away
 * (sets it to nil) before it tells the streams; until it has told them, a goroutine still
 * waits in the stream's receive. When Close is held up (a socket write or a Close of the
 * connection that does not return, a loopy writer not done), that state lasts, and without
 * these streams the waiting goroutine would be tied to nothing.
 *
 * Found from the waiting goroutine: a word of its stack that is the stream (its ct is the
 * closing transport) or grpc's clientStream (attempt, then the attempt's stream), accepted
 * only when the stream's receive channel is one the goroutine waits on.
 */
#include <stdlib.h>
#include <string.h>

#include "grpc_internal.h"

#define MAX_SCAN (1u << 20)

static bool in_client_receive(gs_grpc *g, gs_goroutine *gr)
{
	const gs_frame *top = gs_rt_user_frame(g->rt, gr);
	return top && (strstr(top->function, "transport.(*recvBufferReader).read") ||
		       strstr(top->function, "waitOnHeader"));
}

static long closing_transport(gs_grpc *g, uint64_t addr)
{
	for (size_t i = 0; i < g->ntr; i++)
		if (g->tr[i].addr == addr && g->tr[i].side == GS_CLIENT &&
		    g->tr[i].state == GS_TR_CLOSING)
			return (long)i;
	return -1;
}

static bool waits_on(gs_grpc *g, gs_goroutine *gr, uint64_t ch)
{
	size_t nw;
	const gs_waitobj *w = gs_rt_waits(g->rt, gr, &nw);
	for (size_t k = 0; ch && k < nw; k++)
		if (w[k].addr == ch)
			return true;
	return false;
}

static bool known_stream(const gs_grpc *g, uint64_t addr)
{
	for (size_t k = 0; k < g->nst; k++)
		if (g->st[k].addr == addr)
			return true;
	return false;
}

/* Adds the stream at s when it belongs to a closing client transport and gr waits on its
 * receive channel. */
static bool try_stream(gs_grpc *g, gs_goroutine *gr, uint64_t s, int ctf)
{
	uint64_t ct = 0;
	if (!s || (s & 7) || gs_layout_read(&g->l, ctf, g->t, s, 0, &ct) < 0)
		return false;
	long ti = closing_transport(g, ct);
	if (ti < 0 || known_stream(g, s))
		return false;
	size_t si = gs_grpc_add_stream(g, s, (size_t)ti, true);
	if (si == SIZE_MAX)
		return false;
	if (!waits_on(g, gr, g->st[si].recv_chan)) {
		g->nst--; /* not this goroutine's stream: taken back */
		return false;
	}
	return true;
}

static size_t find(gs_grpc *g);

void gs_grpc_find_detached_clients(gs_grpc *g)
{
	find(g);
}

void gs_grpc_find_dropped(gs_grpc *g)
{
	if (!g || g->linked || !find(g))
		return;
	gs_grpc_regroup_streams(g);
	gs_grpc_build_owners(g);
}

/* The number of streams added. */
static size_t find(gs_grpc *g)
{
	size_t added = 0;
	int ctf = gs_layout_has(&g->l, ST_CT) ? ST_CT : CS_CT; /* CS_CT: 1.81 */
	bool chain = gs_layout_has(&g->l, CLS_ATTEMPT) && gs_layout_has(&g->l, CSA_S);
	bool any = false;
	for (size_t i = 0; i < g->ntr; i++)
		any |= g->tr[i].side == GS_CLIENT && g->tr[i].state == GS_TR_CLOSING;
	if (!any || !gs_layout_has(&g->l, ctf))
		return 0;
	uint64_t *buf = NULL;
	for (size_t i = 0; i < gs_rt_ngoroutines(g->rt); i++) {
		gs_goroutine *gr = gs_rt_goroutine(g->rt, i);
		if (gr->status != GS_G_WAITING || !in_client_receive(g, gr))
			continue;
		size_t nw;
		const gs_waitobj *w = gs_rt_waits(g->rt, gr, &nw);
		bool owned = false;
		for (size_t k = 0; k < nw && !owned; k++) {
			long s, t;
			gs_owner_role role;
			owned = gs_grpc_owner_of(g, w[k].addr, &s, &t, &role) && s >= 0;
		}
		uint64_t top = gr->stack_hi, sp = gr->sched_sp;
		if (owned || !sp || top <= sp || top - sp > MAX_SCAN)
			continue;
		if (!buf && !(buf = malloc(MAX_SCAN))) {
			g->nomem = true;
			break;
		}
		if (gs_target_read_bulk(g->t, sp, buf, top - sp, NULL) < 0)
			continue;
		bool found = false;
		for (size_t k = 0; k < (top - sp) / 8 && !found; k++) {
			uint64_t p = buf[k], a = 0, s = 0;
			if (!p || (p & 7))
				continue;
			found = try_stream(g, gr, p, ctf);
			if (found || !chain)
				continue;
			/* grpc.clientStream -> its current csAttempt -> the transport stream */
			if (gs_layout_read(&g->l, CLS_ATTEMPT, g->t, p, 0, &a) == 0 && a && !(a & 7) &&
			    gs_layout_read(&g->l, CSA_S, g->t, a, 0, &s) == 0)
				found = try_stream(g, gr, s, ctf);
		}
		added += found;
	}
	free(buf);
	return added;
}
