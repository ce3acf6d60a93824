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

enum gs_transport_state { GS_TS_REACHABLE = 0, GS_TS_CLOSING = 1, GS_TS_DRAINING = 2 };
enum gs_stream_state { GS_SS_ACTIVE = 0, GS_SS_WRITE_DONE = 1, GS_SS_READ_DONE = 2, GS_SS_DONE = 3 };
enum gs_outstream_state { GS_OS_ACTIVE = 0, GS_OS_EMPTY = 1, GS_OS_WAITING_ON_QUOTA = 2 };
enum gs_goaway_reason { GS_GOAWAY_NONE = 0, GS_GOAWAY_NO_REASON = 1, GS_GOAWAY_TOO_MANY_PINGS = 2 };

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
