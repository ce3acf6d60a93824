#include "grpc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "discover.h"
#include "plausible_transport.h"

#define MAX_CBUF_ITEMS 100000

int gs_grpc_read(gs_grpc *g, uint64_t base, int64_t off, void *dst, size_t n)
{
	if (!base || off < 0)
		return -1;
	uint64_t a = base + (uint64_t)off;
	if (gs_run_read(&g->ov, a, dst, n))
		return 0;
	gs_err e;
	if (gs_target_read(g->t, a, dst, n, &e) == 0)
		return 0;
	memset(dst, 0, n);
	if (!g->bad)
		g->bad = e.read_at;
	return -1;
}

/* gs_grpc_get for a field narrower than a word. */
static __attribute__((noinline)) uint64_t get_narrow(gs_grpc *g, uint64_t base, int field)
{
	uint64_t v = 0;
	int64_t off = g->l.offsets[field];
	unsigned w = g->l.widths[field];
	if (!w || gs_grpc_read(g, base, off, &v, w) < 0)
		return 0;
	return gs_layout_get(&g->l, field, (const uint8_t *)&v, w, -off);
}

uint64_t gs_grpc_get(gs_grpc *g, uint64_t base, int field)
{
	uint64_t v = 0;
	if (!base || g->l.offsets[field] < 0)
		return 0;
	if (g->l.widths[field] != 8)
		return get_narrow(g, base, field);
	gs_grpc_read(g, base, g->l.offsets[field], &v, 8);
	return v;
}

int gs_grpc_field(gs_grpc *g, uint64_t base, int field, uint64_t *v)
{
	int64_t off = g->l.offsets[field];
	unsigned w = g->l.widths[field];
	uint64_t x = 0;
	*v = 0;
	if (off < 0 || !w || gs_grpc_read(g, base, off, &x, w) < 0)
		return -1;
	*v = w == 8 ? x : gs_layout_get(&g->l, field, (const uint8_t *)&x, w, -off);
	return 0;
}

uint64_t gs_grpc_get2(gs_grpc *g, uint64_t base, int a, int b)
{
	return gs_grpc_get(g, base, g->l.offsets[a] >= 0 ? a : b);
}

int64_t gs_grpc_state(gs_grpc *g, enum gs_const_id first, int n, int64_t raw)
{
	return gs_consts_canon(gs_rt_consts(g->rt), first, n, NULL, n, raw);
}

/* The DWARF type of a struct member, or NULL. */
static const gs_dtype *member_type(gs_dwarf *d, const char *type, const char *member)
{
	const gs_dtype *t = gs_dwarf_type(d, type, NULL);
	const gs_dmember *m = t ? gs_dwarf_member(gs_dwarf_resolve(t), member) : NULL;
	return m ? m->type : NULL;
}

static bool map_layout(gs_dwarf *d, const char *type, const char *member, gs_map_layout *out)
{
	const gs_dtype *t = member_type(d, type, member);
	return t && gs_map_layout_resolve(d, t, out, NULL) == 0;
}

static void read_loopy_and_cbuf(gs_grpc *g, gs_transport *tr, uint64_t loopy, uint64_t cb)
{
	if (loopy) {
		uint64_t before = g->bad;
		g->bad = 0;
		tr->send_quota = gs_grpc_get(g, loopy, LW_SENDQUOTA);
		tr->oiws = gs_grpc_get(g, loopy, LW_OIWS);
		tr->draining_loopy = gs_grpc_get(g, loopy, LW_DRAINING) != 0;
		tr->loopy_known = g->bad == 0; /* an unread quota is not a zero quota */
		g->bad = before;
	}
	if (!cb)
		return;
	tr->cbuf_chan = gs_grpc_get(g, cb, CB_CH);
	tr->consumer_waiting = gs_grpc_get(g, cb, CB_CONSUMERWAITING) != 0;
	tr->cbuf_response_frames = (int64_t)gs_grpc_get(g, cb, CB_TRF);
	/* trfChan: atomic.Value (1.33, 1.64) or atomic.Pointer (1.81): non-nil data = throttled.
	 * Word 0 of atomic.Value is the type, word 1 the data; atomic.Pointer has one word. */
	int64_t to = g->l.offsets[CB_TRFCHAN];
	if (to >= 0) {
		uint64_t w[2] = {0};
		size_t n = g->l.kinds[CB_TRFCHAN] == GS_FK_IFACE ? 16 : 8; /* else a pointer */
		gs_grpc_read(g, cb, to, w, n);
		uint64_t data = n == 16 ? w[1] : w[0];
		tr->throttled = data != 0;
		/* The reader waits on the channel itself: atomic.Pointer (1.81) and atomic.Value
		 * holding a *chan struct{} (1.33) point to the channel variable; an atomic.Value
		 * holding the chan struct{} (1.64) holds the channel. */
		int kind = 0;
		bool direct = false;
		bool ptr = n == 8 || (data && gs_type_kind(g->ty, w[0], &kind, &direct, NULL) == 0 &&
				      kind == gs_const(gs_rt_consts(g->rt), GS_K_KIND_PTR));
		if (ptr && data && gs_target_read_u64(g->t, data, &data, NULL) < 0)
			data = 0;
		tr->trf_chan = data;
	}
	uint64_t list = gs_grpc_get(g, cb, CB_LIST);
	uint64_t node = gs_grpc_get(g, list, IL_HEAD);
	uint64_t k = 0;
	for (; node && k < MAX_CBUF_ITEMS; k++)
		node = gs_grpc_get(g, node, IN_NEXT);
	tr->cbuf_items = k;
}

static void read_conn_window(gs_grpc *g, gs_transport *tr, uint64_t fc)
{
	if (!fc)
		return;
	uint64_t before = g->bad;
	g->bad = 0;
	tr->conn_in_limit = gs_grpc_get(g, fc, TF_LIMIT);
	tr->conn_in_unacked = gs_grpc_get(g, fc, TF_UNACKED);
	tr->conn_in_known = g->bad == 0;
	g->bad = before;
}

/* What a verdict on this transport rests on and could not be read: said, never guessed. */
static void note_unreadable(gs_grpc *g, gs_transport *tr)
{
	tr->unreadable = g->bad;
	if (g->bad && !tr->problem[0])
		snprintf(tr->problem, sizeof tr->problem, "unreadable at 0x%llx",
			 (unsigned long long)g->bad);
	g->bad = 0;
}

static void read_client(gs_grpc *g, gs_transport *tr)
{
	uint64_t a = tr->addr;
	const int64_t *o = g->l.offsets;
	tr->side = GS_CLIENT;
	gs_grpc_read_conn(g, tr, a + (uint64_t)o[GC_CONN],
			  o[GC_LOCALADDR] >= 0 ? a + (uint64_t)o[GC_LOCALADDR] : 0,
			  o[GC_REMOTEADDR] >= 0 ? a + (uint64_t)o[GC_REMOTEADDR] : 0);
	g->bad = 0; /* from here on, what the verdicts rest on */
	tr->state = gs_grpc_state(g, GS_K_TR_REACHABLE, GS_TR_NSTATES,
				  (int64_t)gs_grpc_get(g, a, GC_STATE));
	tr->goaway_reason = (uint32_t)gs_grpc_state(g, GS_K_GOAWAY_INVALID, GS_GOAWAY_NREASONS,
						    (int64_t)gs_grpc_get(g, a, GC_GOAWAY_REASON));
	tr->goaway_last_id = gs_grpc_get(g, a, GC_PREV_GOAWAY_ID);
	tr->goaway_code = -1;
	if (o[GC_GOAWAY_CODE] >= 0)
		tr->goaway_code = gs_grpc_get(g, a, GC_GOAWAY_CODE);
	if (o[GC_GOAWAY_DEBUG] >= 0)
		gs_rt_read_string(g->rt, a + (uint64_t)o[GC_GOAWAY_DEBUG], tr->goaway_debug,
				  sizeof tr->goaway_debug, NULL);
	tr->goaway_chan = gs_grpc_get(g, a, GC_GOAWAY);
	gs_chan ch;
	if (tr->goaway_chan) {
		if (gs_rt_read_chan(g->rt, tr->goaway_chan, &ch, NULL) == 0)
			tr->goaway_received = ch.closed;
		else if (!g->bad)
			g->bad = tr->goaway_chan;
	}
	tr->max_concurrent = gs_grpc_get(g, a, GC_MAX_CONCURRENT);
	tr->stream_quota = (int64_t)gs_grpc_get(g, a, GC_STREAM_QUOTA);
	tr->waiting_streams = gs_grpc_get(g, a, GC_WAITING_STREAMS);
	tr->next_id = gs_grpc_get(g, a, GC_NEXTID);
	tr->ctx_done_chan = gs_grpc_get(g, a, GC_CTXDONE);
	tr->quota_chan = gs_grpc_get(g, a, GC_QUOTA_AVAILABLE);
	tr->reader_done = gs_grpc_get(g, a, GC_READERDONE);
	tr->writer_done = gs_grpc_get(g, a, GC_WRITERDONE);
	tr->keepalive_enabled = gs_grpc_get(g, a, GC_KEEPALIVE_ENABLED) != 0;
	read_conn_window(g, tr, gs_grpc_get(g, a, GC_FC));
	read_loopy_and_cbuf(g, tr, gs_grpc_get(g, a, GC_LOOPY), gs_grpc_get(g, a, GC_CONTROLBUF));
	note_unreadable(g, tr);
	gs_grpc_read_keepalive(g, tr);
}

static void read_server(gs_grpc *g, gs_transport *tr)
{
	uint64_t a = tr->addr;
	const int64_t *o = g->l.offsets;
	tr->side = GS_SERVER;
	/* 1.33 caches remoteAddr/localAddr; 1.64+ keeps them in peer (peer.Peer by value). */
	uint64_t la = 0, ra = 0;
	if (o[GS_LOCALADDR] >= 0)
		la = a + (uint64_t)o[GS_LOCALADDR];
	else if (o[GS_PEER] >= 0 && o[PEER_LOCALADDR] >= 0)
		la = a + (uint64_t)(o[GS_PEER] + o[PEER_LOCALADDR]);
	if (o[GS_REMOTEADDR] >= 0)
		ra = a + (uint64_t)o[GS_REMOTEADDR];
	else if (o[GS_PEER] >= 0 && o[PEER_ADDR] >= 0)
		ra = a + (uint64_t)(o[GS_PEER] + o[PEER_ADDR]);
	gs_grpc_read_conn(g, tr, a + (uint64_t)o[GS_CONN], la, ra);
	g->bad = 0; /* from here on, what the verdicts rest on */
	tr->state = gs_grpc_state(g, GS_K_TR_REACHABLE, GS_TR_NSTATES,
				  (int64_t)gs_grpc_get(g, a, GS_STATE));
	/* A GOAWAY was sent once Drain set drainChan (1.33) or drainEvent (1.64+). */
	tr->goaway_sent = gs_grpc_get(g, a, GS_DRAINCHAN) || gs_grpc_get(g, a, GS_DRAINEVENT);
	tr->max_concurrent = gs_grpc_get(g, a, GS_MAXSTREAMS);
	tr->max_stream_id = gs_grpc_get(g, a, GS_MAXSTREAMID);
	tr->goaway_code = -1;
	tr->ctx_done_chan = gs_grpc_get(g, a, GS_DONE);
	tr->reader_done = gs_grpc_get(g, a, GS_READERDONE);
	read_conn_window(g, tr, gs_grpc_get(g, a, GS_FC));
	read_loopy_and_cbuf(g, tr, gs_grpc_get(g, a, GS_LOOPY), gs_grpc_get(g, a, GS_CONTROLBUF));
	note_unreadable(g, tr);
	gs_grpc_read_keepalive(g, tr);
}

gs_grpc *gs_grpc_begin(gs_rt *rt)
{
	gs_grpc *g = calloc(1, sizeof *g);
	if (!g) /* gs_grpc_finish says so */
		return NULL;
	g->rt = rt;
	g->t = gs_rt_target(rt);
	g->d = gs_rt_dwarf(rt);
	gs_err le = {0};
	if (gs_layout_resolve(&g->l, gs_grpc_fields, GRPC_NFIELDS, g->d, &le) < 0 &&
	    le.code == GS_EINTERNAL) { /* out of memory: nothing more is read */
		g->nomem = true;
		return g;
	}
	gs_grpc_check_keepalive_layout(g);
	g->ty = gs_types_open(g->t, g->d, gs_rt_bias(rt), gs_rt_consts(rt), NULL);
	if (!g->ty)
		return g; /* no module data: nothing gRPC can be found, but goroutines still work */
	/* by pointer (1.33, 1.64) or embedded (1.81): the manifest's kind, as resolved */
	g->buf_ptr = g->l.kinds[ST_BUF] == GS_FK_PTR;
	g->fc_ptr = g->l.kinds[ST_FC] == GS_FK_PTR;
	g->wq_ptr = g->l.kinds[ST_WQ] == GS_FK_PTR;
	g->have_client_map = map_layout(g->d, TP "http2Client", "activeStreams", &g->client_map);
	g->have_server_map = map_layout(g->d, TP "http2Server", "activeStreams", &g->server_map);
	g->have_estd_map = map_layout(g->d, TP "loopyWriter", "estdStreams", &g->estd_map);
	g->scan = gs_find_transports_start(rt, g->ty, &g->l);
	g->nomem |= !g->scan;
	return g;
}

int gs_grpc_alloc_check(const gs_grpc *g, gs_err *err)
{
	if (g->nomem)
		return gs_errf(err, GS_EINTERNAL, "reading gRPC: out of memory");
	return 0;
}

gs_grpc *gs_grpc_finish(gs_grpc *g, gs_err *err)
{
	if (!g) {
		gs_err_nomem(err, sizeof(gs_grpc));
		return NULL;
	}
	if (g->nomem) {
		gs_grpc_alloc_check(g, err);
		gs_grpc_close(g);
		return NULL;
	}
	if (!g->scan)
		return g;
	gs_found_transports f;
	int rc = gs_find_transports_finish(g->scan, &f, err);
	g->scan = NULL;
	if (rc < 0) {
		gs_grpc_close(g);
		return NULL;
	}
	g->ntr = f.nclient + f.nserver;
	g->tr = gs_calloc(g->ntr ? g->ntr : 1, sizeof *g->tr, err);
	if (!g->tr) {
		g->ntr = 0;
		gs_found_transports_free(&f);
		gs_grpc_close(g);
		return NULL;
	}
	for (size_t i = 0; i < g->ntr; i++) {
		gs_transport *tr = &g->tr[i];
		tr->addr = i < f.nclient ? f.client[i] : f.server[i - f.nclient];
		if (i < f.nclient)
			read_client(g, tr);
		else
			read_server(g, tr);
		gs_grpc_read_streams(g, i);
		gs_transport_check(tr);
	}
	gs_grpc_read_snapshot_time(g);
	gs_grpc_read_clientconns(g, f.client_holders, f.nclient_holders);
	memcpy(g->unreadable_tr, f.unreadable, f.nunreadable * sizeof *f.unreadable);
	g->nunreadable_tr = f.nunreadable;
	gs_found_transports_free(&f);
	gs_grpc_build_owners(g);
	if (gs_grpc_alloc_check(g, err) < 0) {
		gs_grpc_close(g);
		return NULL;
	}
	return g;
}

gs_grpc *gs_grpc_open(gs_rt *rt, gs_err *err)
{
	return gs_grpc_finish(gs_grpc_begin(rt), err);
}

void gs_grpc_link(gs_grpc *g)
{
	if (g->linked)
		return;
	g->linked = true;
	gs_grpc_find_handlers(g);
	gs_grpc_find_detached_clients(g);
	gs_grpc_regroup_streams(g);
	gs_grpc_build_owners(g);
	gs_grpc_attach_goroutines(g);
	gs_grpc_load_details(g);
	gs_grpc_load_contexts(g);
}

void gs_grpc_close(gs_grpc *g)
{
	if (!g)
		return;
	if (g->scan) { /* begun, never finished: the worker must be joined */
		gs_found_transports f;
		gs_find_transports_finish(g->scan, &f, NULL);
		gs_found_transports_free(&f);
	}
	for (size_t i = 0; i < g->nst; i++)
		free(g->st[i].goroutines);
	free(g->ctx_scratch);
	for (size_t i = 0; i < g->ntr; i++)
		free(g->tr[i].goroutines);
	free(g->st);
	free(g->tr);
	free(g->own);
	free(g->cc);
	gs_strpool_free(&g->strings);
	if (g->ty)
		gs_types_close(g->ty);
	gs_layout_free(&g->l);
	free(g);
}

size_t gs_grpc_ntransports(const gs_grpc *g) { return g->ntr; }
const gs_transport *gs_grpc_transport(const gs_grpc *g, size_t i) { return &g->tr[i]; }
size_t gs_grpc_nstreams(const gs_grpc *g) { return g->nst; }
size_t gs_grpc_unreadable_transports(const gs_grpc *g, const gs_unreadable_transport **v)
{
	*v = g->unreadable_tr;
	return g->nunreadable_tr;
}
const gs_stream *gs_grpc_stream(const gs_grpc *g, size_t i) { return &g->st[i]; }
const gs_layout *gs_grpc_layout(const gs_grpc *g) { return &g->l; }
