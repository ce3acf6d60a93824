#include "plausible_transport.h"

#include <stdio.h>

#include "../goruntime/constants.h"

/* HTTP/2 windows and stream ids are 31-bit (RFC 9113 6.9.1, 5.1.1). */
#define H2_MAX ((uint64_t)0x7fffffff)

static bool why_not(const gs_transport *t, char *why, size_t n)
{
	if (t->state < 0 || t->state >= GS_TR_NSTATES) {
		snprintf(why, n, "state %lld is none of grpc-go's", (long long)gs_consts_raw(t->state));
		return true;
	}
	if (t->conn_in_known && (t->conn_in_limit > H2_MAX || t->conn_in_unacked > H2_MAX)) {
		snprintf(why, n, "inbound window %u, %u unacked: beyond HTTP/2's 2^31-1",
			 t->conn_in_limit, t->conn_in_unacked);
		return true;
	}
	if (t->side != GS_CLIENT)
		return false;
	if (t->next_id > H2_MAX + 2 || (t->next_id && !(t->next_id & 1))) {
		snprintf(why, n, "next stream id %u is no client stream id", t->next_id);
		return true;
	}
	if (t->stream_quota > (int64_t)t->max_concurrent || t->stream_quota < -(int64_t)H2_MAX) {
		snprintf(why, n, "stream quota %lld beyond the peer's limit of %u",
			 (long long)t->stream_quota, t->max_concurrent);
		return true;
	}
	return false;
}

bool gs_stream_implausible(const gs_stream *st, char *why, size_t n)
{
	/* Every stream of a gRPC connection is opened by the client: odd ids (RFC 9113 5.1.1). */
	if (st->id == 0 || st->id > H2_MAX || !(st->id & 1)) {
		snprintf(why, n, "stream id %u is no client-opened HTTP/2 stream id", st->id);
		return true;
	}
	if (st->state >= GS_STREAM_NSTATES) {
		snprintf(why, n, "state %u is none of grpc-go's", (unsigned)gs_consts_raw(st->state));
		return true;
	}
	return false;
}

void gs_transport_check(gs_transport *tr)
{
	char why[120];
	if (!why_not(tr, why, sizeof why))
		return;
	tr->implausible = true;
	tr->unreadable = tr->addr;
	snprintf(tr->problem, sizeof tr->problem, "implausible (damaged memory?): %s", why);
}
