/* The gRPC field manifest: every grpc-go field the analyser reads, by DWARF name, with the
 * alternatives it is known by across grpc-go 1.33, 1.64 and 1.81. Same shape as the runtime
 * manifest (goruntime/layout.h); `selfcheck` prints both. Everything here is optional at
 * resolution time: a binary without grpc-go simply has no transports. */
#ifndef GS_GRPC_FIELDS_H
#define GS_GRPC_FIELDS_H

#include "../goruntime/layout.h"

#define TP "google.golang.org/grpc/internal/transport."

enum gs_grpc_field {
	/* http2Client */
	GC_CTXDONE, GC_CONN, GC_LOOPY, GC_READERDONE, GC_WRITERDONE, GC_GOAWAY, GC_CONTROLBUF,
	GC_FC, GC_KP_TIME, GC_KEEPALIVE_ENABLED, GC_INITIAL_WINDOW, GC_MAX_CONCURRENT,
	GC_STREAM_QUOTA, GC_QUOTA_AVAILABLE, GC_WAITING_STREAMS, GC_NEXTID, GC_STATE,
	GC_ACTIVE_STREAMS, GC_PREV_GOAWAY_ID, GC_GOAWAY_REASON, GC_KP_DORMANT, GC_MU,
	/* http2Server */
	GS_DONE, GS_CONN, GS_LOOPY, GS_READERDONE, GS_MAXSTREAMS, GS_CONTROLBUF, GS_FC,
	GS_STATE, GS_ACTIVE_STREAMS, GS_DRAINCHAN, GS_DRAINEVENT, GS_INITIAL_WINDOW,
	GS_MAXSTREAMID, GS_MU,
	/* Stream (all versions) and the 1.81 split into ClientStream / ServerStream */
	ST_ID, ST_CTX, ST_METHOD, ST_BUF, ST_TRREADER, ST_FC, ST_WQ, ST_STATE,
	ST_CT, ST_DONE, ST_HEADERCHAN, ST_HEADERCHANCLOSED, ST_STATUS, ST_BYTESRECEIVED,
	ST_ST, ST_CTXDONE, ST_CANCEL,
	CS_CT, CS_DONE, CS_HEADERCHAN, CS_HEADERCHANCLOSED, CS_STATUS, CS_BYTESRECEIVED,
	SS_ST, SS_CTXDONE,
	/* receive path */
	RB_C, RB_BACKLOG, RB_ERR, RM_SIZE_PROBE, RM_ERR, TR_READER, RBR_CTXDONE,
	/* flow control */
	IF_LIMIT, IF_PENDINGDATA, IF_PENDINGUPDATE, IF_DELTA,
	TF_LIMIT, TF_UNACKED, TF_EFFECTIVE,
	WQ_CH, WQ_DONE, WQ_QUOTA,
	/* control buffer and loopy writer */
	CB_CH, CB_DONE, CB_CONSUMERWAITING, CB_LIST, CB_TRF, CB_TRFCHAN,
	LW_SIDE, LW_CBUF, LW_SENDQUOTA, LW_OIWS, LW_ESTDSTREAMS, LW_DRAINING,
	OS_ID, OS_STATE, OS_ITL, OS_BYTESOUTSTANDING, OS_WQ,
	IL_HEAD, IN_IT, IN_NEXT,
	/* module data, used to find itabs (the heap spans are the runtime's: heapwalk.h) */
	MD_TYPES,
	MD_ITABOFFSET, MD_ITABSIZE,
	/* sockets: net.Conn -> *net.TCPConn -> *netFD */
	NETFD_PFD, NETFD_LADDR, NETFD_RADDR, FD_SYSFD, FD_PD, PD_RUNTIMECTX, TCPADDR_IP,
	TCPADDR_PORT, CONN_FD,
	/* the grpc layer above transports: client streams, ClientConn, picker */
	CLS_ATTEMPT, CSA_S, CC_TARGET, CC_PW, CC_CSMGR, CC_CONNS, CC_LASTERR, CSM_STATE,
	PW_BLOCKINGCH, PW_GEN, PG_BLOCKINGCH, AC_STATE, AC_TRANSPORT, AC_CC,
	/* a stream's final status and server headers */
	STS_S, SPB_CODE, SPB_MESSAGE, ST_HEADERSENT, SS_HEADERSENT,
	/* addresses cached by the transports, unix socket addresses (conn.c) */
	GC_REMOTEADDR, GC_LOCALADDR, GS_REMOTEADDR, GS_LOCALADDR, GS_PEER, PEER_ADDR,
	PEER_LOCALADDR, UNIXADDR_NAME,
	/* GOAWAY details */
	GC_GOAWAY_DEBUG, GC_GOAWAY_CODE,
	/* keepalive, enforcement, activity, BDP (keepalive.c) */
	GC_LAST_READ, GC_KP_TIMEOUT, GC_KP_PERMIT, GC_BDPEST, GS_LAST_READ, GS_KP_IDLE, GS_KP_AGE,
	GS_KP_GRACE, GS_KP_TIME, GS_KP_TIMEOUT, GS_KEP_MINTIME, GS_KEP_PERMIT, GS_PINGSTRIKES,
	GS_BDPEST,
	GRPC_NFIELDS
};

extern const gs_field_spec gs_grpc_fields[GRPC_NFIELDS];

#endif
