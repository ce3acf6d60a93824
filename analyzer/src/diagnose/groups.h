/* Verdicts grouped by root cause: verdicts that say the same thing (same code, method,
 * blocking location and next hop) form one group, and groups are ordered by how many
 * goroutines wait on them, directly or through chains, so that root causes come first.
 * A large snapshot has tens of thousands of verdicts but a handful of groups. */
#ifndef GS_DIAGNOSE_GROUPS_H
#define GS_DIAGNOSE_GROUPS_H

#include "verdicts.h"

typedef struct gs_vgroup {
	const size_t *members; /* indices into the diagnosis' verdicts, by goroutine id */
	size_t n;
	size_t blocks;         /* goroutines in the group or whose chain reaches it */
	const char *code;
	const char *method;    /* the stream's method, or NULL */
	const char *reason;    /* wait reason, else status name ("" without a goroutine) */
	const gs_frame *top;   /* the first member's top user frame, or NULL */
	long next;             /* the group of the first member's nearest blamed goroutine, or -1 */
} gs_vgroup;

typedef struct gs_vgroups {
	gs_vgroup *g;
	size_t n;
	size_t *group_of;      /* group_of[verdict index] */
	size_t *store;         /* members of every group */
	uint64_t *ids;         /* verdicts' goroutine ids, sorted, with ... */
	size_t *ids_at;        /* ... the verdict index of each */
	size_t nids;
} gs_vgroups;

/* Groups dg's verdicts: O(n log n) in verdicts, no strings built. */
/* -1 when out of memory (out is then empty). */
int gs_group_verdicts(gs_rt *rt, const gs_grpc *g, const gs_diagnosis *dg, gs_vgroups *out);
void gs_vgroups_free(gs_vgroups *gr);
/* The index of goroutine goid's verdict, or -1. */
long gs_vgroups_verdict(const gs_vgroups *gr, uint64_t goid);

#endif
