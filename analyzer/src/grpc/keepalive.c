/* What keeps a transport alive or notices its peer is gone: keepalive parameters (client
 * and server), the server's enforcement policy and its ping strikes, when the transport
 * last read a frame, whether BDP estimation sizes its windows, and the window it grants.
 *
 * Every value is checked against what grpc-go can hold there (durations positive, a
 * last-read time a plausible clock reading, windows within HTTP/2's 2^31-1); one that is not
 * is dropped (-1) and named in the keepalive problem, never shown as a fact.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "grpc_internal.h"

/* 2001-09-09 .. 2255-03-14 in unix ns: a clock reading outside is no clock reading. */
#define MIN_UNIX_NS 1000000000000000000LL
#define MAX_UNIX_NS 9000000000000000000LL

static void problem(gs_keepalive *ka, const char *what, int64_t v)
{
	size_t n = strlen(ka->problem);
	snprintf(ka->problem + n, sizeof ka->problem - n, "%s%s %lld implausible", n ? "; " : "",
		 what, (long long)v);
}

/* A time.Duration field: positive, MaxInt64 = infinity; -1 when absent or implausible. */
static int64_t duration(gs_grpc *g, gs_keepalive *ka, uint64_t base, int field, const char *what)
{
	uint64_t u;
	if (gs_grpc_field(g, base, field, &u) < 0)
		return -1;
	int64_t v = (int64_t)u;
	if (v <= 0) {
		problem(ka, what, v);
		return -1;
	}
	return v;
}

static int8_t flag(gs_grpc *g, uint64_t base, int field)
{
	uint64_t b;
	if (gs_grpc_field(g, base, field, &b) < 0)
		return -1;
	return b != 0;
}

static int64_t last_read(gs_grpc *g, gs_keepalive *ka, uint64_t base, int field)
{
	uint64_t u;
	if (gs_grpc_field(g, base, field, &u) < 0)
		return -1;
	int64_t v = (int64_t)u;
	if (v != 0 && (v < MIN_UNIX_NS || v > MAX_UNIX_NS)) {
		problem(ka, "lastRead", v);
		return -1;
	}
	return v;
}

/* A member of kp / kep is found as the struct's offset plus the member's; were the member
 * missing from the type, the layout would give the struct's own offset, the same as its
 * first member's. Two members of one struct at one offset: neither is trusted. */
static void drop_aliases(int64_t *off, const int *fields, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			if (off[fields[i]] >= 0 && off[fields[i]] == off[fields[k]])
				off[fields[i]] = off[fields[k]] = -1;
}

void gs_grpc_check_keepalive_layout(gs_grpc *g)
{
	static const int ckp[] = {GC_KP_TIME, GC_KP_TIMEOUT, GC_KP_PERMIT};
	static const int skp[] = {GS_KP_IDLE, GS_KP_AGE, GS_KP_GRACE, GS_KP_TIME, GS_KP_TIMEOUT};
	static const int kep[] = {GS_KEP_MINTIME, GS_KEP_PERMIT};
	drop_aliases(g->l.offsets, ckp, 3);
	drop_aliases(g->l.offsets, skp, 5);
	drop_aliases(g->l.offsets, kep, 2);
}

void gs_grpc_read_keepalive(gs_grpc *g, gs_transport *tr)
{
	gs_keepalive *ka = &tr->ka;
	uint64_t a = tr->addr, before = g->bad;
	bool client = tr->side == GS_CLIENT;
	memset(ka, 0, sizeof *ka);
	ka->max_idle = ka->max_age = ka->max_age_grace = ka->min_time = -1;
	ka->permit = ka->dormant = ka->enf_permit = ka->bdp = -1;
	ka->ping_strikes = -1;
	ka->time = duration(g, ka, a, client ? GC_KP_TIME : GS_KP_TIME, "keepalive Time");
	ka->timeout = duration(g, ka, a, client ? GC_KP_TIMEOUT : GS_KP_TIMEOUT, "keepalive Timeout");
	ka->last_read = last_read(g, ka, a, client ? GC_LAST_READ : GS_LAST_READ);
	uint64_t p, u;
	if (gs_grpc_field(g, a, client ? GC_BDPEST : GS_BDPEST, &p) == 0)
		ka->bdp = p != 0;
	ka->initial_window = -1;
	if (gs_grpc_field(g, a, client ? GC_INITIAL_WINDOW : GS_INITIAL_WINDOW, &u) == 0) {
		int32_t w = (int32_t)u; /* an int32: sign-extended by the accessor */
		if (w > 0)
			ka->initial_window = w;
		else
			problem(ka, "initialWindowSize", w);
	}
	if (client) {
		ka->permit = flag(g, a, GC_KP_PERMIT);
		ka->dormant = flag(g, a, GC_KP_DORMANT);
	} else {
		ka->max_idle = duration(g, ka, a, GS_KP_IDLE, "MaxConnectionIdle");
		ka->max_age = duration(g, ka, a, GS_KP_AGE, "MaxConnectionAge");
		ka->max_age_grace = duration(g, ka, a, GS_KP_GRACE, "MaxConnectionAgeGrace");
		ka->min_time = duration(g, ka, a, GS_KEP_MINTIME, "EnforcementPolicy MinTime");
		ka->enf_permit = flag(g, a, GS_KEP_PERMIT);
		if (gs_grpc_field(g, a, GS_PINGSTRIKES, &u) == 0)
			ka->ping_strikes = (int)u;
	}
	g->bad = before; /* none of this is what a verdict's readability rests on */
}

/* A core: its file's modification time (gcore and the kernel write the file as the process
 * is dumped); a live process: now. A time earlier than a read the process itself recorded
 * is not the snapshot's (a copy that kept an older time, another clock): not used. */
void gs_grpc_read_snapshot_time(gs_grpc *g)
{
	struct stat st;
	struct timespec ts;
	g->snap_ns = 0;
	g->snap_how = "";
	enum gs_target_kind k = gs_target_kind(g->t);
	if (k == GS_TARGET_CORE && stat(gs_target_name(g->t), &st) == 0) {
		g->snap_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		g->snap_how = "the core file's time";
	} else if (k == GS_TARGET_LIVE && clock_gettime(CLOCK_REALTIME, &ts) == 0) {
		g->snap_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		g->snap_how = "now";
	}
	for (size_t i = 0; i < g->ntr && g->snap_ns; i++)
		if (g->tr[i].ka.last_read > g->snap_ns + 1000000000LL) {
			g->snap_ns = 0;
			g->snap_how = "";
		}
}

int64_t gs_grpc_snapshot_time(const gs_grpc *g, const char **source)
{
	if (source)
		*source = g->snap_how ? g->snap_how : "";
	return g->snap_ns;
}
