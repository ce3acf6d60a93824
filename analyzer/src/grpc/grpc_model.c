#include "grpc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (gs_target_read(g->t, a, dst, n, NULL) == 0)
		return 0;
	memset(dst, 0, n);
	if (!g->bad)
		g->bad = base + (uint64_t)off;
	return -1;
}

uint64_t gs_grpc_u64(gs_grpc *g, uint64_t base, int field)
{
	uint64_t v = 0;
	if (base && g->l.offsets[field] >= 0)
		gs_grpc_read(g, base, g->l.offsets[field], &v, 8);
	return v;
}

uint32_t gs_grpc_u32(gs_grpc *g, uint64_t base, int field)
{
	uint32_t v = 0;
	if (base && g->l.offsets[field] >= 0)
		gs_grpc_read(g, base, g->l.offsets[field], &v, 4);
	return v;
}

int64_t gs_grpc_off2(const gs_grpc *g, int a, int b)
{
	return g->l.offsets[a] >= 0 ? g->l.offsets[a] : g->l.offsets[b];
}

/* The DWARF type of a struct member, or NULL. */
static const gs_dtype *member_type(gs_dwarf *d, const char *type, const char *member)
{
	const gs_dtype *t = gs_dwarf_type(d, type, NULL);
	const gs_dmember *m = t ? gs_dwarf_member(gs_dwarf_resolve(t), member) : NULL;
	return m ? m->type : NULL;
}

static bool member_is_pointer(gs_dwarf *d, const char *type, const char *member)
{
	const gs_dtype *t = member_type(d, type, member);
	return t && gs_dwarf_resolve(t)->kind == GS_DK_POINTER;
}

static bool map_layout(gs_dwarf *d, const char *type, const char *member, gs_map_layout *out)
{
	const gs_dtype *t = member_type(d, type, member);
	return t && gs_map_layout_resolve(d, t, out, NULL) == 0;
}

/* "127.0.0.1:50051" from a net.Addr interface holding *net.TCPAddr. */
static void format_addr(gs_grpc *g, uint64_t iface_addr, char *buf, size_t cap)
{
	gs_iface ifc;
	snprintf(buf, cap, "?");
	if (gs_iface_read(g->ty, iface_addr, false, &ifc, NULL) < 0 || !ifc.data)
		return;
	if (!gs_type_is(g->ty, ifc.type, "*net.TCPAddr"))
		return;
	uint64_t ip[2] = {0}, port = 0;
	if (gs_target_read(g->t, ifc.data + (uint64_t)g->l.offsets[TCPADDR_IP], ip, 16, NULL) < 0 ||
	    gs_target_read_u64(g->t, ifc.data + (uint64_t)g->l.offsets[TCPADDR_PORT], &port,
			       NULL) < 0)
		return;
	uint8_t b[16] = {0};
	size_t n = ip[1] <= 16 ? ip[1] : 0;
	if (n && gs_target_read(g->t, ip[0], b, n, NULL) < 0)
		return;
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (n == 4 || (n == 16 && memcmp(b, v4mapped, 12) == 0)) {
		const uint8_t *p = n == 4 ? b : b + 12;
		snprintf(buf, cap, "%u.%u.%u.%u:%llu", p[0], p[1], p[2], p[3],
			 (unsigned long long)port);
	} else if (n == 16) {
		gs_strbuf sb;
		gs_strbuf_init(&sb);
		gs_strbuf_putc(&sb, '[');
		for (int i = 0; i < 16; i += 2)
			gs_strbuf_printf(&sb, "%s%x", i ? ":" : "", (unsigned)(b[i] << 8 | b[i + 1]));
		gs_strbuf_printf(&sb, "]:%llu", (unsigned long long)port);
		snprintf(buf, cap, "%s", sb.buf);
		gs_strbuf_free(&sb);
	} else {
		snprintf(buf, cap, ":%llu", (unsigned long long)port);
	}
}

/* The socket behind a net.Conn: *net.TCPConn{conn{fd *netFD}} -> addresses, fd, pollDesc. */
static void read_conn(gs_grpc *g, gs_transport *tr, uint64_t conn_iface)
{
	const int64_t *o = g->l.offsets;
	gs_iface ifc;
	snprintf(tr->local, sizeof tr->local, "?");
	snprintf(tr->remote, sizeof tr->remote, "?");
	tr->fd = -1;
	if (gs_iface_read(g->ty, conn_iface, false, &ifc, NULL) < 0 || !ifc.data)
		return;
	if (!gs_type_is(g->ty, ifc.type, "*net.TCPConn") || o[CONN_FD] < 0 || o[NETFD_PFD] < 0)
		return; /* TLS and other wrappers: not followed yet */
	uint64_t fd = 0;
	if (gs_target_read_u64(g->t, ifc.data + (uint64_t)o[CONN_FD], &fd, NULL) < 0 || !fd)
		return;
	format_addr(g, fd + (uint64_t)o[NETFD_LADDR], tr->local, sizeof tr->local);
	format_addr(g, fd + (uint64_t)o[NETFD_RADDR], tr->remote, sizeof tr->remote);
	uint64_t pfd = fd + (uint64_t)o[NETFD_PFD], sysfd = 0, rctx = 0;
	if (o[FD_SYSFD] >= 0 && gs_target_read_u64(g->t, pfd + (uint64_t)o[FD_SYSFD], &sysfd, NULL) == 0)
		tr->fd = (int64_t)sysfd;
	if (o[FD_PD] >= 0 && o[PD_RUNTIMECTX] >= 0 &&
	    gs_target_read_u64(g->t, pfd + (uint64_t)o[FD_PD] + (uint64_t)o[PD_RUNTIMECTX], &rctx,
			       NULL) == 0)
		tr->pollDesc = rctx;
}

static void read_loopy_and_cbuf(gs_grpc *g, gs_transport *tr, uint64_t loopy, uint64_t cb)
{
	if (loopy) {
		uint64_t before = g->bad;
		g->bad = 0;
		tr->send_quota = gs_grpc_u32(g, loopy, LW_SENDQUOTA);
		tr->oiws = gs_grpc_u32(g, loopy, LW_OIWS);
		uint8_t dr = 0;
		gs_grpc_read(g, loopy, g->l.offsets[LW_DRAINING], &dr, 1);
		tr->draining_loopy = dr != 0;
		tr->loopy_known = g->bad == 0; /* an unread quota is not a zero quota */
		g->bad = before;
	}
	if (!cb)
		return;
	tr->cbuf_chan = gs_grpc_u64(g, cb, CB_CH);
	uint8_t cw = 0;
	gs_grpc_read(g, cb, g->l.offsets[CB_CONSUMERWAITING], &cw, 1);
	tr->consumer_waiting = cw != 0;
	tr->cbuf_response_frames = (int64_t)gs_grpc_u64(g, cb, CB_TRF);
	/* trfChan: atomic.Value (1.33, 1.64) or atomic.Pointer (1.81): non-nil data = throttled.
	 * Word 0 of atomic.Value is the type, word 1 the data; atomic.Pointer has one word. */
	int64_t to = g->l.offsets[CB_TRFCHAN];
	if (to >= 0) {
		uint64_t w[2] = {0};
		const gs_dtype *tt = member_type(g->d, TP "controlBuffer", "trfChan");
		size_t n = tt && gs_dwarf_resolve(tt)->size >= 16 ? 16 : 8;
		gs_grpc_read(g, cb, to, w, n);
		uint64_t data = n == 16 ? w[1] : w[0];
		tr->throttled = data != 0;
		tr->trf_chan = data;
	}
	uint64_t list = gs_grpc_u64(g, cb, CB_LIST);
	uint64_t node = gs_grpc_u64(g, list, IL_HEAD);
	uint64_t k = 0;
	for (; node && k < MAX_CBUF_ITEMS; k++)
		node = gs_grpc_u64(g, node, IN_NEXT);
	tr->cbuf_items = k;
}

static void read_conn_window(gs_grpc *g, gs_transport *tr, uint64_t fc)
{
	if (!fc)
		return;
	uint64_t before = g->bad;
	g->bad = 0;
	tr->conn_in_limit = gs_grpc_u32(g, fc, TF_LIMIT);
	tr->conn_in_unacked = gs_grpc_u32(g, fc, TF_UNACKED);
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
	tr->side = GS_CLIENT;
	read_conn(g, tr, a + (uint64_t)g->l.offsets[GC_CONN]);
	g->bad = 0; /* from here on, what the verdicts rest on */
	tr->state = gs_grpc_u64(g, a, GC_STATE);
	tr->goaway_reason = 0;
	uint8_t r = 0;
	gs_grpc_read(g, a, g->l.offsets[GC_GOAWAY_REASON], &r, 1);
	tr->goaway_reason = r;
	tr->goaway_chan = gs_grpc_u64(g, a, GC_GOAWAY);
	gs_chan ch;
	if (tr->goaway_chan) {
		if (gs_rt_read_chan(g->rt, tr->goaway_chan, &ch, NULL) == 0)
			tr->goaway_received = ch.closed;
		else if (!g->bad)
			g->bad = tr->goaway_chan;
	}
	tr->max_concurrent = gs_grpc_u32(g, a, GC_MAX_CONCURRENT);
	tr->stream_quota = (int64_t)gs_grpc_u64(g, a, GC_STREAM_QUOTA);
	tr->waiting_streams = gs_grpc_u32(g, a, GC_WAITING_STREAMS);
	tr->next_id = gs_grpc_u32(g, a, GC_NEXTID);
	tr->ctx_done_chan = gs_grpc_u64(g, a, GC_CTXDONE);
	tr->quota_chan = gs_grpc_u64(g, a, GC_QUOTA_AVAILABLE);
	tr->reader_done = gs_grpc_u64(g, a, GC_READERDONE);
	tr->writer_done = gs_grpc_u64(g, a, GC_WRITERDONE);
	uint8_t ka = 0;
	gs_grpc_read(g, a, g->l.offsets[GC_KEEPALIVE_ENABLED], &ka, 1);
	tr->keepalive_enabled = ka != 0;
	read_conn_window(g, tr, gs_grpc_u64(g, a, GC_FC));
	read_loopy_and_cbuf(g, tr, gs_grpc_u64(g, a, GC_LOOPY), gs_grpc_u64(g, a, GC_CONTROLBUF));
	note_unreadable(g, tr);
}

static void read_server(gs_grpc *g, gs_transport *tr)
{
	uint64_t a = tr->addr;
	tr->side = GS_SERVER;
	read_conn(g, tr, a + (uint64_t)g->l.offsets[GS_CONN]);
	g->bad = 0; /* from here on, what the verdicts rest on */
	tr->state = gs_grpc_u64(g, a, GS_STATE);
	/* A GOAWAY was sent once Drain set drainChan (1.33) or drainEvent (1.64+). */
	tr->goaway_sent = gs_grpc_u64(g, a, GS_DRAINCHAN) || gs_grpc_u64(g, a, GS_DRAINEVENT);
	tr->max_concurrent = gs_grpc_u32(g, a, GS_MAXSTREAMS);
	tr->ctx_done_chan = gs_grpc_u64(g, a, GS_DONE);
	tr->reader_done = gs_grpc_u64(g, a, GS_READERDONE);
	read_conn_window(g, tr, gs_grpc_u64(g, a, GS_FC));
	read_loopy_and_cbuf(g, tr, gs_grpc_u64(g, a, GS_LOOPY), gs_grpc_u64(g, a, GS_CONTROLBUF));
	note_unreadable(g, tr);
}

gs_grpc *gs_grpc_begin(gs_rt *rt)
{
	gs_grpc *g = gs_xcalloc(1, sizeof *g);
	g->rt = rt;
	g->t = gs_rt_target(rt);
	g->d = gs_rt_dwarf(rt);
	gs_layout_resolve(&g->l, gs_grpc_fields, GRPC_NFIELDS, g->d, NULL);
	g->ty = gs_types_open(g->t, g->d, gs_rt_bias(rt), NULL);
	if (!g->ty)
		return g; /* no module data: nothing gRPC can be found, but goroutines still work */
	g->buf_ptr = member_is_pointer(g->d, TP "Stream", "buf");
	g->fc_ptr = member_is_pointer(g->d, TP "Stream", "fc");
	g->wq_ptr = member_is_pointer(g->d, TP "Stream", "wq");
	g->have_client_map = map_layout(g->d, TP "http2Client", "activeStreams", &g->client_map);
	g->have_server_map = map_layout(g->d, TP "http2Server", "activeStreams", &g->server_map);
	g->have_estd_map = map_layout(g->d, TP "loopyWriter", "estdStreams", &g->estd_map);
	g->scan = gs_find_transports_start(rt, g->ty, &g->l);
	return g;
}

gs_grpc *gs_grpc_finish(gs_grpc *g, gs_err *err)
{
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
	g->tr = gs_xcalloc(g->ntr ? g->ntr : 1, sizeof *g->tr);
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
	gs_grpc_read_clientconns(g, f.client_holders, f.nclient_holders);
	memcpy(g->unreadable_tr, f.unreadable, f.nunreadable * sizeof *f.unreadable);
	g->nunreadable_tr = f.nunreadable;
	gs_found_transports_free(&f);
	gs_grpc_build_owners(g);
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
	gs_grpc_regroup_streams(g);
	gs_grpc_build_owners(g);
	gs_grpc_attach_goroutines(g);
	gs_grpc_load_details(g);
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
