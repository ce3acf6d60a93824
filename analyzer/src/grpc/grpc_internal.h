/* Private state of the gRPC model, shared by its source files only. */
#ifndef GS_GRPC_INTERNAL_H
#define GS_GRPC_INTERNAL_H

#include "../util/runs.h"
#include "../util/strpool.h"
#include "../goruntime/constants.h"
#include "../goruntime/maps.h"
#include "discover.h"
#include "grpc_model.h"

/* 16 bytes: the owner table has a slot for each of hundreds of thousands of channels. */
typedef struct gs_owner {
	uint64_t addr;
	int32_t stream;     /* -1: the transport itself */
	uint32_t transport : 24, role : 8;
} gs_owner;

struct gs_grpc {
	gs_rt *rt;
	gs_target *t;
	gs_dwarf *d;
	gs_types *ty;
	gs_layout l;
	/* Whether Stream.buf / fc / wq are pointers (1.33, 1.64) or embedded (1.81). */
	bool buf_ptr, fc_ptr, wq_ptr;
	bool have_client_map, have_server_map, have_estd_map;
	gs_map_layout client_map, server_map, estd_map;
	gs_transport *tr;
	size_t ntr;
	gs_stream *st;
	size_t nst, capst;
	gs_ctx_info *ctx_scratch; /* one context walk at a time */
	bool contexts_loaded, linked, details_loaded, abandoned_done;
	gs_cc_info *cc;
	size_t ncc;
	gs_owner *own;
	size_t nown, capown;
	gs_strpool strings; /* what the streams' string fields point to */
	gs_heap_scan *scan; /* between gs_grpc_begin and gs_grpc_finish */
	uint64_t bad;       /* first unreadable address since reset (gs_grpc_get and co.) */
	/* A run of neighbouring streams copied in one read (streams.c): gs_grpc_read serves
	 * what lies inside it from the copy. */
	gs_run_copy ov;
	gs_unreadable_transport unreadable_tr[GS_MAX_UNREADABLE_TRANSPORTS];
	size_t nunreadable_tr;
	bool nomem; /* something was dropped for want of memory: gs_grpc_alloc_check */
	int64_t snap_ns;      /* when the snapshot was taken (keepalive.c), 0 unknown */
	const char *snap_how;
};

/* streams.c */
void gs_grpc_read_streams(gs_grpc *g, size_t ti);
/* Appends a stream (read now) for transport ti; returns its index, or SIZE_MAX when the
 * stream is implausible (named in the transport's problem instead). */
size_t gs_grpc_add_stream(gs_grpc *g, uint64_t addr, size_t ti, bool detached);
/* Orders streams by transport again after detached ones were appended. */
void gs_grpc_regroup_streams(gs_grpc *g);
/* Method, queues, windows and outStreams of every stream (once). */
void gs_grpc_load_details(gs_grpc *g);
/* heapobj.c: the pointer-holding heap object containing an address (its base and size);
 * NULL / false when the spans cannot be read or the address is in none. */
typedef struct gs_heapobj_ix gs_heapobj_ix;
gs_heapobj_ix *gs_heapobj_open(gs_grpc *g);
bool gs_heapobj_find(const gs_heapobj_ix *ix, uint64_t p, uint64_t *base, uint64_t *size);
void gs_heapobj_close(gs_heapobj_ix *ix);
/* Reads every stream's context (ctx_known / ctx), then marks the abandoned client streams
 * (gs_grpc_find_abandoned, abandoned.c), which needs the contexts; part of gs_grpc_link. */
void gs_grpc_load_contexts(gs_grpc *g);
void gs_grpc_find_abandoned(gs_grpc *g);
/* owners.c */
void gs_grpc_build_owners(gs_grpc *g);
void gs_grpc_find_handlers(gs_grpc *g);
void gs_grpc_attach_goroutines(gs_grpc *g);
/* clientconn.c: ClientConns from the holders of client transport itabs (addresses of the
 * itab words found in the heap). */
#define GS_MAX_CLIENTCONNS 1024
void gs_grpc_read_clientconns(gs_grpc *g, const uint64_t *holders, size_t n);
/* conn.c: addresses (the transport's cached net.Addr values, 0 when it has none) and the
 * socket or pipe behind the net.Conn interface value at conn_iface. */
void gs_grpc_read_conn(gs_grpc *g, gs_transport *tr, uint64_t conn_iface, uint64_t local_iface,
		       uint64_t remote_iface);
bool gs_grpc_format_addr(gs_grpc *g, uint64_t iface_addr, char *buf, size_t cap);
/* keepalive.c: keepalive parameters, enforcement, last read, BDP and initial window of a
 * transport (its side already set); then, once every transport is read, the snapshot's time. */
void gs_grpc_read_keepalive(gs_grpc *g, gs_transport *tr);
/* Once, after the layout is resolved: kp / kep members that could not be told apart are
 * dropped (absent) rather than read at their struct's offset. */
void gs_grpc_check_keepalive_layout(gs_grpc *g);
void gs_grpc_read_snapshot_time(gs_grpc *g);
/* detached.c: client streams the transport dropped from activeStreams as it closes, found
 * from the goroutines still parked in their receive (before the owner table is built). */
void gs_grpc_find_detached_clients(gs_grpc *g);
/* helpers (grpc_model.c) */
/* A field's value, read with the width its type has in the binary (checked against the
 * manifest's kind; gs_layout_get): 0 when the field is absent or not a scalar, or the base
 * is 0; a failed read also records its address in g->bad (when unset), so a reader can
 * tell "0" from "unreadable". gs_grpc_get2: field a, or b when the binary has no a (a
 * field that moved to another struct, e.g. Stream -> ClientStream in 1.81). */
uint64_t gs_grpc_get(gs_grpc *g, uint64_t base, int field);
uint64_t gs_grpc_get2(gs_grpc *g, uint64_t base, int a, int b);
/* gs_grpc_get that tells a value from a failure: -1 (and *v = 0) when the field is absent,
 * not a scalar, or unreadable (recorded in g->bad as gs_grpc_get does). */
int gs_grpc_field(gs_grpc *g, uint64_t base, int field, uint64_t *v);
/* A state field read and translated into the model's enum: first is the group's first
 * constant (GS_K_STREAM_ACTIVE, ...), n its count. */
int64_t gs_grpc_state(gs_grpc *g, enum gs_const_id first, int n, int64_t raw);
/* gs_target_read at base + the field's offset, recording a failure in g->bad; -1 then. */
int gs_grpc_read(gs_grpc *g, uint64_t base, int64_t off, void *dst, size_t n);

#endif
