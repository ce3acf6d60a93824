/* Plausibility of a transport, and of its streams, read from the heap: memory corrupted by the bug being
 * chased must not become a transport with garbage numbers. grpc-go's own limits bound every
 * value: its state is one of three, HTTP/2 windows fit in 31 bits, a client's stream ids are
 * odd and below 2^31, its stream quota is at most the peer's limit. */
#ifndef GS_GRPC_PLAUSIBLE_TRANSPORT_H
#define GS_GRPC_PLAUSIBLE_TRANSPORT_H

#include "grpc_model.h"

/* Checks tr; when a value is impossible marks it implausible (tr->implausible, the reason
 * in tr->problem) and makes what rests on it unreadable (tr->unreadable = tr->addr). */
void gs_transport_check(gs_transport *tr);

/* Why a stream cannot be one of grpc-go's (its id is not an odd 31-bit number, its state
 * none of the four), in why; false when it can be. */
bool gs_stream_implausible(const gs_stream *st, char *why, size_t n);

#endif
