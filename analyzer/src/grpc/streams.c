/* Streams of one transport: activeStreams, and the loopy writer's outStream for each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/radix.h"
#include "../util/alloc.h"
#include "grpc_internal.h"
#include "plausible_transport.h"

#define MAX_ITL 100000

typedef struct collect {
	gs_grpc *g;
	uint64_t *v;
	size_t n;
	bool nomem;
} collect;

/* The pool's copy of s; "" when out of memory (the model is then failed). */
static const char *intern(gs_grpc *g, const char *s)
{
	const char *c = gs_strpool_intern(&g->strings, s);
	g->nomem |= !c;
	return c ? c : "";
}

static int collect_ptr(void *ctx, uint64_t key, uint64_t val)
{
	(void)key;
	collect *c = ctx;
	uint64_t p = 0;
	if (gs_target_read_u64(c->g->t, val, &p, NULL) == 0 && p) {
		if ((c->n & 255) == 0) {
			uint64_t *v = gs_reallocarray(c->v, c->n + 256, sizeof *v, NULL);
			if (!v) {
				c->nomem = true;
				return 1; /* stops the walk */
			}
			c->v = v;
		}
		c->v[c->n++] = p;
	}
	return 0;
}

static uint64_t embedded_or_ptr(gs_grpc *g, uint64_t base, int field, bool ptr)
{
	int64_t off = g->l.offsets[field];
	if (off < 0)
		return 0;
	return ptr ? gs_grpc_get(g, base, field) : base + (uint64_t)off;
}

/* The recvBufferReader of a stream: behind two interfaces in 1.33/1.64, by value in 1.81. */
static uint64_t recv_buffer_reader(gs_grpc *g, uint64_t s)
{
	int64_t tro = g->l.offsets[ST_TRREADER], ro = g->l.offsets[TR_READER];
	if (tro < 0 || ro < 0)
		return 0;
	if (!g->buf_ptr) /* 1.81: everything embedded */
		return s + (uint64_t)tro + (uint64_t)ro;
	gs_iface a, b;
	if (gs_iface_read(g->ty, s + (uint64_t)tro, false, &a, NULL) < 0 || !a.data ||
	    gs_iface_read(g->ty, a.data + (uint64_t)ro, false, &b, NULL) < 0)
		return 0;
	return b.data;
}

/* What naming a wait object's owner needs: the stream's id and the channels it owns. */
/* A stream whose own state could not be read gets a problem naming the address, and its
 * verdicts say unknown rather than reading zeros as facts. */
static void note_unreadable(gs_grpc *g, gs_stream *st)
{
	if (g->bad && !st->unreadable) {
		char msg[96];
		st->unreadable = g->bad;
		snprintf(msg, sizeof msg, "unreadable at 0x%llx", (unsigned long long)g->bad);
		if (!st->problem[0])
			st->problem = intern(g, msg);
	}
	g->bad = 0;
}

static void read_stream(gs_grpc *g, gs_stream *st)
{
	uint64_t p = st->addr;
	g->bad = 0;
	st->id = gs_grpc_get(g, p, ST_ID);
	st->state = (uint32_t)gs_grpc_state(g, GS_K_STREAM_ACTIVE, GS_STREAM_NSTATES,
					      gs_grpc_get(g, p, ST_STATE));
	uint64_t rb = embedded_or_ptr(g, p, ST_BUF, g->buf_ptr);
	if (rb)
		st->recv_chan = gs_grpc_get(g, rb, RB_C);
	else
		st->problem = "recv buffer unreadable";
	uint64_t wq = embedded_or_ptr(g, p, ST_WQ, g->wq_ptr);
	if (wq) {
		st->wq_addr = wq;
		st->wq_chan = gs_grpc_get(g, wq, WQ_CH);
	}
	if (st->side == GS_CLIENT) {
		st->done_chan = gs_grpc_get2(g, p, ST_DONE, CS_DONE);
		st->header_chan = gs_grpc_get2(g, p, ST_HEADERCHAN, CS_HEADERCHAN);
		uint64_t rbr = recv_buffer_reader(g, p);
		if (rbr)
			st->ctx_done_chan = gs_grpc_get(g, rbr, RBR_CTXDONE);
	} else {
		st->ctx_done_chan = gs_grpc_get2(g, p, ST_CTXDONE, SS_CTXDONE);
	}
	note_unreadable(g, st);
}

/* The rest, read when a command shows streams: method, what is queued, the windows. */
static void read_details(gs_grpc *g, gs_stream *st)
{
	uint64_t p = st->addr;
	g->bad = 0;
	char text[160];
	if (g->l.offsets[ST_METHOD] >= 0) {
		/* A gRPC method is "/service/method": anything else is damaged memory. */
		if (gs_rt_read_string(g->rt, p + (uint64_t)g->l.offsets[ST_METHOD], text,
				      sizeof text, NULL) == 0 && text[0] == '/')
			st->method = intern(g, text);
		else if (!st->problem[0])
			st->problem = "method unreadable or implausible (damaged memory?)";
	}
	uint64_t rb = embedded_or_ptr(g, p, ST_BUF, g->buf_ptr);
	if (rb) {
		gs_chan ch;
		if (st->recv_chan) {
			if (gs_rt_read_chan(g->rt, st->recv_chan, &ch, NULL) == 0)
				st->queued_messages = ch.qcount;
			else if (!g->bad)
				g->bad = st->recv_chan; /* "nothing queued" would be a guess */
		}
		int64_t bo = g->l.offsets[RB_BACKLOG];
		uint64_t blen = 0;
		if (bo >= 0 && gs_grpc_read(g, rb, bo + 8, &blen, 8) == 0 && blen < (1u << 30))
			st->queued_messages += blen;
		st->recv_err = gs_grpc_get(g, rb, RB_ERR) != 0;
	}
	uint64_t fc = embedded_or_ptr(g, p, ST_FC, g->fc_ptr);
	if (fc) {
		uint64_t before = g->bad;
		st->in.limit = gs_grpc_get(g, fc, IF_LIMIT);
		st->in.pending_data = gs_grpc_get(g, fc, IF_PENDINGDATA);
		st->in.pending_update = gs_grpc_get(g, fc, IF_PENDINGUPDATE);
		st->in.delta = gs_grpc_get(g, fc, IF_DELTA);
		st->in.known = g->bad == before;
	}
	if (st->wq_addr) {
		uint64_t before = g->bad;
		st->wq_done = gs_grpc_get(g, st->wq_addr, WQ_DONE);
		st->wq_quota = (int32_t)gs_grpc_get(g, st->wq_addr, WQ_QUOTA);
		st->wq_known = g->bad == before;
	}
	if (st->side == GS_CLIENT) {
		st->header_received = gs_grpc_get2(g, p, ST_HEADERCHANCLOSED, CS_HEADERCHANCLOSED) != 0;
		/* status.Status{s *spb.Status{Code, Message}}, set once the stream ended. */
		uint64_t sp = gs_grpc_get2(g, p, ST_STATUS, CS_STATUS), pb = 0;
		if (sp &&
		    (pb = gs_grpc_get(g, sp, STS_S)) != 0) {
			st->has_status = true;
			st->status_code = (int32_t)gs_grpc_get(g, pb, SPB_CODE);
			if (g->l.offsets[SPB_MESSAGE] >= 0 &&
			    gs_rt_read_string(g->rt, pb + (uint64_t)g->l.offsets[SPB_MESSAGE],
					      text, sizeof text, NULL) == 0)
				st->status_message = intern(g, text);
		}
	} else {
		st->header_sent = gs_grpc_get2(g, p, ST_HEADERSENT, SS_HEADERSENT) != 0;
	}
	note_unreadable(g, st);
}

/* The stream's context (what ctx.Err() and ctx.Deadline() say), read on demand: walking tens
 * of thousands of context chains is wasted on commands that do not show them. */
static void read_context(gs_grpc *g, gs_stream *st)
{
	if (g->l.offsets[ST_CTX] < 0)
		return;
	if (!g->ctx_scratch && !(g->ctx_scratch = calloc(1, sizeof *g->ctx_scratch))) {
		g->nomem = true;
		return;
	}
	gs_ctx_info *ci = g->ctx_scratch;
	if (gs_ctx_read(g->t, g->d, gs_rt_layout(g->rt), g->ty, gs_rt_bias(g->rt),
			st->addr + (uint64_t)g->l.offsets[ST_CTX], ci, NULL) == 0) {
		st->ctx_known = true;
		st->ctx.done = ci->done;
		st->ctx.has_deadline = ci->has_deadline;
		st->ctx.deadline_unix_ns = ci->deadline_unix_ns;
		st->ctx.err = intern(g, ci->err);
	} else if (!st->problem[0]) {
		st->problem = "context unreadable";
	}
}

void gs_grpc_load_contexts(gs_grpc *g)
{
	if (g->contexts_loaded)
		return;
	g->contexts_loaded = true;
	for (size_t i = 0; i < g->nst; i++)
		read_context(g, &g->st[i]);
	gs_grpc_find_abandoned(g);
}

static void read_outstream(gs_grpc *g, uint64_t os, gs_outstream *out)
{
	out->known = true;
	out->addr = os;
	out->id = gs_grpc_get(g, os, OS_ID);
	out->state = gs_grpc_state(g, GS_K_OS_ACTIVE, GS_OS_NSTATES,
				   (int64_t)gs_grpc_get(g, os, OS_STATE));
	out->bytes_outstanding = (int64_t)gs_grpc_get(g, os, OS_BYTESOUTSTANDING);
	uint64_t node = gs_grpc_get(g, gs_grpc_get(g, os, OS_ITL), IL_HEAD), k = 0;
	for (; node && k < MAX_ITL; k++)
		node = gs_grpc_get(g, node, IN_NEXT);
	out->queued_items = k;
}

typedef struct wq_index {
	uint64_t wq; /* first: compared by cmp_addr */
	size_t index;
} wq_index;

static int cmp_addr(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

size_t gs_grpc_add_stream(gs_grpc *g, uint64_t addr, size_t ti, bool detached)
{
	if (g->nst == g->capst) {
		gs_stream *v = gs_reallocarray(g->st, g->capst ? g->capst * 2 : 64, sizeof *v, NULL);
		if (!v) {
			g->nomem = true;
			return SIZE_MAX;
		}
		g->st = v;
		g->capst = g->capst ? g->capst * 2 : 64;
	}
	gs_stream *st = &g->st[g->nst];
	memset(st, 0, sizeof *st);
	st->method = "?";
	st->status_message = st->ctx.err = st->problem = "";
	st->addr = addr;
	st->transport = ti;
	st->side = g->tr[ti].side;
	st->detached = detached;
	read_stream(g, st);
	/* A damaged stream is named on its transport, never listed with its garbage. */
	char why[120];
	if (gs_stream_implausible(st, why, sizeof why)) {
		gs_transport *tr = &g->tr[ti];
		if (!tr->unreadable)
			tr->unreadable = addr;
		if (!tr->problem[0])
			snprintf(tr->problem, sizeof tr->problem, "stream at 0x%llx implausible "
				 "(damaged memory?): %.90s", (unsigned long long)addr, why);
		return SIZE_MAX;
	}
	return g->nst++;
}

static int cmp_transport(const void *a, const void *b)
{
	const gs_stream *x = a, *y = b;
	if (x->transport != y->transport)
		return x->transport < y->transport ? -1 : 1;
	if (x->detached != y->detached)
		return x->detached ? 1 : -1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void gs_grpc_regroup_streams(gs_grpc *g)
{
	if (g->nst)
		qsort(g->st, g->nst, sizeof *g->st, cmp_transport);
	for (size_t i = 0; i < g->ntr; i++)
		g->tr[i].nstreams = 0;
	for (size_t i = g->nst; i-- > 0;) {
		gs_transport *t = &g->tr[g->st[i].transport];
		t->first_stream = i;
		t->nstreams++;
	}
}

#define RUN_MAX ((uint64_t)64 << 10)
#define RUN_GAP ((uint64_t)4 << 10)

/* The largest stream object the layout knows (Stream; ClientStream and ServerStream in
 * 1.81): a run copied for its streams covers the last one whole. 0 when unknown. */
static uint64_t stream_size(const gs_grpc *g)
{
	const int fields[] = {ST_ID, CS_DONE, SS_CTXDONE};
	uint64_t m = 0;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (g->l.offsets[fields[i]] >= 0 && g->l.sizes[fields[i]] > m)
			m = g->l.sizes[fields[i]];
	return m <= 4096 ? m : 0;
}

void gs_grpc_read_streams(gs_grpc *g, size_t ti)
{
	gs_transport *tr = &g->tr[ti];
	bool server = tr->side == GS_SERVER;
	const gs_map_layout *ml = server ? &g->server_map : &g->client_map;
	bool have = server ? g->have_server_map : g->have_client_map;
	tr->first_stream = g->nst;
	if (!have)
		return;
	uint64_t mp = 0;
	if (gs_layout_read(&g->l, server ? GS_ACTIVE_STREAMS : GC_ACTIVE_STREAMS, g->t, tr->addr, 0,
			   &mp) < 0)
		return;
	collect c = {g, NULL, 0, false};
	gs_err e;
	if (gs_map_walk(g->t, ml, mp, collect_ptr, &c, &e) < 0)
		snprintf(tr->problem, sizeof tr->problem, "activeStreams: %.140s", e.msg);
	g->nomem |= c.nomem;
	if (c.n) {
		uint64_t *tmp = malloc(c.n * sizeof *tmp);
		if (tmp)
			gs_radix_sort(c.v, c.n, sizeof *c.v, 0, tmp);
		else /* out of memory: sorted in place */
			qsort(c.v, c.n, sizeof *c.v, cmp_addr);
		free(tmp);
	}
	/* Streams of one transport lie close together: each run of neighbours is copied with
	 * one read and its streams' fields are taken from the copy. */
	uint64_t osize = stream_size(g);
	uint8_t *run = osize ? malloc(RUN_MAX + osize) : NULL; /* NULL: one by one */
	for (size_t a = 0, b; a < c.n; a = b) {
		b = run ? gs_run_end(c.v, sizeof *c.v, c.n, a, osize, RUN_GAP, RUN_MAX) : a + 1;
		uint64_t lo = c.v[a], len = c.v[b - 1] - lo + osize;
		if (b - a > 1 && gs_target_read_bulk(g->t, lo, run, len, NULL) == 0)
			g->ov = (gs_run_copy){run, lo, lo + len};
		for (size_t i = a; i < b; i++)
			gs_grpc_add_stream(g, c.v[i], ti, false);
		g->ov = (gs_run_copy){0};
	}
	free(run);
	free(c.v);
	tr->nstreams = g->nst - tr->first_stream;
}

/* The loopy writer's outStreams of transport ti, joined to its streams by write quota. */
static void read_outstreams(gs_grpc *g, size_t ti)
{
	gs_transport *tr = &g->tr[ti];
	bool server = tr->side == GS_SERVER;
	uint64_t loopy = gs_grpc_get(g, tr->addr, server ? GS_LOOPY : GC_LOOPY);
	uint64_t estd = loopy ? gs_grpc_get(g, loopy, LW_ESTDSTREAMS) : 0;
	if (!estd || !g->have_estd_map)
		return;
	collect o = {g, NULL, 0, false};
	gs_map_walk(g->t, &g->estd_map, estd, collect_ptr, &o, NULL);
	wq_index *ix = calloc(tr->nstreams ? tr->nstreams : 1, sizeof *ix);
	if (!ix || o.nomem) {
		g->nomem = true;
		free(ix);
		free(o.v);
		return;
	}
	for (size_t k = 0; k < tr->nstreams; k++)
		ix[k] = (wq_index){g->st[tr->first_stream + k].wq_addr, tr->first_stream + k};
	if (tr->nstreams)
		qsort(ix, tr->nstreams, sizeof *ix, cmp_addr);
	for (size_t i = 0; i < o.n; i++) {
		wq_index key = {gs_grpc_get(g, o.v[i], OS_WQ), 0};
		wq_index *hit = key.wq && tr->nstreams ? bsearch(&key, ix, tr->nstreams, sizeof *ix, cmp_addr) : NULL;
		if (hit)
			read_outstream(g, o.v[i], &g->st[hit->index].out);
	}
	free(ix);
	free(o.v);
}

void gs_grpc_load_details(gs_grpc *g)
{
	if (g->details_loaded)
		return;
	g->details_loaded = true;
	for (size_t i = 0; i < g->nst; i++)
		read_details(g, &g->st[i]);
	for (size_t i = 0; i < g->ntr; i++)
		read_outstreams(g, i);
}
