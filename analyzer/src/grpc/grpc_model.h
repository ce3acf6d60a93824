/* The gRPC model of one snapshot: grpc-go's transports and streams, their flow-control
 * state, and which goroutine waits on which of their objects.
 *
 * Facts only, read by field name through the gRPC manifest (grpc_fields.h). Transports are
 * found from the heap (interface values whose itab has *http2Client / *http2Server as its
 * dynamic type — see discover.c for why that root is complete); streams from each
 * transport's activeStreams map; the loopy writer's outStreams from estdStreams.
 */
#ifndef GS_GRPC_MODEL_H
#define GS_GRPC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "../goruntime/context.h"
#include "../goruntime/iface.h"
#include "../goruntime/model.h"
#include "../util/strbuf.h"
#include "discover.h"
#include "grpc_fields.h"
#include "states.h"

enum gs_side { GS_CLIENT = 0, GS_SERVER = 1 };

typedef struct gs_flow_in { /* transport.inFlow */
	bool known;
	uint32_t limit, pending_data, pending_update, delta;
} gs_flow_in;

/* The gRPC model's states. grpc-go's numbers (streamState, transportState, outStreamState,
 * connectivity.State) are translated into these when read (gs_grpc_state), through the
 * session's constants table (goruntime/constants.h); a number grpc-go does not have reads
 * as none of them (>= the group's count). */

typedef struct gs_outstream { /* the loopy writer's view of one stream */
	bool known;
	uint64_t addr;
	uint32_t id;
	int64_t state; /* enum gs_outstream_state */
	int64_t bytes_outstanding;
	uint64_t queued_items;
} gs_outstream;

typedef struct gs_stream {
	uint64_t addr;
	size_t transport;    /* index into the transports */
	enum gs_side side;
	uint32_t id;
	const char *method;  /* interned; "?" when unreadable */
	uint32_t state;      /* streamState: enum gs_stream_state */
	/* receive side */
	uint64_t recv_chan;  /* recvBuffer.c */
	uint64_t queued_messages; /* in recvBuffer.c plus backlog */
	bool recv_err;       /* recvBuffer.err set (EOF or error queued) */
	gs_flow_in in;
	/* send side */
	uint64_t wq_addr, wq_chan, wq_done;
	bool wq_known;
	int32_t wq_quota;
	gs_outstream out;
	/* client only */
	uint64_t done_chan, header_chan;
	bool header_received;
	bool has_status;     /* the final status is set (the stream has ended) */
	int32_t status_code;
	const char *status_message; /* interned, "" if none */
	/* server only */
	bool header_sent;
	/* server only */
	uint64_t ctx_done_chan;
	/* context: what ctx.Err() and ctx.Deadline() would say */
	bool ctx_known;
	struct {
		bool done, has_deadline;
		const char *err; /* interned, "" while not done */
		int64_t deadline_unix_ns;
	} ctx;
	/* goroutines that wait on the stream's objects or run its handler */
	uint64_t *goroutines;
	size_t ngoroutines;
	uint64_t handler;    /* server handler goroutine id, 0 if not found */
	const char *problem; /* what could not be read (interned), or "" */
	uint64_t unreadable; /* the first address of the stream's state that could not be read */
	/* Not in the transport's activeStreams (closed or reset by the transport) but still
	 * referenced by the handler goroutine that runs it. */
	bool detached;
	/* A client stream no goroutine refers to, open with its context not done (abandoned.c
	 * says what "refers" can see); set by gs_grpc_load_contexts. */
	bool abandoned;
} gs_stream;

/* Liveness and flow-control settings of a transport (keepalive.c). Durations in ns: -1 not
 * known (absent in this version, or implausible), GS_INFINITY for grpc-go's "infinity". */
#define GS_INFINITY INT64_MAX
typedef struct gs_keepalive {
	/* client: keepalive.ClientParameters; server: keepalive.ServerParameters */
	int64_t time, timeout;
	int8_t permit;         /* client PermitWithoutStream: -1 not known */
	int8_t dormant;        /* client kpDormant: pings paused for want of streams; -1 */
	int64_t max_idle, max_age, max_age_grace; /* server */
	/* server: keepalive.EnforcementPolicy and what it counted */
	int64_t min_time;
	int8_t enf_permit;
	int32_t ping_strikes;  /* -1 not known; above 2 grpc-go sent GOAWAY too_many_pings */
	/* unix ns of the last frame read: 0 none recorded (a client keeps it only with keepalive
	 * on), -1 not known */
	int64_t last_read;
	int8_t bdp;            /* BDP estimation (dynamic windows): 1 on, 0 off, -1 not known */
	int64_t initial_window; /* the stream window it grants: -1 not known */
	char problem[96];      /* a value that failed validation, or "" */
} gs_keepalive;

typedef struct gs_transport {
	uint64_t addr;
	enum gs_side side;
	char local[64], remote[64]; /* "?" when unknown (see conn.c for the forms) */
	int64_t fd;
	uint64_t pollDesc;
	/* The connection under the transport: "tcp", "unix", "pipe" (net.Pipe), "bufconn", or
	 * "" when no socket or pipe was reached; the wrappers crossed to get there
	 * ("credentials.syscallConn > *tls.Conn"); the type where the descent stopped, when it
	 * did ("*cmux.MuxConn"); for in-memory pipes, the objects each direction goes through
	 * (one end's in is the other's out). */
	const char *conn_kind;
	char via[160], opaque[96];
	uint64_t pipe_in, pipe_out;
	int64_t state;       /* enum gs_transport_state */
	bool goaway_received, goaway_sent;
	uint32_t goaway_reason; /* enum gs_goaway_reason */
	/* client: the last GOAWAY's Last-Stream-ID, debug data (1.64+) and error code (1.81,
	 * -1 unknown); server: the highest stream id it accepted (what its GOAWAY carries) */
	uint32_t goaway_last_id;
	char goaway_debug[128];
	int64_t goaway_code;
	uint32_t max_stream_id;
	/* client: the peer's limit and what is left; server: our own MaxStreams */
	uint32_t max_concurrent;
	int64_t stream_quota;
	uint32_t waiting_streams, next_id;
	bool conn_in_known;
	uint32_t conn_in_limit, conn_in_unacked;
	bool loopy_known;
	uint32_t send_quota, oiws;
	bool draining_loopy;
	uint64_t cbuf_items;
	int64_t cbuf_response_frames;
	bool throttled, consumer_waiting;
	bool keepalive_enabled;
	gs_keepalive ka;
	uint64_t ctx_done_chan, goaway_chan, quota_chan, cbuf_chan, trf_chan, reader_done,
		writer_done;
	size_t first_stream, nstreams; /* slice of the streams array */
	uint64_t *goroutines;          /* goroutines waiting on transport-level objects */
	size_t ngoroutines;
	char problem[160];
	uint64_t unreadable; /* an address a verdict would rest on that could not be read, or 0 */
	bool implausible;    /* its values are impossible (plausible_transport.c): not shown */
} gs_transport;

typedef struct gs_grpc gs_grpc;

/* Never fails for want of gRPC: a program without grpc-go has no transports. Opening reads
 * transports, streams and which object owns which channel (enough to name the owners of
 * wait objects); gs_grpc_link adds the goroutines of each stream and transport (handlers
 * found by stack scans, streams the transport already dropped) and each stream's context.
 * Linking is idempotent: whoever needs the linked model asks for it (gs_session_grpc_linked)
 * and gets all of it, whatever was asked before. */
gs_grpc *gs_grpc_open(gs_rt *rt, gs_err *err);
/* gs_grpc_open in two steps, so that the heap scan for transports (a worker thread on a
 * core) runs while the caller does other work on the runtime model: begin fails only for want of memory (NULL, which finish reports);
 * finish returns NULL (and frees) on failure. Close also takes a begun model. */
gs_grpc *gs_grpc_begin(gs_rt *rt);
gs_grpc *gs_grpc_finish(gs_grpc *g, gs_err *err);
void gs_grpc_link(gs_grpc *g);
/* -1 with "out of memory" when something read on demand (linking, details, contexts,
 * abandoned streams) was dropped for want of memory: checked by whoever renders. */
int gs_grpc_alloc_check(const gs_grpc *g, gs_err *err);
/* Before gs_grpc_link, once the goroutines' waits and top frames are known: the client
 * streams a closing transport already dropped, found from the goroutines still waiting on
 * them, so that the owners of their channels can be named (gs_grpc_link finds them too). */
void gs_grpc_find_dropped(gs_grpc *g);
void gs_grpc_close(gs_grpc *g);

size_t gs_grpc_ntransports(const gs_grpc *g);
const gs_transport *gs_grpc_transport(const gs_grpc *g, size_t i);
/* Heap candidates that may be transports but could not be read (see discover.h). */
size_t gs_grpc_unreadable_transports(const gs_grpc *g, const gs_unreadable_transport **v);
size_t gs_grpc_nstreams(const gs_grpc *g);
const gs_stream *gs_grpc_stream(const gs_grpc *g, size_t i);
const gs_layout *gs_grpc_layout(const gs_grpc *g);
/* When the snapshot was taken, unix ns (0 unknown), and from what ("the core file's time",
 * "now (live process)"): what a transport's last read is measured against (keepalive.c). */
int64_t gs_grpc_snapshot_time(const gs_grpc *g, const char **source);
/* Whether a transport's keepalive is on (client: keepaliveEnabled; server: a ping time
 * other than infinity). */
bool gs_keepalive_on(const gs_transport *t);
/* A duration as Go prints it ("10s", "1m0s", "1.5s", "infinity", "?" for -1). */
void gs_fmt_duration(int64_t ns, char *buf, size_t cap);


/* Appends the gRPC object owning the channel / pollDesc / mutex at addr ("client stream 3
 * recv buffer") to out; false, nothing appended, when none does. */
bool gs_grpc_owner(void *grpc, uint64_t addr, gs_strbuf *out);
/* A hint that gs_grpc_owner(addr) comes soon: starts loading its table slot. */
void gs_grpc_owner_prefetch(void *grpc, uint64_t addr);
/* Details of the owner: which stream (index or -1) / transport (index or -1) and role. */
typedef enum gs_owner_role {
	GS_OWN_RECV_BUFFER, GS_OWN_WRITE_QUOTA, GS_OWN_STREAM_DONE, GS_OWN_HEADER,
	GS_OWN_STREAM_CTX, GS_OWN_TRANSPORT_DONE, GS_OWN_GOAWAY, GS_OWN_STREAM_QUOTA,
	GS_OWN_CBUF_WAKEUP, GS_OWN_THROTTLE, GS_OWN_READER_DONE, GS_OWN_WRITER_DONE,
	GS_OWN_SOCKET,
} gs_owner_role;
bool gs_grpc_owner_of(const gs_grpc *g, uint64_t addr, long *stream, long *transport,
		      gs_owner_role *role);
const char *gs_owner_role_name(gs_owner_role r);

/* The ClientConn a goroutine parked in the picker belongs to, found from its stack: a word
 * that is a ClientConn whose picker's blocking channel is one the goroutine waits on. */
typedef struct gs_cc_info {
	uint64_t addr;
	char target[160];
	char state[32];        /* the channel's connectivity state */
	char subchannels[200]; /* "1 TRANSIENT_FAILURE" */
	char last_error[200];
} gs_cc_info;
bool gs_grpc_find_clientconn(gs_grpc *g, gs_goroutine *gr, gs_cc_info *out);
/* The ClientConns found behind the client transports (through their addrConns). */
size_t gs_grpc_nclientconns(const gs_grpc *g);
const gs_cc_info *gs_grpc_clientconn(const gs_grpc *g, size_t i);

#endif
