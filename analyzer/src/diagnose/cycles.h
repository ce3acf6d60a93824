/* Cycles of the wait-for graph: goroutines that, through their verdicts' chains, end up
 * waiting on themselves (a client waiting for its in-process server's reply while that
 * handler waits for the client's next message). None of them moves until something outside
 * the cycle breaks it — a deadline, a cancel, a closed connection — so each is a finding of
 * its own, beside the verdicts.
 *
 * Nodes are verdicts, edges their chains (blamed goroutines that have a verdict too) except
 * the links to goroutines merely parked on the same object (gs_verdict.co). The strongly connected components are found in one linear pass (Tarjan's, iteratively); each
 * component of two or more goroutines is one cycle finding: one elementary cycle through it,
 * in order, and the component's other members, if any. */
#ifndef GS_DIAGNOSE_CYCLES_H
#define GS_DIAGNOSE_CYCLES_H

#include <stdbool.h>
#include <stddef.h>

#include "verdicts.h"

typedef struct gs_cycle {
	const size_t *members; /* verdict indices: each waits on the next, the last on the first */
	size_t n;
	const size_t *others;  /* more verdicts of the same component, not on this cycle */
	size_t nothers;
} gs_cycle;

typedef struct gs_cycles {
	gs_cycle *c;           /* ordered by their first member's goroutine id */
	size_t n;
	long *comp;            /* comp[verdict index]: its component */
	size_t *store;
	bool nomem;            /* out of memory: no cycles found (the caller's answer fails) */
} gs_cycles;

/* Finds the cycles of dg's chains: O(n log n) in verdicts, linear in chain entries.
 * Out of memory: none found and out->nomem set.
 * Canonical order: a cycle starts at its member whose (verdict, stream side, method,
 * goroutine id) is least, so that cycles of the same shape read alike. */
void gs_find_cycles(const gs_grpc *g, const gs_diagnosis *dg, gs_cycles *out);
/* Whether the edge from verdict a to verdict b lies on a cycle (both in one component). */
bool gs_cycles_edge(const gs_cycles *c, size_t a, size_t b);
void gs_cycles_free(gs_cycles *c);

#endif
