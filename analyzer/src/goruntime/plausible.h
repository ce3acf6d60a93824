/* Plausibility of the goroutine structs read from runtime.allgs.
 *
 * Memory corrupted by the bug being chased (or a damaged core) can hold anything where a g
 * should be; such a g must be named as implausible, never listed with its garbage. Each g
 * read is checked against what the runtime guarantees: its status is one of the runtime's,
 * its goid is positive, at most runtime.sched.goidgen and used by no other live g, its
 * stack bounds are ordered, of a possible size and inside the target's memory, and a parked
 * g's saved pc is in the text and its saved sp on its stack, its wait reason one the
 * binary knows and its wait start a possible clock reading.
 */
#ifndef GS_GORUNTIME_PLAUSIBLE_H
#define GS_GORUNTIME_PLAUSIBLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef struct gs_plausible gs_plausible;

/* Checks every gs[i] with ok[i] (ptrs[i] its address), clears ok[i] for those that fail
 * and remembers them with the reason (the model lists them with the unreadable ones); -1
 * when out of memory. */
int gs_plausible_check(gs_rt *rt, const uint64_t *ptrs, size_t n, const gs_goroutine *gs,
		       bool *ok, gs_err *err);

/* How many g's were found implausible. */
size_t gs_rt_implausible(const gs_rt *rt);
/* Why the g at addr was found implausible, or NULL when it was not (or is not among the
 * first GS_MAX_UNREADABLE_GS, whose reasons are kept). */
const char *gs_rt_implausible_reason(const gs_rt *rt, uint64_t addr);
void gs_plausible_free(gs_rt *rt);

#endif
