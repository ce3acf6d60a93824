/* The other snapshots a command follows chains into: `--peer [EXE] CORE` (repeatable) and
 * `--snapshots DIR` (every core in DIR, snapdir.h), in the order given. They are collected
 * from the command line, checked (each snapshot once: the same core twice is bad input; a
 * DIR's copy of the primary is passed over), opened beside the primary session with their
 * gRPC models built, and closed together. why-blocked and report share this. */
#ifndef GS_API_PEERS_H
#define GS_API_PEERS_H

#include "grammar.h"
#include "session.h"

typedef struct gs_peer {
	char *exe;  /* NULL: the one the core's file mappings record */
	char *core;
	gs_session *s;
	gs_grpc *g;
} gs_peer;

typedef struct gs_peers {
	gs_peer *p;
	size_t n;
} gs_peers;

/* Collects and opens the peers of cl for the primary session s (s NULL: only checks the
 * line; nothing opens). 0, or the exit status (2: bad input) with *errmsg set; on failure
 * nothing stays open. */
int gs_peers_open(gs_session *s, const gs_cmdline *cl, gs_peers *out, char **errmsg);
void gs_peers_close(gs_peers *ps);

#endif
