/* grpc-go's state values as the gRPC model reads them, with their names: the transport's
 * (http2Client.state / http2Server.state), a stream's (Stream.state), the loopy writer's
 * view of a stream (outStream.state) and a received GOAWAY's reason (goAwayReason).
 *
 * The values are grpc-go's own (internal/transport), the same in every version read
 * (1.33-1.81); the names are the ones every output prints. Renderers and rules use these
 * instead of bare numbers, so that a new value is added in one place. */
#ifndef GS_GRPC_STATES_H
#define GS_GRPC_STATES_H

#include <stdint.h>

/* The model's values: grpc-go's raw ones are translated into these through the constants
 * table (goruntime/constants.h, gs_grpc_state), in the same order as its groups. */
enum gs_stream_state { GS_STREAM_ACTIVE, GS_STREAM_WRITE_DONE, GS_STREAM_READ_DONE,
		       GS_STREAM_DONE, GS_STREAM_NSTATES };
enum gs_transport_state { GS_TR_REACHABLE, GS_TR_CLOSING, GS_TR_DRAINING, GS_TR_NSTATES };
enum gs_goaway_reason { GS_GOAWAY_NONE, GS_GOAWAY_NO_REASON, GS_GOAWAY_TOO_MANY_PINGS,
			GS_GOAWAY_NREASONS };
enum gs_outstream_state { GS_OS_ACTIVE, GS_OS_EMPTY, GS_OS_WAITING_QUOTA, GS_OS_NSTATES };
enum gs_conn_state { GS_CONN_IDLE, GS_CONN_CONNECTING, GS_CONN_READY,
		     GS_CONN_TRANSIENT_FAILURE, GS_CONN_SHUTDOWN, GS_CONN_NSTATES };

/* "active", "write-done", "read-done", "done"; "unknown" for any other value. */
const char *gs_stream_state_name(uint32_t s);
/* What a stream state means, in words ("open both ways"); NULL for an unknown value. */
const char *gs_stream_state_meaning(uint32_t s);
/* "reachable", "closing", "draining"; "unknown" for any other value. */
const char *gs_transport_state_name(int64_t s);
/* "active", "empty", "waiting-on-stream-quota"; "unknown" for any other value. */
const char *gs_outstream_state_name(int64_t s);
/* What the loopy writer's state means ("nothing queued"); "?" for an unknown value. */
const char *gs_outstream_state_meaning(int64_t s);
/* "none", "no-reason", "too-many-pings"; "?" for any other value. */
const char *gs_goaway_reason_name(uint32_t r);

#endif
