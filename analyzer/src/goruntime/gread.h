/* Reading the goroutine structs (runtime.g) of runtime.allgs.
 *
 * They are read in address order, neighbours in one copy (read through the core's mapping
 * they would pull most of the heap into the process's memory: tens of thousands of g's lie
 * scattered between other objects of their size class), on two threads for a core.
 *
 * On a core the reading starts before the runtime's layout is known: the ELF symbols give
 * runtime.allgs and the size of a g (runtime.g0's), so a worker copies the g's while the
 * caller reads DWARF, and they are parsed once the layout agrees.
 */
#ifndef GS_GORUNTIME_GREAD_H
#define GS_GORUNTIME_GREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* More would be a corrupt runtime.allgs. */
#define GS_MAX_GOROUTINES (16u << 20)

/* Parses gs[i] for every readable ptrs[i] of the n, ok[i] set for those read; -1 when out
 * of memory. */
int gs_gread_all(gs_rt *rt, const uint64_t *ptrs, uint64_t n, size_t gsize, gs_goroutine *gs,
		 bool *ok, gs_err *err);

typedef struct gs_gread gs_gread;
/* Starts copying the g's on a worker (core targets; NULL otherwise). The target's backing
 * files must be in place. */
gs_gread *gs_gread_start(gs_rt *rt);
/* The layout is known: allgs found at this address and a g of gsize bytes. When they are
 * what the worker assumed, the g's it reads from now on are parsed at once; otherwise it
 * stops. */
void gs_gread_layout(gs_gread *p, uint64_t allgs, size_t gsize);
/* Checks the g's fields parse_g reads against the resolved layout, once (before
 * gs_gread_layout hands the layout to the read-ahead). */
void gs_gread_plan(gs_rt *rt);
/* Reads the runs the worker has not reached and waits for it. When what it read is what
 * the layout describes (allgs at this address with this header and these pointers, g's of
 * gsize bytes), returns the g's parsed (an array of hdr[1], owned by the caller; ok[i] as
 * above). NULL: read them afresh. */
gs_goroutine *gs_gread_take(gs_gread *p, uint64_t allgs, const uint64_t hdr[3],
			    const uint64_t *ptrs, size_t gsize, bool *ok);
void gs_gread_free(gs_gread *p);

#endif
