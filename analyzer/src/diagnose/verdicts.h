/* why-blocked: verdicts with evidence, and the wait-for graph.
 *
 * Rules turn the facts of the runtime and gRPC models into one verdict per goroutine, each
 * with the evidence it rests on and the goroutines it blames next (the chain). A rule that
 * lacks evidence does not fire; a goroutine blocked in or on gRPC that no rule explains gets
 * `unknown` with what was seen. Verdict codes are part of the JSON contract:
 * peer-silent, send-flow-control, stream-quota, no-ready-transport, transport-closing,
 * reader-throttled, writer-blocked, handler-blocked, app-not-reading, context-done, unknown,
 * and leaked (the runtime's goroutine leak detection marked it; leaked.c).
 * Findings are what hangs without a goroutine of its own to judge; their codes are part of
 * the contract too: abandoned-stream.
 */
#ifndef GS_DIAGNOSE_VERDICTS_H
#define GS_DIAGNOSE_VERDICTS_H

#include <stdbool.h>
#include <stdint.h>

#include "../goruntime/model.h"
#include "../grpc/grpc_model.h"
#include "../util/strpool.h"

#define GS_SUMMARY_MAX 400

/* One goroutine on a chain through the snapshots of a set: which snapshot, which goroutine,
 * its verdict (NULL: none was judged) and its verdict's stream in that snapshot (or -1). */
typedef struct gs_hop {
	size_t snap;
	uint64_t goid;
	const char *code;
	long stream;
} gs_hop;

typedef struct gs_verdict {
	uint64_t goid;
	const char *code;
	/* One line, at most GS_SUMMARY_MAX - 1 bytes (longer ones are cut). Owned by the
	 * verdict while it is judged, then the diagnosis' evidence_pool's (summary_pooled):
	 * tens of thousands of verdicts share a handful of summaries. */
	char *summary;
	bool summary_pooled;
	long stream;          /* index into the gRPC model's streams, or -1 */
	char **evidence;
	size_t nevidence;
	size_t npooled;       /* evidence[0 .. npooled) is the diagnosis' evidence_pool's */
	uint64_t *chain;      /* blamed goroutines, nearest first */
	size_t nchain;
	/* co[i]: chain[i] is parked on the same object as this goroutine (named because Go
	 * records no mutex owner or would-be sender), not one it waits for; NULL when none is.
	 * Such links are no edges of the wait-for graph: two goroutines on one channel are no
	 * cycle. */
	bool *co;
	uint64_t *peer_chain; /* blamed goroutines in other snapshots (--peer) */
	size_t *peer_snap;    /* peer_snap[i]: the snapshot (index in the set) of peer_chain[i] */
	size_t npeer_chain;
	/* With other snapshots: the path from this goroutine to the end of its chain, from its
	 * first step into another snapshot on (nearest first; a goroutine is never visited
	 * twice, so cycles across processes end). */
	gs_hop *across;
	size_t nacross;
	bool reached;         /* not asked for: reached through another verdict's chain */
	bool nomem;           /* evidence or chain dropped for want of memory */
	/* Live sampling: the goroutine moved between samples. Only a chain step (reached) can
	 * be: it is where a stuck chain meets something that runs, not the chain's end. */
	bool progressing;
	/* Judged for the grouped text, which prints one member's words per group: no summary
	 * or evidence built (gs_diagnose_set_grouped judges the members that speak again). */
	bool brief;
} gs_verdict;

typedef struct gs_diagnosis {
	gs_verdict *v;
	size_t n;
	long *peer;           /* peer[i]: the paired stream of stream i in this snapshot, or -1 */
	long *rpeer;          /* rpeer[i]: the paired stream in snapshot rsnap[i] of the set, or -1 */
	int32_t *rsnap;
	/* Findings: what hangs without a goroutine of its own to judge (an abandoned stream).
	 * code names the finding, goid is 0, chain holds the goroutines it concerns. */
	gs_verdict *findings;
	size_t nfindings;
	gs_strpool evidence_pool; /* owns the verdicts' summaries and evidence once judged */
	/* The verdicts' groups when the diagnosis made them (gs_diagnose_set_grouped), owned;
	 * else NULL and renderers group themselves. */
	struct gs_vgroups *groups;
} gs_diagnosis;

/* What the rules read of every goroutine without the gRPC model (full stacks, waits),
 * computed up front: called between gs_session_grpc_begin and gs_session_grpc, it runs
 * while the heap is scanned for transports, and no goroutine is unwound twice. */
void gs_diagnose_prepare(gs_rt *rt);

/* With a second snapshot of the process at the other end of some connections (client core
 * and server core of one incident): connections are paired across the two by their socket
 * addresses, chains continue into the peer (peer_chain), and the peer's goroutines get
 * verdicts of their own in peer_out. */
int gs_diagnose_pair(gs_rt *rt, gs_grpc *g, gs_rt *prt, gs_grpc *pg, const uint64_t *goids,
		     size_t n, gs_diagnosis *out, gs_diagnosis *peer_out, gs_err *err);

/* The same over any number of snapshots (rt[0], g[0] first: the goroutines asked for are
 * its); connections are paired across every two of them, chains follow streams through all
 * (client -> gateway -> backend ...), every verdict gets its `across` path, and out[i] is
 * snapshot i's diagnosis. */
int gs_diagnose_set(gs_rt *const *rt, gs_grpc *const *g, size_t n, const uint64_t *goids,
		    size_t ngoids, gs_diagnosis *out, gs_err *err);

/* The same for the grouped text: verdicts carry no summary or evidence (brief) except the
 * first member of each group, which the diagnosis groups (out[i].groups). Codes, streams,
 * chains and groups are those gs_diagnose_set gives; the labels filter must not follow. */
int gs_diagnose_set_grouped(gs_rt *const *rt, gs_grpc *const *g, size_t n,
			    const uint64_t *goids, size_t ngoids, gs_diagnosis *out, gs_err *err);

/* Diagnoses the given goroutines, or (n == 0) every goroutine that waits in gRPC or on a
 * gRPC object, then every goroutine their chains reach. */
int gs_diagnose(gs_rt *rt, gs_grpc *g, const uint64_t *goids, size_t n, gs_diagnosis *out,
		gs_err *err);
/* What one verdict owns (pooled strings stay with the diagnosis). */
void gs_verdict_free(gs_verdict *v);
void gs_diagnosis_free(gs_diagnosis *d);

#endif
