/* Private helpers of the diagnose layer. */
#ifndef GS_DIAGNOSE_INTERNAL_H
#define GS_DIAGNOSE_INTERNAL_H

#include "verdicts.h"

typedef struct gs_diag gs_diag;
struct gs_diag {
	gs_rt *rt;
	gs_grpc *g;
	long *peer;            /* per stream */
	uint64_t **holders;    /* per stream: goroutines whose stack references it (lazy) */
	size_t *nholders;
	bool *holders_done;
	struct gs_handler_ix { uint64_t goid; long stream; } *handlers; /* sorted by goid */
	size_t nhandlers;
	/* Every snapshot of the set (--peer, --snapshots) and this one's place in it; the other
	 * snapshots' diagnosis states, reached by rsnap. set NULL: a snapshot alone. */
	gs_diag *set;
	size_t nset, self;
	/* Goroutines parked on each semaphore / channel (plain send or receive), by address:
	 * built on first use, sorted by address. */
	struct gs_parked { uint64_t addr, goid; bool sema; } *parked;
	size_t nparked;
	bool parked_built;
	long *rpeer;           /* per stream: the paired stream in another snapshot, or -1 */
	int32_t *rsnap;        /* per stream: which snapshot of the set holds rpeer, or -1 */
	/* How each stream was paired (enum gs_pair_how), in this snapshot and with the remote
	 * one; for GS_PAIR_AMBIGUOUS, how many transports looked alike. */
	uint8_t *how, *rhow;
	uint16_t *nalike, *rnalike;
	bool nomem; /* something was dropped for want of memory: the diagnosis fails */
	bool brief;            /* verdicts judged without summary and evidence */
	/* Which function names hold which needle (rules.c): tens of thousands of stacks
	 * repeat a few hundred functions. Built on first use; NULL: none yet. */
	struct gs_fn_memo { const char *fn, *needle; bool has; } *fn_memo;
};

enum gs_pair_how {
	GS_PAIR_NONE,      /* no transport at the other end found */
	GS_PAIR_ADDRESS,   /* the only transport with the mirrored addresses (TCP) */
	GS_PAIR_PIPE,      /* the other end of the same in-memory pipe */
	GS_PAIR_STATE,     /* one of several on the same addresses (a unix socket path): the only
			    * one whose streams, ids, methods and windows agree */
	GS_PAIR_AMBIGUOUS, /* several look alike: not paired */
};

/* The stream whose handler goroutine is goid, or -1. */
long gs_handled_stream(gs_diag *d, uint64_t goid);

/* pairing.c */
void gs_pair_streams(gs_diag *d);
/* The goroutines parked on the object at addr: [*first, *first + return value). */
size_t gs_parked_on(gs_diag *d, uint64_t addr, const struct gs_parked **first);
/* Pairs streams across every two snapshots of the set (set[0..n), each with its own
 * rpeer/rsnap/rhow/rnalike); a stream that several snapshots could hold the other end of is
 * ambiguous, never paired twice. */
void gs_pair_set(gs_diag *set, size_t n);
/* The snapshot holding the other end of stream si, when it is in another snapshot. */
static inline gs_diag *gs_remote(gs_diag *d, long si)
{
	return d->set && d->rsnap && si >= 0 && d->rsnap[si] >= 0 ? &d->set[d->rsnap[si]] : NULL;
}
/* The goroutines that act for stream si: its handler, those waiting to receive or send on
 * it, else those holding it on their stack. */
size_t gs_stream_principals(gs_diag *d, long si, uint64_t *out, size_t max);

/* across.c: every verdict's path through the other snapshots of the set dg[0..n). */
/* False when out of memory. */
bool gs_chains_across(gs_diagnosis *dg, size_t n);

/* rules.c */
void gs_judge(gs_diag *d, gs_goroutine *gr, gs_verdict *v, bool reached);
/* Whether a goroutine is one why-blocked reports by default. */
bool gs_is_grpc_blocked(gs_diag *d, gs_goroutine *gr);

/* rules_hangs.c: the throttled reader and the loopy writer stuck on its socket, a server
 * stopping while handlers run, abandoned streams (findings, and evidence where they explain
 * a verdict). */
bool gs_hang_blocked(gs_diag *d, gs_goroutine *gr);
bool gs_hang_rule(gs_diag *d, gs_goroutine *gr, gs_verdict *v);
void gs_stop_rule(gs_diag *d, gs_goroutine *gr, gs_verdict *v);
void gs_evidence_abandoned(gs_diag *d, gs_verdict *v, long si);
void gs_hang_findings(gs_diag *d, gs_diagnosis *out);
/* keepalive_rules.c: keepalive and too_many_pings evidence for a verdict about a stream
 * (called once the verdict's rule has run). */
void gs_keepalive_rules(gs_diag *d, gs_goroutine *gr, gs_verdict *v);

void gs_verdict_evidence(gs_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gs_verdict_blame(gs_verdict *v, uint64_t goid);
/* The verdict's summary (malloc'd until the diagnosis pools it), set anew or appended to;
 * cut at GS_SUMMARY_MAX - 1 bytes. */
void gs_verdict_set_summary(gs_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gs_verdict_add_summary(gs_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* leaked.c: what the runtime's leak detection marked (_Gleaked): the verdict `leaked` for a
 * goroutine no gRPC rule explains, evidence on the gRPC verdict of one that a rule does. */
void gs_leaked_rule(gs_diag *d, gs_goroutine *gr, gs_verdict *v);
/* Blames a goroutine parked on the same object (see gs_verdict.co). */
void gs_verdict_blame_co(gs_verdict *v, uint64_t goid);
/* Blames goroutine goid of the snapshot r (another one of the set). */
void gs_verdict_blame_peer(gs_verdict *v, const gs_diag *r, uint64_t goid);

#endif
