#include "states.h"

#include <stdio.h>

#include "grpc_model.h"

#include <stddef.h>

const char *gs_stream_state_name(uint32_t s)
{
	static const char *const n[] = {"active", "write-done", "read-done", "done"};
	return s <= GS_STREAM_DONE ? n[s] : "unknown";
}

const char *gs_stream_state_meaning(uint32_t s)
{
	static const char *const n[] = {"open both ways", "we sent END_STREAM",
					"peer sent END_STREAM", "finished"};
	return s <= GS_STREAM_DONE ? n[s] : NULL;
}

const char *gs_transport_state_name(int64_t s)
{
	static const char *const n[] = {"reachable", "closing", "draining"};
	return s >= GS_TR_REACHABLE && s <= GS_TR_DRAINING ? n[s] : "unknown";
}

const char *gs_outstream_state_name(int64_t s)
{
	static const char *const n[] = {"active", "empty", "waiting-on-stream-quota"};
	return s >= GS_OS_ACTIVE && s <= GS_OS_WAITING_QUOTA ? n[s] : "unknown";
}

const char *gs_outstream_state_meaning(int64_t s)
{
	static const char *const n[] = {"has data and window", "nothing queued",
					"waiting for the peer's WINDOW_UPDATE"};
	return s >= GS_OS_ACTIVE && s <= GS_OS_WAITING_QUOTA ? n[s] : "?";
}

const char *gs_goaway_reason_name(uint32_t r)
{
	static const char *const n[] = {"none", "no-reason", "too-many-pings"};
	return r <= GS_GOAWAY_TOO_MANY_PINGS ? n[r] : "?";
}

/* Pure functions of what the model read (no target): here, so that hand-built models link. */
bool gs_keepalive_on(const gs_transport *t)
{
	if (t->side == GS_CLIENT)
		return t->keepalive_enabled;
	return t->ka.time > 0 && t->ka.time != GS_INFINITY;
}

void gs_fmt_duration(int64_t ns, char *buf, size_t cap)
{
	if (ns < 0) {
		snprintf(buf, cap, "?");
		return;
	}
	if (ns == GS_INFINITY) {
		snprintf(buf, cap, "infinity");
		return;
	}
	if (ns < 1000000000LL) {
		if (ns % 1000000 == 0)
			snprintf(buf, cap, "%lldms", (long long)(ns / 1000000));
		else
			snprintf(buf, cap, "%.3fms", (double)ns / 1e6);
		return;
	}
	long long h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
	int64_t sns = ns % 60000000000LL;
	char sec[32];
	if (sns % 1000000000LL == 0)
		snprintf(sec, sizeof sec, "%llds", (long long)(sns / 1000000000LL));
	else
		snprintf(sec, sizeof sec, "%gs", (double)sns / 1e9);
	if (h)
		snprintf(buf, cap, "%lldh%lldm%s", h, m, sec);
	else if (m)
		snprintf(buf, cap, "%lldm%s", m, sec);
	else
		snprintf(buf, cap, "%s", sec);
}
