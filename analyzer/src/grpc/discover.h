/* Finding grpc-go transports in a snapshot without DWARF locals.
 *
 * Every live transport is held through an interface somewhere in the heap: the client's
 * addrConn.transport and each call attempt's transport (ClientTransport), the server's
 * conns set and every server stream's st (ServerTransport / internalServerTransport). An
 * interface value is the pair {itab, data}, and Go registers every itab in
 * runtime.itabTable at start-up (static ones) or on first conversion (dynamic ones). So:
 * the itabs whose dynamic type is *http2Client or *http2Server are taken from itabTable,
 * the runtime's heap walk (goruntime/heapwalk.h: in-use, pointer-holding spans) hands over
 * the heap, words equal to one of them are matched here, and the word after each is a
 * candidate transport. Candidates are
 * validated by an invariant (controlBuf.done is the transport's own done channel) and
 * deduplicated. This works the same on Go 1.27, which has no go:itab symbols.
 */
#ifndef GS_GRPC_DISCOVER_H
#define GS_GRPC_DISCOVER_H

#include "../goruntime/iface.h"
#include "../goruntime/model.h"

#define GS_MAX_UNREADABLE_TRANSPORTS 16

typedef struct gs_unreadable_transport {
	uint64_t addr; /* the candidate */
	uint64_t at;   /* the address that could not be read */
	bool server;
} gs_unreadable_transport;

typedef struct gs_found_transports {
	uint64_t *client, *server;
	size_t nclient, nserver;
	uint64_t *client_holders; /* where client itab words were found */
	size_t nclient_holders;
	size_t candidates;   /* words found before validation (diagnostics) */
	/* candidates that could be transports but whose memory is unreadable */
	gs_unreadable_transport unreadable[GS_MAX_UNREADABLE_TRANSPORTS];
	size_t nunreadable;
	size_t ranges_scanned; /* runs of adjacent spans, each read at once */
	uint64_t bytes_scanned;
	bool nomem; /* a candidate was dropped for want of memory */
} gs_found_transports;

int gs_find_transports(gs_rt *rt, gs_types *ty, const gs_layout *gl, gs_found_transports *out,
		       gs_err *err);
/* The same in two steps: start begins the heap walk (on a core, a job of the executor lists
 * the spans and begins matching); finish joins in, waits for the walk and validates. The
 * caller may read the target in between (the walk only copies memory with bulk reads);
 * every start needs a finish. */
typedef struct gs_heap_scan gs_heap_scan;
/* NULL when out of memory. */
gs_heap_scan *gs_find_transports_start(gs_rt *rt, gs_types *ty, const gs_layout *gl);
int gs_find_transports_finish(gs_heap_scan *hs, gs_found_transports *out, gs_err *err);
void gs_found_transports_free(gs_found_transports *f);

#endif
