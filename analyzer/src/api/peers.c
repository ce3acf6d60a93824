#include "peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../diagnose/verdicts.h"
#include "../util/alloc.h"
#include "snapdir.h"
#include "warnings.h"

static int fail(char **errmsg, int code, const char *msg)
{
	*errmsg = gs_msg_dup(msg);
	return code;
}

/* False when out of memory. */
static bool add(gs_peers *ps, const char *exe, const char *core)
{
	gs_peer *more = gs_reallocarray(ps->p, ps->n + 1, sizeof *ps->p, NULL);
	if (!more)
		return false;
	ps->p = more;
	gs_peer p = {exe ? gs_strdup(exe, NULL) : NULL, gs_strdup(core, NULL), NULL, NULL};
	if ((exe && !p.exe) || !p.core) {
		free(p.exe);
		free(p.core);
		return false;
	}
	ps->p[ps->n++] = p;
	return true;
}

static bool same_file(const char *a, const char *b)
{
	struct stat x, y;
	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* The primary's core file, when it is one. */
static const char *primary_core(gs_session *s)
{
	return s && gs_target_kind(s->target) == GS_TARGET_CORE ? gs_target_name(s->target) : NULL;
}

/* Every --peer and every core of each --snapshots DIR, in the order given; each snapshot
 * once. A DIR's copy of the primary (or of a snapshot already given) is passed over; a
 * --peer given twice, or naming the primary, is bad input. */
static int collect(gs_session *s, const gs_cmdline *cl, gs_peers *ps, char **errmsg)
{
	const char *prim = primary_core(s);
	for (size_t i = 0; i < cl->nitems; i++) {
		const gs_item *it = &cl->items[i];
		if (!it->opt)
			continue;
		if (strcmp(it->opt->name, "--peer") == 0) {
			const char *core = it->v2 ? it->v2 : it->v1; /* --peer CORE or --peer EXE CORE */
			char msg[2200];
			for (size_t k = 0; k <= ps->n; k++) {
				const char *other = k < ps->n ? ps->p[k].core : prim;
				if (other && same_file(core, other)) {
					snprintf(msg, sizeof msg, "%s: the same core as %s%s: give each "
						 "snapshot once", core, other, k < ps->n ? "" : " (the primary)");
					return fail(errmsg, 2, msg);
				}
			}
			if (!add(ps, it->v2 ? it->v1 : NULL, core))
				return fail(errmsg, 1, "out of memory");
		} else if (strcmp(it->opt->name, "--snapshots") == 0) {
			gs_snapref *v;
			size_t n;
			char err[1200];
			int rc = gs_snapdir_list(it->v1, &v, &n, err, sizeof err);
			if (rc != 0)
				return fail(errmsg, rc, err);
			for (size_t j = 0; j < n; j++) {
				bool dup = prim && same_file(v[j].core, prim);
				for (size_t k = 0; k < ps->n && !dup; k++)
					dup = same_file(v[j].core, ps->p[k].core);
				if (!dup && !add(ps, v[j].exe, v[j].core)) {
					gs_snapdir_free(v, n);
					return fail(errmsg, 1, "out of memory");
				}
			}
			gs_snapdir_free(v, n);
		}
	}
	return 0;
}

/* A peer's damage is the answer's too: its warnings, named after it. */
typedef struct warn_ctx {
	gs_session *s;
	const char *name; /* NULL: "peer" alone (one peer, as before several were followed) */
} warn_ctx;

static void peer_warning(void *ctx, const char *msg)
{
	warn_ctx *w = ctx;
	char m[2400];
	if (w->name)
		snprintf(m, sizeof m, "peer %s: %s", w->name, msg);
	else
		snprintf(m, sizeof m, "peer: %s", msg);
	gs_session_warn(w->s, m);
}

/* donors: the sessions open so far (the primary, the peers before p), whose executables p
 * may share. */
static int open_one(gs_session *s, gs_peer *p, gs_session *const *donors, size_t ndonors,
		    bool named, char **errmsg)
{
	gs_open_options po = {0};
	po.exe = p->exe;
	po.core = p->core;
	po.want_grpc = 1;
	po.progress = s->progress; /* a compressed peer core says how it goes too */
	po.progress_ctx = s->progress_ctx;
	char msg[1024];
	int st;
	gs_err e = {0};
	p->s = gs_open_sharing(&po, donors, ndonors, &st, msg, sizeof msg);
	if (!p->s)
		return fail(errmsg, st, msg);
	/* As for the primary: stacks and waits while the heap scan runs. */
	gs_session_grpc_begin(p->s);
	gs_diagnose_prepare(p->s->rt);
	p->g = gs_session_grpc_linked(p->s, &e);
	if (!p->g)
		return fail(errmsg, 1, e.msg);
	warn_ctx w = {s, named ? p->core : NULL};
	gs_session_warnings(p->s, peer_warning, &w);
	/* Its models are built: its page cache goes now, not once every peer is open (N
	 * snapshots would hold N caches at once). */
	gs_session_models_built(p->s);
	return 0;
}

int gs_peers_open(gs_session *s, const gs_cmdline *cl, gs_peers *out, char **errmsg)
{
	memset(out, 0, sizeof *out);
	int rc = collect(s, cl, out, errmsg);
	if (!rc && s) {
		gs_session **donors = gs_calloc(out->n + 1, sizeof *donors, NULL);
		if (!donors) {
			gs_peers_close(out);
			return fail(errmsg, 1, "out of memory");
		}
		donors[0] = s;
		for (size_t i = 0; i < out->n && !rc; i++) {
			rc = open_one(s, &out->p[i], donors, i + 1, out->n > 1, errmsg);
			donors[i + 1] = out->p[i].s;
		}
		free(donors);
	}
	if (rc || !s)
		gs_peers_close(out);
	return rc;
}

void gs_peers_close(gs_peers *ps)
{
	/* the last first: a peer may use its executable from one opened before it */
	for (size_t i = ps->n; i-- > 0;) {
		gs_close(ps->p[i].s);
		free(ps->p[i].exe);
		free(ps->p[i].core);
	}
	free(ps->p);
	memset(ps, 0, sizeof *ps);
}
