/* Which gRPC object owns a channel, pollDesc or sync object, and which goroutines touch
 * each stream and transport.
 *
 * Goroutines are linked by what they wait on (the runtime model's wait objects). A server
 * handler may wait on anything (a mutex of the application), so it is linked by its stack
 * instead: the goroutines running grpc's processStreamingRPC / processUnaryRPC keep the
 * stream pointer live across the handler call, so the stream's address is among the words
 * of their stack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "../util/u64set.h"
#include "grpc_internal.h"

#define MAX_STACK_SCAN (1u << 20)

const char *gs_owner_role_name(gs_owner_role r)
{
	switch (r) {
	case GS_OWN_RECV_BUFFER: return "recv buffer";
	case GS_OWN_WRITE_QUOTA: return "write quota";
	case GS_OWN_STREAM_DONE: return "done";
	case GS_OWN_HEADER: return "header";
	case GS_OWN_STREAM_CTX: return "context";
	case GS_OWN_TRANSPORT_DONE: return "closed";
	case GS_OWN_GOAWAY: return "GOAWAY";
	case GS_OWN_STREAM_QUOTA: return "stream quota";
	case GS_OWN_CBUF_WAKEUP: return "control buffer";
	case GS_OWN_THROTTLE: return "reader throttle";
	case GS_OWN_READER_DONE: return "reader done";
	case GS_OWN_WRITER_DONE: return "writer done";
	case GS_OWN_SOCKET: return "socket";
	}
	return "?";
}

/* Owners live in an open-addressing table keyed by address (tens of thousands of streams
 * own five channels each: hashing beats sorting them). Where a stream and its transport
 * share a channel, the stream, being more specific, is kept. */
static size_t own_home(const gs_grpc *g, uint64_t addr)
{
	return (size_t)((addr >> 3) * 0x9e3779b97f4a7c15ull >> 17) & (g->capown - 1);
}

static size_t own_slot(const gs_grpc *g, uint64_t addr)
{
	size_t h = own_home(g, addr);
	while (g->own[h].addr && g->own[h].addr != addr)
		h = (h + 1) & (g->capown - 1);
	return h;
}

static void add(gs_grpc *g, uint64_t addr, long stream, long transport, gs_owner_role role)
{
	if (!addr || transport > 0xffffff || stream > INT32_MAX)
		return;
	if (2 * (g->nown + 1) > g->capown) {
		gs_owner *old = g->own, *big = calloc(g->capown ? g->capown * 2 : 1024, sizeof *big);
		size_t oldcap = g->capown;
		if (!big) {
			g->nomem = true;
			return;
		}
		g->capown = oldcap ? oldcap * 2 : 1024;
		g->own = big;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].addr)
				g->own[own_slot(g, old[i].addr)] = old[i];
		free(old);
	}
	gs_owner *o = &g->own[own_slot(g, addr)];
	if (o->addr && (o->stream >= 0 || stream < 0))
		return;
	if (!o->addr)
		g->nown++;
	*o = (gs_owner){addr, (int32_t)stream, (uint32_t)transport, (uint32_t)role};
}

#define OWN_AHEAD 8

void gs_grpc_build_owners(gs_grpc *g)
{
	/* Sized once for every object that can own a channel: no rehashing. */
	size_t want = 1024;
	while (want < 2 * (5 * g->nst + 8 * g->ntr) + 2)
		want *= 2;
	if (g->capown < want) {
		free(g->own);
		g->own = calloc(want, sizeof *g->own);
		g->capown = g->own ? want : 0;
		g->nomem |= !g->own; /* add() grows it as it goes, or fails */
	} else if (g->own) {
		memset(g->own, 0, g->capown * sizeof *g->own);
	}
	g->nown = 0;
	for (size_t i = 0; i < g->nst; i++) {
		/* Slots land at random in a table of megabytes: start loading them ahead. */
		if (i + OWN_AHEAD < g->nst) {
			const gs_stream *a = &g->st[i + OWN_AHEAD];
			const uint64_t k[] = {a->recv_chan, a->wq_chan, a->done_chan, a->header_chan,
					      a->ctx_done_chan};
			for (size_t j = 0; j < sizeof k / sizeof k[0]; j++)
				__builtin_prefetch(&g->own[own_home(g, k[j])], 1);
		}
		gs_stream *s = &g->st[i];
		long si = (long)i, ti = (long)s->transport;
		add(g, s->recv_chan, si, ti, GS_OWN_RECV_BUFFER);
		add(g, s->wq_chan, si, ti, GS_OWN_WRITE_QUOTA);
		add(g, s->done_chan, si, ti, GS_OWN_STREAM_DONE);
		add(g, s->header_chan, si, ti, GS_OWN_HEADER);
		add(g, s->ctx_done_chan, si, ti, GS_OWN_STREAM_CTX);
	}
	for (size_t i = 0; i < g->ntr; i++) {
		gs_transport *t = &g->tr[i];
		long ti = (long)i;
		add(g, t->ctx_done_chan, -1, ti, GS_OWN_TRANSPORT_DONE);
		add(g, t->goaway_chan, -1, ti, GS_OWN_GOAWAY);
		add(g, t->quota_chan, -1, ti, GS_OWN_STREAM_QUOTA);
		add(g, t->cbuf_chan, -1, ti, GS_OWN_CBUF_WAKEUP);
		add(g, t->trf_chan, -1, ti, GS_OWN_THROTTLE);
		add(g, t->reader_done, -1, ti, GS_OWN_READER_DONE);
		add(g, t->writer_done, -1, ti, GS_OWN_WRITER_DONE);
		add(g, t->pollDesc, -1, ti, GS_OWN_SOCKET);
	}
}

static const gs_owner *find(const gs_grpc *g, uint64_t addr)
{
	if (!g->capown || !addr)
		return NULL;
	const gs_owner *o = &g->own[own_slot(g, addr)];
	return o->addr == addr ? o : NULL;
}

bool gs_grpc_owner_of(const gs_grpc *g, uint64_t addr, long *stream, long *transport,
		      gs_owner_role *role)
{
	const gs_owner *o = g ? find(g, addr) : NULL;
	if (!o)
		return false;
	*stream = o->stream;
	*transport = (long)o->transport;
	*role = (gs_owner_role)o->role;
	return true;
}

void gs_grpc_owner_prefetch(void *grpc, uint64_t addr)
{
	const gs_grpc *g = grpc;
	/* The home slot only: probing here would wait for the very miss being started. */
	if (g && g->capown && addr)
		__builtin_prefetch(&g->own[own_home(g, addr)]);
}

bool gs_grpc_owner(void *grpc, uint64_t addr, gs_strbuf *out)
{
	const gs_grpc *g = grpc;
	const gs_owner *o = g ? find(g, addr) : NULL;
	if (!o)
		return false;
	const gs_transport *t = &g->tr[o->transport];
	if (o->stream >= 0) {
		const gs_stream *s = &g->st[o->stream];
		gs_strbuf_puts(out, s->side == GS_CLIENT ? "client stream " : "server stream ");
		gs_strbuf_put_u64(out, s->id);
	} else {
		gs_strbuf_puts(out, t->side == GS_CLIENT ? "client transport " : "server transport ");
		gs_strbuf_puts(out, t->side == GS_CLIENT ? t->remote : t->local);
	}
	gs_strbuf_putc(out, ' ');
	gs_strbuf_puts(out, gs_owner_role_name((gs_owner_role)o->role));
	return true;
}

/* False when out of memory. */
static bool add_goid(uint64_t **v, size_t *n, uint64_t goid)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == goid)
			return true;
	uint64_t *w = gs_reallocarray(*v, *n + 1, sizeof **v, NULL);
	if (!w)
		return false;
	*v = w;
	(*v)[(*n)++] = goid;
	return true;
}

/* Open-addressing set of server stream addresses for the stack scan. */
typedef struct addr_set {
	uint64_t *key;
	size_t *val;
	size_t mask;
} addr_set;

/* False when out of memory. */
static bool set_init(addr_set *s, size_t n)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	s->key = calloc(cap, sizeof *s->key);
	s->val = calloc(cap, sizeof *s->val);
	s->mask = cap - 1;
	return s->key && s->val;
}

static size_t slot(const addr_set *s, uint64_t k)
{
	size_t h = (size_t)((k >> 3) * 0x9e3779b97f4a7c15ull) & s->mask;
	while (s->key[h] && s->key[h] != k)
		h = (h + 1) & s->mask;
	return h;
}

static bool is_handler_frame(const char *fn)
{
	return strstr(fn, "grpc.(*Server).processStreamingRPC") ||
	       strstr(fn, "grpc.(*Server).processUnaryRPC");
}

/* A handler whose stream the transport already dropped (RST_STREAM after a cancel, say):
 * some word of its stack is a server stream whose st interface holds one of our server
 * transports. */
static void find_detached(gs_grpc *g, uint64_t goid, const uint64_t *words, size_t n)
{
	int stf = gs_layout_has(&g->l, ST_ST) ? ST_ST : SS_ST; /* SS_ST: 1.81 */
	if (!gs_layout_has(&g->l, stf))
		return;
	for (size_t w = 0; w < n; w++) {
		uint64_t p = words[w], data = 0; /* the st interface's data word */
		if (!p || (p & 7) || gs_layout_read_words(&g->l, stf, g->t, p, 1, 1, &data) < 0)
			continue;
		for (size_t ti = 0; ti < g->ntr; ti++) {
			if (g->tr[ti].side != GS_SERVER || g->tr[ti].addr != data)
				continue;
			bool known = false;
			for (size_t k = 0; k < g->nst && !known; k++)
				known = g->st[k].addr == p;
			if (known)
				return;
			size_t si = gs_grpc_add_stream(g, p, ti, true);
			if (si == SIZE_MAX)
				return;
			g->st[si].handler = goid;
			g->nomem |= !add_goid(&g->st[si].goroutines, &g->st[si].ngoroutines, goid);
			return;
		}
	}
}

/* Whether a goroutine with this start pc was started by the grpc server (decided once per
 * start pc: tens of thousands of goroutines share a handful). */
static bool server_started(gs_grpc *g, uint64_t startpc, gs_u64set *yes, gs_u64set *no)
{
	if (!startpc)
		return false;
	if (gs_u64set_has(yes, startpc))
		return true;
	if (gs_u64set_has(no, startpc))
		return false;
	gs_func sf;
	bool r = gs_pclntab_find(gs_rt_pclntab(g->rt), startpc - gs_rt_bias(g->rt), &sf) == 0 &&
		 strstr(sf.name, "grpc.(*Server).") != NULL;
	gs_u64set_add(r ? yes : no, startpc);
	return r;
}

void gs_grpc_find_handlers(gs_grpc *g)
{
	gs_u64set started = {0}, other = {0}, hframes = {0}, oframes = {0};
	size_t nserver = 0, nservertr = 0;
	for (size_t i = 0; i < g->nst; i++)
		nserver += g->st[i].side == GS_SERVER;
	for (size_t i = 0; i < g->ntr; i++)
		nservertr += g->tr[i].side == GS_SERVER;
	if (!nservertr)
		return;
	addr_set set;
	uint64_t *buf = malloc(MAX_STACK_SCAN);
	if (!set_init(&set, nserver) || !buf) {
		g->nomem = true;
		free(set.key);
		free(set.val);
		free(buf);
		return;
	}
	uint64_t lo = UINT64_MAX, hi = 0; /* one compare rejects most stack words */
	for (size_t i = 0; i < g->nst; i++) {
		if (g->st[i].side != GS_SERVER)
			continue;
		size_t h = slot(&set, g->st[i].addr);
		set.key[h] = g->st[i].addr;
		set.val[h] = i;
		lo = g->st[i].addr < lo ? g->st[i].addr : lo;
		hi = g->st[i].addr > hi ? g->st[i].addr : hi;
	}
	for (size_t i = 0; i < gs_rt_ngoroutines(g->rt); i++) {
		gs_goroutine *gr = gs_rt_goroutine(g->rt, i);
		/* Only goroutines the grpc server started can run a handler: skip the rest before
		 * paying for an unwind. */
		if (!server_started(g, gr->startpc, &started, &other))
			continue;
		size_t n;
		const gs_frame *f = gs_rt_stack(g->rt, gr, &n);
		bool handler = false;
		for (size_t k = 0; k < n && !handler; k++) {
			/* Function names are pclntab strings: decide once per name. */
			uint64_t key = (uint64_t)(uintptr_t)f[k].function;
			if (!gs_u64set_has(&hframes, key) && !gs_u64set_has(&oframes, key))
				gs_u64set_add(is_handler_frame(f[k].function) ? &hframes : &oframes,
					      key);
			handler = gs_u64set_has(&hframes, key);
		}
		uint64_t top = gr->stack_hi, sp = gr->sched_sp;
		if (!handler || !sp || top <= sp || top - sp > MAX_STACK_SCAN)
			continue;
		if (gs_target_read_bulk(g->t, sp, buf, top - sp, NULL) < 0)
			continue;
		const uint64_t *words = buf;
		bool linked = false;
		for (size_t w = 0; w < (top - sp) / 8 && !linked; w++) {
			if (!words[w] || words[w] - lo > hi - lo)
				continue;
			size_t h = slot(&set, words[w]);
			if (set.key[h] != words[w])
				continue;
			gs_stream *s = &g->st[set.val[h]];
			if (!s->handler)
				s->handler = gr->goid;
			g->nomem |= !add_goid(&s->goroutines, &s->ngoroutines, gr->goid);
			linked = true;
		}
		if (!linked)
			find_detached(g, gr->goid, words, (top - sp) / 8);
	}
	free(buf);
	free(set.key);
	free(set.val);
	g->nomem |= started.failed || other.failed || hframes.failed || oframes.failed;
	gs_u64set_free(&started);
	gs_u64set_free(&other);
	gs_u64set_free(&hframes);
	gs_u64set_free(&oframes);
}

void gs_grpc_attach_goroutines(gs_grpc *g)
{
	for (size_t i = 0; i < gs_rt_ngoroutines(g->rt); i++) {
		gs_goroutine *gr = gs_rt_goroutine(g->rt, i);
		size_t nw;
		const gs_waitobj *w = gs_rt_waits(g->rt, gr, &nw);
		for (size_t k = 0; k < nw; k++) {
			const gs_owner *o = find(g, w[k].addr);
			if (!o)
				continue;
			if (o->stream >= 0) {
				gs_stream *s = &g->st[o->stream];
				g->nomem |= !add_goid(&s->goroutines, &s->ngoroutines, gr->goid);
			} else {
				gs_transport *t = &g->tr[o->transport];
				g->nomem |= !add_goid(&t->goroutines, &t->ngoroutines, gr->goid);
			}
		}
	}
}
