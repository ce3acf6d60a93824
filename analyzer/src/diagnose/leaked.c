/* Goroutines the runtime itself found leaked. Go 1.26+'s GC can look for goroutines blocked
 * on channels or sync objects that nothing runnable can reach any more (the goroutineleak
 * profile asks for such a GC; in 1.26 only with GOEXPERIMENT=goroutineleakprofile) and
 * marks them _Gleaked until the next such GC. That is the runtime's finding, not ours: it is
 * shown as what the runtime marked, with what the goroutine waits on. */
#include <stdio.h>
#include <string.h>

#include "diag_internal.h"

static const char *what(enum gs_wait_kind k)
{
	switch (k) {
	case GS_WAIT_CHAN_RECV: return "receive on chan";
	case GS_WAIT_CHAN_SEND: return "send on chan";
	case GS_WAIT_SELECT_RECV: return "select receive on chan";
	case GS_WAIT_SELECT_SEND: return "select send on chan";
	case GS_WAIT_SEMA: return "semaphore of sync object";
	default: return NULL;
	}
}

void gs_leaked_rule(gs_diag *d, gs_goroutine *gr, gs_verdict *v)
{
	bool grpc = v->stream >= 0 || strcmp(v->code, "unknown") != 0;
	if (!grpc) {
		/* No gRPC rule explains it: the runtime's word is the verdict. */
		v->code = "leaked";
		gs_verdict_set_summary(v, "the runtime marked it leaked: blocked (%s) on what no goroutine that can "
			 "still run refers to",
			 *gs_rt_wait_reason(d->rt, gr) ? gs_rt_wait_reason(d->rt, gr) : "waiting");
	}
	gs_verdict_evidence(v, "status _Gleaked: set by the runtime's goroutine leak detection "
			    "(a GC that found its wait objects unreachable from runnable goroutines)");
	size_t nw;
	const gs_waitobj *w = gs_rt_waits(d->rt, gr, &nw);
	for (size_t k = 0; !grpc && k < nw; k++)
		if (what(w[k].kind))
			gs_verdict_evidence(v, "waits: %s 0x%llx", what(w[k].kind),
					    (unsigned long long)w[k].addr);
}
