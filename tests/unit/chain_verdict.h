/* A hand-built verdict for tests of chains across snapshots (test_across, test_diag_*). */
#ifndef GS_TEST_CHAIN_VERDICT_H
#define GS_TEST_CHAIN_VERDICT_H

#include <stdlib.h>
#include <string.h>

#include "gs_check.h"
#include "../../analyzer/src/diagnose/verdicts.h"

/* Appends verdict goid (code) to d, blaming goroutine to_goid of snapshot to_snap (to_goid
 * 0: nothing) and the in-process goroutine local (0: none). */
static inline gs_verdict *chain_verdict(gs_diagnosis *d, uint64_t goid, const char *code,
					size_t to_snap, uint64_t to_goid, uint64_t local)
{
	d->v = realloc(d->v, (d->n + 1) * sizeof *d->v);
	ck_assert_ptr_nonnull(d->v);
	gs_verdict *v = &d->v[d->n++];
	memset(v, 0, sizeof *v);
	v->goid = goid;
	v->code = code;
	v->stream = -1;
	if (to_goid) {
		v->peer_chain = malloc(sizeof *v->peer_chain);
		v->peer_snap = malloc(sizeof *v->peer_snap);
		v->peer_chain[0] = to_goid;
		v->peer_snap[0] = to_snap;
		v->npeer_chain = 1;
	}
	if (local) {
		v->chain = malloc(sizeof *v->chain);
		v->chain[0] = local;
		v->nchain = 1;
	}
	return v;
}

#endif
