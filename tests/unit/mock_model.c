/* The model functions the diagnose layer calls, over a program built by hand (see
 * mock_model.h). Only what the rules read is here; everything else of the real model
 * (unwinding, heap scans, DWARF) is absent on purpose. */
#include "mock_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_G 256
#define MAX_T 32
#define MAX_S 256
#define MAX_OWNERS 1024
#define MAX_MEM 256
#define MAX_FRAMES 16
#define STACK_WORDS 64
#define G_STACK_HI_OFF 8 /* where a mock g keeps stack.hi */

struct gs_rt { mock *m; };
struct gs_grpc { mock *m; };
struct gs_target { mock *m; };
struct gs_pclntab { mock *m; };

typedef struct owner { uint64_t addr; long stream, transport; gs_owner_role role; } owner;
typedef struct region { uint64_t addr; size_t len; uint8_t *bytes; } region;
typedef struct start_fn { uint64_t pc; const char *name; } start_fn;
typedef struct cc { uint64_t goid; gs_cc_info info; } cc;

struct mock {
	struct gs_rt rt;
	struct gs_grpc grpc;
	struct gs_target target;
	struct gs_pclntab pcln;
	gs_goroutine g[MAX_G];
	const char *reason[MAX_G];
	int64_t minutes[MAX_G];
	gs_frame frames[MAX_G][MAX_FRAMES];
	char names[MAX_G][MAX_FRAMES][160];
	gs_waitobj waits[MAX_G][8];
	size_t ng;
	gs_transport t[MAX_T];
	uint64_t tgor[MAX_T][16];
	size_t nt;
	gs_stream s[MAX_S];
	uint64_t sgor[MAX_S][16];
	size_t ns;
	owner own[MAX_OWNERS];
	size_t nown;
	region mem[MAX_MEM];
	size_t nmem;
	start_fn starts[MAX_G];
	size_t nstarts;
	cc ccs[8];
	size_t nccs;
	int64_t snap_ns; /* the snapshot's time (gs_grpc_snapshot_time), 0: unknown */
	const gs_labels *labels[MAX_G]; /* pprof labels by goroutine index (gs_rt_labels) */
	gs_unreadable_transport unread[GS_MAX_UNREADABLE_TRANSPORTS];
	size_t nunread;
	uint64_t missing;
	gs_thread threads[8];
	size_t nthreads;
	uint64_t next_addr;
	int64_t layout_offsets[GRPC_NFIELDS];
	gs_layout layout;
};

static void die(const char *what)
{
	fprintf(stderr, "mock_model: %s\n", what);
	abort();
}

mock *mock_new(void)
{
	mock *m = calloc(1, sizeof *m);
	if (!m)
		die("out of memory");
	m->rt.m = m->grpc.m = m->target.m = m->pcln.m = m;
	m->next_addr = 0xc000100000;
	for (size_t i = 0; i < GRPC_NFIELDS; i++)
		m->layout_offsets[i] = -1; /* no clientStream fields: holders are found directly */
	m->layout.offsets = m->layout_offsets;
	m->layout.n = GRPC_NFIELDS;
	return m;
}

void mock_free(mock *m)
{
	for (size_t i = 0; i < m->nmem; i++)
		free(m->mem[i].bytes);
	free(m);
}

gs_rt *mock_rt(mock *m) { return &m->rt; }
gs_grpc *mock_grpc(mock *m) { return &m->grpc; }

static uint64_t fresh(mock *m, uint64_t size)
{
	uint64_t a = m->next_addr;
	m->next_addr += (size + 0xff) & ~(uint64_t)0xff;
	return a;
}

static size_t gi(mock *m, const gs_goroutine *g)
{
	return (size_t)(g - m->g);
}

gs_goroutine *mock_g(mock *m, uint64_t goid, uint32_t status, const char *reason)
{
	if (m->ng == MAX_G)
		die("too many goroutines");
	gs_goroutine *g = &m->g[m->ng];
	memset(g, 0, sizeof *g);
	g->goid = goid;
	g->status = status;
	g->addr = fresh(m, 0x100);
	g->stack_done = g->waits_done = true;
	g->frames = m->frames[m->ng];
	g->waits = m->waits[m->ng];
	m->reason[m->ng] = reason ? reason : "";
	m->minutes[m->ng] = -1;
	m->ng++;
	return g;
}

void mock_stack(mock *m, gs_goroutine *g, ...)
{
	size_t k = gi(m, g);
	va_list ap;
	va_start(ap, g);
	g->nframes = 0;
	for (const char *fn; (fn = va_arg(ap, const char *)) != NULL;) {
		if (g->nframes == MAX_FRAMES)
			die("too many frames");
		char *name = m->names[k][g->nframes];
		snprintf(name, sizeof m->names[k][0], "%s", fn);
		gs_frame *f = &g->frames[g->nframes];
		f->pc = 0x401000 + 0x10 * g->nframes;
		f->function = name;
		f->file = "main.go";
		f->line = 10 + (int32_t)g->nframes;
		f->inlined = false;
		g->nframes++;
	}
	va_end(ap);
}

void mock_wait(mock *m, gs_goroutine *g, enum gs_wait_kind kind, uint64_t addr)
{
	(void)m;
	if (g->nwaits == 8)
		die("too many waits");
	g->waits[g->nwaits++] = (gs_waitobj){kind, addr, addr, -1};
}

void mock_minutes(mock *m, gs_goroutine *g, int64_t minutes) { m->minutes[gi(m, g)] = minutes; }

void mock_start(mock *m, gs_goroutine *g, const char *function)
{
	g->startpc = 0x500000 + 0x100 * m->nstarts;
	m->starts[m->nstarts++] = (start_fn){g->startpc, function};
}

gs_transport *mock_transport(mock *m, enum gs_side side, const char *local, const char *remote)
{
	if (m->nt == MAX_T)
		die("too many transports");
	gs_transport *t = &m->t[m->nt];
	memset(t, 0, sizeof *t);
	t->addr = fresh(m, 0x400);
	t->side = side;
	snprintf(t->local, sizeof t->local, "%s", local);
	snprintf(t->remote, sizeof t->remote, "%s", remote);
	t->fd = 5 + (int64_t)m->nt;
	t->pollDesc = fresh(m, 0x40);
	t->conn_kind = "tcp";
	t->state = GS_TR_REACHABLE;
	t->goaway_code = -1;
	t->max_concurrent = 100;
	t->stream_quota = 100;
	t->next_id = 1;
	t->conn_in_known = true;
	t->conn_in_limit = 65535;
	t->loopy_known = true;
	t->send_quota = 65535;
	t->oiws = 65535;
	t->first_stream = m->ns;
	t->goroutines = m->tgor[m->nt];
	m->nt++;
	return t;
}

gs_stream *mock_stream(mock *m, gs_transport *t, uint32_t id, const char *method)
{
	if (m->ns == MAX_S)
		die("too many streams");
	if (t->nstreams && t->first_stream + t->nstreams != m->ns)
		die("add a transport's streams one after the other");
	if (!t->nstreams)
		t->first_stream = m->ns;
	gs_stream *s = &m->s[m->ns];
	memset(s, 0, sizeof *s);
	s->addr = fresh(m, 0x200);
	s->transport = (size_t)mock_tidx(m, t);
	s->side = t->side;
	s->id = id;
	s->method = method;
	s->state = GS_STREAM_ACTIVE;
	s->in = (gs_flow_in){true, 65535, 0, 0, 0};
	s->wq_known = true;
	s->wq_quota = 65535;
	s->out = (gs_outstream){true, s->addr, id, GS_OS_EMPTY, 0, 0};
	s->status_message = "";
	s->ctx_known = true;
	s->ctx.err = "";
	s->goroutines = m->sgor[m->ns];
	s->problem = "";
	m->ns++;
	t->nstreams++;
	t->stream_quota = (int64_t)t->max_concurrent - (int64_t)t->nstreams;
	if (t->side == GS_CLIENT && id + 2 > t->next_id)
		t->next_id = id + 2;
	if (t->side == GS_SERVER && id > t->max_stream_id)
		t->max_stream_id = id;
	return s;
}

long mock_sidx(mock *m, const gs_stream *s) { return s ? (long)(s - m->s) : -1; }
long mock_tidx(mock *m, const gs_transport *t) { return t ? (long)(t - m->t) : -1; }

static void add_goroutine(uint64_t *list, size_t *n, uint64_t goid)
{
	for (size_t i = 0; i < *n; i++)
		if (list[i] == goid)
			return;
	if (*n == 16)
		die("too many goroutines on one object");
	list[(*n)++] = goid;
}

uint64_t mock_wait_on(mock *m, gs_goroutine *g, gs_stream *s, gs_transport *t,
		      gs_owner_role role, enum gs_wait_kind kind)
{
	if (m->nown == MAX_OWNERS)
		die("too many owners");
	if (s && !t)
		t = &m->t[s->transport];
	uint64_t a = fresh(m, 0x60);
	m->own[m->nown++] = (owner){a, mock_sidx(m, s), mock_tidx(m, t), role};
	mock_wait(m, g, kind, a);
	if (s)
		add_goroutine(s->goroutines, &s->ngoroutines, g->goid);
	else if (t)
		add_goroutine(t->goroutines, &t->ngoroutines, g->goid);
	return a;
}

void mock_wait_socket(mock *m, gs_goroutine *g, gs_transport *t, bool write)
{
	gs_waitobj w = {write ? GS_WAIT_NETPOLL_WRITE : GS_WAIT_NETPOLL_READ, t->pollDesc, 0, t->fd};
	if (g->nwaits == 8)
		die("too many waits");
	g->waits[g->nwaits++] = w;
	m->own[m->nown++] = (owner){t->pollDesc, -1, mock_tidx(m, t), GS_OWN_SOCKET};
	add_goroutine(t->goroutines, &t->ngoroutines, g->goid);
}

void mock_handler(mock *m, gs_stream *s, gs_goroutine *g)
{
	(void)m;
	s->handler = g->goid;
	add_goroutine(s->goroutines, &s->ngoroutines, g->goid);
}

static region *find_region(mock *m, uint64_t addr, size_t n)
{
	for (size_t i = 0; i < m->nmem; i++)
		if (addr >= m->mem[i].addr && addr + n <= m->mem[i].addr + m->mem[i].len)
			return &m->mem[i];
	return NULL;
}

static region *add_region(mock *m, uint64_t addr, size_t len)
{
	if (m->nmem == MAX_MEM)
		die("too many memory regions");
	region *r = &m->mem[m->nmem++];
	r->addr = addr;
	r->len = len;
	r->bytes = calloc(1, len);
	if (!r->bytes)
		die("out of memory");
	return r;
}

void mock_give_stack(mock *m, gs_goroutine *g)
{
	if (g->sched_sp)
		return;
	g->sched_sp = fresh(m, STACK_WORDS * 8);
	g->sched_pc = g->nframes ? g->frames[0].pc : 0x401000;
	g->stack_lo = g->sched_sp;
	g->stack_hi = g->sched_sp + STACK_WORDS * 8;
	add_region(m, g->sched_sp, STACK_WORDS * 8);
	region *gr = add_region(m, g->addr, 0x100);
	memcpy(gr->bytes + G_STACK_HI_OFF, &g->stack_hi, 8);
}

void mock_holds(mock *m, gs_goroutine *g, gs_stream *s)
{
	mock_give_stack(m, g);
	region *st = find_region(m, g->sched_sp, STACK_WORDS * 8);
	for (size_t w = 1; w < STACK_WORDS; w += 3) {
		uint64_t v;
		memcpy(&v, st->bytes + 8 * w, 8);
		if (!v) {
			memcpy(st->bytes + 8 * w, &s->addr, 8);
			return;
		}
	}
	die("stack full");
}

void mock_clientconn(mock *m, gs_goroutine *g, const char *target, const char *state,
		     const char *subchannels, const char *last_error)
{
	cc *c = &m->ccs[m->nccs++];
	c->goid = g->goid;
	c->info.addr = fresh(m, 0x100);
	snprintf(c->info.target, sizeof c->info.target, "%s", target);
	snprintf(c->info.state, sizeof c->info.state, "%s", state);
	snprintf(c->info.subchannels, sizeof c->info.subchannels, "%s", subchannels);
	snprintf(c->info.last_error, sizeof c->info.last_error, "%s", last_error);
}

void mock_unreadable_transport(mock *m, uint64_t addr, uint64_t at, bool server)
{
	m->unread[m->nunread++] = (gs_unreadable_transport){addr, at, server};
}

void mock_missing_bytes(mock *m, uint64_t n) { m->missing = n; }

void mock_thread(mock *m, int64_t tid)
{
	memset(&m->threads[m->nthreads], 0, sizeof m->threads[0]);
	m->threads[m->nthreads++].tid = tid;
}

const gs_verdict *mock_verdict(const gs_diagnosis *dg, uint64_t goid)
{
	for (size_t i = 0; i < dg->n; i++)
		if (dg->v[i].goid == goid)
			return &dg->v[i];
	return NULL;
}

bool mock_has_evidence(const gs_verdict *v, const char *needle)
{
	for (size_t i = 0; v && i < v->nevidence; i++)
		if (strstr(v->evidence[i], needle))
			return true;
	return false;
}

bool mock_blames(const gs_verdict *v, uint64_t goid)
{
	for (size_t i = 0; v && i < v->nchain; i++)
		if (v->chain[i] == goid)
			return true;
	return false;
}

/* ---- the runtime model ---- */

size_t gs_rt_ngoroutines(const gs_rt *rt) { return rt->m->ng; }
gs_goroutine *gs_rt_goroutine(gs_rt *rt, size_t i) { return &rt->m->g[i]; }

gs_goroutine *gs_rt_find_goroutine(gs_rt *rt, uint64_t goid)
{
	for (size_t i = 0; i < rt->m->ng; i++)
		if (rt->m->g[i].goid == goid)
			return &rt->m->g[i];
	return NULL;
}

const char *gs_rt_status_name(uint32_t st)
{
	static const char *const names[] = {"idle", "runnable", "running", "syscall", "waiting",
					    "moribund", "dead", "enqueue", "copystack",
					    "preempted", "leaked", "deadextra"};
	return st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

const char *gs_rt_wait_reason(const gs_rt *rt, const gs_goroutine *g)
{
	return rt->m->reason[g - rt->m->g];
}

int64_t gs_rt_wait_minutes(const gs_rt *rt, const gs_goroutine *g)
{
	return rt->m->minutes[g - rt->m->g];
}

const gs_frame *gs_rt_stack(gs_rt *rt, gs_goroutine *g, size_t *n)
{
	(void)rt;
	*n = g->nframes;
	return g->frames;
}

/* As goruntime/unwind.c: the first frame outside the runtime (its exported functions, like
 * runtime.Gosched, count as the user's), else the innermost one. */
static bool is_user(const char *name)
{
	if (!strchr(name, '.') || strncmp(name, "internal/", 9) == 0 ||
	    strncmp(name, "runtime/internal/", 17) == 0)
		return false;
	if (strncmp(name, "runtime.", 8) != 0)
		return true;
	return name[8] >= 'A' && name[8] <= 'Z';
}

const gs_frame *gs_rt_user_frame(gs_rt *rt, gs_goroutine *g)
{
	(void)rt;
	for (size_t i = 0; i < g->nframes; i++)
		if (!g->frames[i].inlined && is_user(g->frames[i].function))
			return &g->frames[i];
	return g->nframes ? &g->frames[0] : NULL;
}

const gs_waitobj *gs_rt_waits(gs_rt *rt, gs_goroutine *g, size_t *n)
{
	(void)rt;
	*n = g->nwaits;
	return g->waits;
}

void gs_rt_prepare(gs_rt *rt, const bool *which, unsigned what)
{
	(void)rt, (void)which, (void)what;
}

gs_target *gs_rt_target(const gs_rt *rt) { return &rt->m->target; }
gs_pclntab *gs_rt_pclntab(const gs_rt *rt) { return &rt->m->pcln; }
uint64_t gs_rt_bias(const gs_rt *rt) { (void)rt; return 0; }

int64_t gs_rt_off(const gs_rt *rt, enum gs_rt_field f)
{
	(void)rt;
	return f == RT_G_STACK_HI ? G_STACK_HI_OFF : -1;
}

int gs_rt_field(gs_rt *rt, uint64_t base, enum gs_rt_field f, uint64_t *v)
{
	int64_t o = gs_rt_off(rt, f);
	return o < 0 || !base ? -1 : gs_target_read_u64(gs_rt_target(rt), base + (uint64_t)o, v, NULL);
}

/* The mock's manifests hold words only. */
int gs_layout_read(const gs_layout *l, int f, gs_target *t, uint64_t base, int64_t extra,
		   uint64_t *v)
{
	int64_t o = l->offsets[f];
	return o < 0 || !base ? -1 : gs_target_read_u64(t, base + (uint64_t)(o + extra), v, NULL);
}

int gs_pclntab_find(const gs_pclntab *t, uint64_t pc, gs_func *out)
{
	for (size_t i = 0; i < t->m->nstarts; i++)
		if (t->m->starts[i].pc == pc) {
			memset(out, 0, sizeof *out);
			out->entry = pc;
			out->end = pc + 0x100;
			out->name = t->m->starts[i].name;
			return 0;
		}
	return -1;
}

/* ---- the target ---- */

int gs_target_read(gs_target *t, uint64_t addr, void *dst, size_t n, gs_err *err)
{
	region *r = find_region(t->m, addr, n);
	if (!r) {
		if (err)
			gs_errf(err, GS_EMEM, "unreadable at 0x%llx", (unsigned long long)addr);
		return -1;
	}
	memcpy(dst, r->bytes + (addr - r->addr), n);
	return 0;
}

int gs_target_read_bulk(gs_target *t, uint64_t addr, void *dst, size_t n, gs_err *err)
{
	return gs_target_read(t, addr, dst, n, err);
}

int gs_target_read_u64(gs_target *t, uint64_t addr, uint64_t *v, gs_err *err)
{
	return gs_target_read(t, addr, v, 8, err);
}

int gs_target_read_u32(gs_target *t, uint64_t addr, uint32_t *v, gs_err *err)
{
	return gs_target_read(t, addr, v, 4, err);
}

uint64_t gs_target_missing_bytes(const gs_target *t) { return t->m->missing; }
size_t gs_target_nthreads(const gs_target *t) { return t->m->nthreads; }
const gs_thread *gs_target_thread(const gs_target *t, size_t i) { return &t->m->threads[i]; }
const char *gs_target_name(const gs_target *t) { (void)t; return "mock"; }

/* ---- the gRPC model ---- */

size_t gs_grpc_ntransports(const gs_grpc *g) { return g->m->nt; }
const gs_transport *gs_grpc_transport(const gs_grpc *g, size_t i) { return &g->m->t[i]; }
size_t gs_grpc_nstreams(const gs_grpc *g) { return g->m->ns; }
const gs_stream *gs_grpc_stream(const gs_grpc *g, size_t i) { return &g->m->s[i]; }
const gs_layout *gs_grpc_layout(const gs_grpc *g) { return &g->m->layout; }
void mock_snapshot_time(mock *m, int64_t unix_ns) { m->snap_ns = unix_ns; }
void mock_labels(mock *m, gs_goroutine *g, const gs_labels *l) { m->labels[g - m->g] = l; }
const gs_labels *gs_rt_labels(const gs_rt *rt, const gs_goroutine *g)
{
	return g ? rt->m->labels[g - rt->m->g] : NULL;
}
int64_t gs_grpc_snapshot_time(const gs_grpc *g, const char **source)
{
	if (source)
		*source = g->m->snap_ns ? "the mock's time" : "";
	return g->m->snap_ns;
}

size_t gs_grpc_unreadable_transports(const gs_grpc *g, const gs_unreadable_transport **v)
{
	*v = g->m->unread;
	return g->m->nunread;
}

bool gs_grpc_owner_of(const gs_grpc *g, uint64_t addr, long *stream, long *transport,
		      gs_owner_role *role)
{
	for (size_t i = 0; i < g->m->nown; i++)
		if (g->m->own[i].addr == addr) {
			*stream = g->m->own[i].stream;
			*transport = g->m->own[i].transport;
			*role = g->m->own[i].role;
			return true;
		}
	return false;
}

bool gs_grpc_find_clientconn(gs_grpc *g, gs_goroutine *gr, gs_cc_info *out)
{
	for (size_t i = 0; i < g->m->nccs; i++)
		if (g->m->ccs[i].goid == gr->goid) {
			*out = g->m->ccs[i].info;
			return true;
		}
	return false;
}
