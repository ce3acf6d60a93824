#include "states.h"

#include <stddef.h>

const char *gs_stream_state_name(uint32_t s)
{
	static const char *const n[] = {"active", "write-done", "read-done", "done"};
	return s <= GS_SS_DONE ? n[s] : "unknown";
}

const char *gs_stream_state_meaning(uint32_t s)
{
	static const char *const n[] = {"open both ways", "we sent END_STREAM",
					"peer sent END_STREAM", "finished"};
	return s <= GS_SS_DONE ? n[s] : NULL;
}

const char *gs_transport_state_name(int64_t s)
{
	static const char *const n[] = {"reachable", "closing", "draining"};
	return s >= GS_TS_REACHABLE && s <= GS_TS_DRAINING ? n[s] : "unknown";
}

const char *gs_outstream_state_name(int64_t s)
{
	static const char *const n[] = {"active", "empty", "waiting-on-stream-quota"};
	return s >= GS_OS_ACTIVE && s <= GS_OS_WAITING_ON_QUOTA ? n[s] : "unknown";
}

const char *gs_outstream_state_meaning(int64_t s)
{
	static const char *const n[] = {"has data and window", "nothing queued",
					"waiting for the peer's WINDOW_UPDATE"};
	return s >= GS_OS_ACTIVE && s <= GS_OS_WAITING_ON_QUOTA ? n[s] : "?";
}

const char *gs_goaway_reason_name(uint32_t r)
{
	static const char *const n[] = {"none", "no-reason", "too-many-pings"};
	return r <= GS_GOAWAY_TOO_MANY_PINGS ? n[r] : "?";
}
