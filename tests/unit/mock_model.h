/* A hand-built program for the diagnose layer's unit tests: goroutines (status, wait reason,
 * frames, wait objects), transports, streams and which gRPC object owns which address,
 * described in the test and read by the same rule code (diagnose/) that reads a core.
 *
 * How: mock_model.c defines the model functions the rules call (gs_rt_*, gs_grpc_*,
 * gs_target_*, gs_pclntab_find) over plain arrays, and the test binaries link the diagnose
 * objects with it instead of with the library (Makefile: test_diag_*). A rule that starts
 * calling a model function the mock lacks fails to link: add the function to mock_model.c.
 *
 * Transports and streams are the model's own structs (grpc/grpc_model.h): the builder fills
 * defaults of a healthy connection (windows open, quota left, context live, no deadline) and
 * returns a pointer the test changes as it likes; pointers stay valid (fixed capacities).
 * Streams of one transport must be added one after the other (the model slices them). */
#ifndef GS_TESTS_MOCK_MODEL_H
#define GS_TESTS_MOCK_MODEL_H

#include "../../analyzer/src/diagnose/verdicts.h"
#include "../../analyzer/src/goruntime/labels.h"

typedef struct mock mock;

mock *mock_new(void);
void mock_free(mock *m);
gs_rt *mock_rt(mock *m);
gs_grpc *mock_grpc(mock *m);

/* Goroutines. reason: the runtime's wait reason ("" for none). */
gs_goroutine *mock_g(mock *m, uint64_t goid, uint32_t status, const char *reason);
/* Its frames, innermost first, NULL-terminated: the first outside the runtime ("runtime.*",
 * "internal/...") is the user frame, as delve and goruntime/unwind.c say. Each frame gets file "<base of function>.go", line 10+i. */
void mock_stack(mock *m, gs_goroutine *g, ...) __attribute__((sentinel));
void mock_wait(mock *m, gs_goroutine *g, enum gs_wait_kind kind, uint64_t addr);
void mock_minutes(mock *m, gs_goroutine *g, int64_t minutes);
/* The snapshot's time the keepalive rules compare last reads with (0: unknown). */
void mock_snapshot_time(mock *m, int64_t unix_ns);
/* g's pprof labels (a set the test owns; NULL: none). */
void mock_labels(mock *m, gs_goroutine *g, const gs_labels *l);
/* The function the goroutine was started with (grpc's own goroutines hold streams by design
 * and are skipped when looking for the application's holders). */
void mock_start(mock *m, gs_goroutine *g, const char *function);

/* Transports and streams. */
gs_transport *mock_transport(mock *m, enum gs_side side, const char *local, const char *remote);
gs_stream *mock_stream(mock *m, gs_transport *t, uint32_t id, const char *method);
long mock_sidx(mock *m, const gs_stream *s);    /* index in the model */
long mock_tidx(mock *m, const gs_transport *t);

/* g parked on one of the stream's (or transport's) objects: a fresh address owned by it in
 * that role, a wait of the given kind on it, and g among its goroutines. Returns the address. */
uint64_t mock_wait_on(mock *m, gs_goroutine *g, gs_stream *s, gs_transport *t,
		      gs_owner_role role, enum gs_wait_kind kind);
#define mock_wait_recv(m, g, s) mock_wait_on(m, g, s, NULL, GS_OWN_RECV_BUFFER, GS_WAIT_SELECT_RECV)
#define mock_wait_header(m, g, s) mock_wait_on(m, g, s, NULL, GS_OWN_HEADER, GS_WAIT_SELECT_RECV)
#define mock_wait_send(m, g, s) mock_wait_on(m, g, s, NULL, GS_OWN_WRITE_QUOTA, GS_WAIT_SELECT_RECV)
#define mock_wait_quota(m, g, t) mock_wait_on(m, g, NULL, t, GS_OWN_STREAM_QUOTA, GS_WAIT_SELECT_RECV)
/* g parked writing to the transport's socket (the loopy writer on a full TCP buffer). */
void mock_wait_socket(mock *m, gs_goroutine *g, gs_transport *t, bool write);
/* g runs the server stream's handler. */
void mock_handler(mock *m, gs_stream *s, gs_goroutine *g);
/* g gets a stack in the target's memory ([sched_sp, stack_hi), zeros) and its g's stack.hi:
 * what reading a stack needs (holders, diff's same-park check). Once per goroutine. */
void mock_give_stack(mock *m, gs_goroutine *g);
/* g's live stack holds the stream's address (an application goroutine with a ClientStream). */
void mock_holds(mock *m, gs_goroutine *g, gs_stream *s);

/* What the picker rule finds for g; candidates the heap scan could not read; bytes a
 * truncated core lacks; threads (for diff's same-process check). */
void mock_clientconn(mock *m, gs_goroutine *g, const char *target, const char *state,
		     const char *subchannels, const char *last_error);
void mock_unreadable_transport(mock *m, uint64_t addr, uint64_t at, bool server);
void mock_missing_bytes(mock *m, uint64_t n);
void mock_thread(mock *m, int64_t tid);

/* Helpers for assertions on a diagnosis. */
const gs_verdict *mock_verdict(const gs_diagnosis *dg, uint64_t goid);
bool mock_has_evidence(const gs_verdict *v, const char *needle); /* substring of any line */
bool mock_blames(const gs_verdict *v, uint64_t goid);

#endif
