/* The Go runtime model of one snapshot: version, goroutines, their stacks and what they
 * wait on.
 *
 * A gs_rt is built over a target (memory, threads) and the executable (pclntab, DWARF).
 * It owns neither. Goroutine headers are read once at open (they are needed by every
 * command); stacks and wait objects are read on demand and cached. Facts only: a value
 * that could not be read is reported as unreadable, never guessed.
 */
#ifndef GS_GORUNTIME_MODEL_H
#define GS_GORUNTIME_MODEL_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#include "../binary/buildinfo.h"
#include "../binary/dwarf_types.h"
#include "../binary/elf_file.h"
#include "../binary/pclntab.h"
#include "../target/target.h"
#include "../util/err.h"
#include "layout.h"

/* The model's goroutine statuses (gs_rt_status_name names them). The binary's numbers are
 * translated into these when a g is read (gs_rt_model_status), through the constants
 * table; the values are the model's own (kept as Go 1.19-1.27 number them, so nothing
 * derived from them changed when the table came). */
enum {
	GS_G_IDLE = 0, GS_G_RUNNABLE = 1, GS_G_RUNNING = 2, GS_G_SYSCALL = 3, GS_G_WAITING = 4,
	GS_G_DEAD = 6, GS_G_COPYSTACK = 8, GS_G_PREEMPTED = 9, GS_G_LEAKED = 10,
	GS_G_DEADEXTRA = 11,
};

/* 32 bytes: a 75,000-goroutine core holds near a million of these. (No sp: nothing read
 * it; the unwinder keeps its own.) */
typedef struct gs_frame {
	uint64_t pc;          /* runtime pc of the physical frame (return address or rip) */
	const char *function; /* from pclntab; "?" when unknown */
	const char *file;
	int32_t line;
	bool inlined;         /* this entry is an inlined call inside the physical frame */
} gs_frame;

enum gs_wait_kind {
	GS_WAIT_CHAN_RECV, GS_WAIT_CHAN_SEND, GS_WAIT_SELECT_RECV, GS_WAIT_SELECT_SEND,
	GS_WAIT_SEMA, GS_WAIT_NETPOLL_READ, GS_WAIT_NETPOLL_WRITE, GS_WAIT_NIL_CHAN,
	GS_WAIT_SELECT_EMPTY, GS_WAIT_SLEEP, GS_WAIT_UNKNOWN,
};

typedef struct gs_waitobj {
	enum gs_wait_kind kind;
	uint64_t addr;      /* hchan, semaphore (the sync object address), pollDesc */
	uint64_t sema_addr; /* for GS_WAIT_SEMA: the semaphore word itself */
	int64_t fd;         /* netpoll: fd, else -1 */
} gs_waitobj;

typedef struct gs_goroutine {
	uint64_t addr;       /* runtime.g */
	uint64_t goid;
	uint32_t status;     /* without the _Gscan bit */
	uint8_t waitreason;
	int64_t waitsince;   /* nanotime, 0 = not recorded */
	uint64_t gopc, startpc, parent_goid;
	uint64_t sched_sp, sched_pc, sched_bp;
	uint64_t stack_lo, stack_hi; /* 0 when the layout lacks them */
	uint64_t syscallsp, syscallpc;
	uint64_t m;          /* *runtime.m, 0 if none */
	uint64_t waiting;    /* first sudog */
	uint64_t labels;     /* g.labels: runtime/pprof's label set, shared with its children */
	const gs_thread *thread; /* for running goroutines: the thread that runs it */

	/* Lazily filled. */
	bool stack_done, waits_done;
	bool frames_chunked; /* frames live in the model's chunks, not freed one by one */
	bool stack_partial;  /* frames end at the user frame (gs_rt_user_frame) */
	gs_frame *frames;
	size_t nframes;
	gs_frame current;    /* the start pc symbolized as is (delve's "current" location) */
	gs_frame user;       /* filled by gs_rt_user_frame */
	bool stack_truncated;
	char *stack_error;   /* why unwinding stopped early, or NULL */
	gs_waitobj *waits;
	size_t nwaits;
} gs_goroutine;

typedef struct gs_rt gs_rt;

/* Parked by the runtime: waiting, or waiting and marked leaked by the GC's goroutine leak
 * detection (_Gleaked, Go 1.26+; it stays parked where it was). */
static inline bool gs_g_parked(const gs_goroutine *g)
{
	return g->status == GS_G_WAITING || g->status == GS_G_LEAKED;
}

/* force: accept an executable whose build id differs from the one the target maps. */
gs_rt *gs_rt_open(gs_target *t, gs_binary *b, gs_pclntab *pcln, gs_dwarf *d, bool force,
		  gs_err *err);
/* Same, with the PIE load bias as a host debugger knows it, for targets without an auxv. */
gs_rt *gs_rt_open_with_bias(gs_target *t, gs_binary *b, gs_pclntab *pcln, gs_dwarf *d,
			    bool force, const uint64_t *bias_hint, gs_err *err);
/* The same in two steps: the executable mapped and the runtime's layout resolved, then the
 * goroutines read. Work that needs only the layout (the gRPC heap scan) can start between
 * them; after a failed gs_rt_load the caller stops that work, then closes rt. */
gs_rt *gs_rt_open_layout(gs_target *t, gs_binary *b, gs_pclntab *pcln, gs_dwarf *d, bool force,
			 const uint64_t *bias_hint, gs_err *err);
int gs_rt_load(gs_rt *rt, gs_err *err);
void gs_rt_close(gs_rt *rt);

const char *gs_rt_go_version(const gs_rt *rt);
/* The session's constants table (constants.h), filled when the model opened. */
const struct gs_consts *gs_rt_consts(const gs_rt *rt);
/* Fills the table's grpc-go entries for the executable's grpc-go version (NULL: unknown). */
void gs_rt_set_grpc_version(gs_rt *rt, const char *grpc_version);
/* A status as the binary stores it (with or without the _Gscan bit) in the model's terms;
 * a value the runtime does not have is kept out of the model's range (see
 * gs_consts_canon). */
uint32_t gs_rt_model_status(const gs_rt *rt, uint32_t raw);
uint64_t gs_rt_bias(const gs_rt *rt);          /* PIE load bias */
const gs_layout *gs_rt_layout(const gs_rt *rt);
gs_target *gs_rt_target(const gs_rt *rt);
/* The session's worker threads, for the layers above (executor.h). */
struct gs_exec *gs_rt_exec(const gs_rt *rt);
gs_dwarf *gs_rt_dwarf(const gs_rt *rt);
gs_pclntab *gs_rt_pclntab(const gs_rt *rt);

size_t gs_rt_ngoroutines(const gs_rt *rt);
gs_goroutine *gs_rt_goroutine(gs_rt *rt, size_t i);
gs_goroutine *gs_rt_find_goroutine(gs_rt *rt, uint64_t goid);
gs_goroutine *gs_rt_goroutine_by_addr(gs_rt *rt, uint64_t gaddr);

/* "waiting", "runnable", ... (runtime names without the leading _G, lower-case). */
const char *gs_rt_status_name(uint32_t status);
/* The wait reason string read from the binary ("" for none). */
const char *gs_rt_wait_reason(const gs_rt *rt, const gs_goroutine *g);
/* Minutes since waitsince, the way the runtime prints it; -1 when not recorded. */
int64_t gs_rt_wait_minutes(const gs_rt *rt, const gs_goroutine *g);

/* Unwinds (once) and returns the frames; *n set. Never fails: problems are in g->stack_error. */
const gs_frame *gs_rt_stack(gs_rt *rt, gs_goroutine *g, size_t *n);
/* Frees what gs_rt_stack or gs_rt_user_frame computed for g (a listing of every stack need
 * not hold them all at once); asking again recomputes it. */
void gs_rt_stack_release(gs_goroutine *g);
/* Unwinds every goroutine (which[i] selects, NULL = all) ahead of gs_rt_user_frame, or of
 * gs_rt_stack with GS_PREP_FULL; with GS_PREP_ORIGINS also looks up gs_rt_creator and
 * gs_rt_start_function, so a renderer on another thread only reads them. On two threads
 * for a core. Not to be called while another thread works on the same goroutines. */
enum { GS_PREP_TOP = 0, GS_PREP_FULL = 1, GS_PREP_ORIGINS = 2 };
void gs_rt_prepare(gs_rt *rt, const bool *which, unsigned what);
/* -1 with "out of memory" when something the model computes on demand (stacks, waits,
 * the semaphore and netpoll indexes) could not allocate and may be incomplete: checked
 * by whoever renders, after preparing and joining. */
int gs_rt_alloc_check(const gs_rt *rt, gs_err *err);
/* The topmost frame outside package runtime (delve's "User" location), or NULL. */
const gs_frame *gs_rt_user_frame(gs_rt *rt, gs_goroutine *g);
/* Wait objects (once): channels, semaphores, netpoll. */
const gs_waitobj *gs_rt_waits(gs_rt *rt, gs_goroutine *g, size_t *n);
/* Computes the waits of the selected goroutines (which[i], NULL = all) on a worker thread
 * that reads through a view of the target (core targets; other targets: at once, here).
 * Until gs_rt_waits_join the caller may read the model and its memory but must leave those
 * goroutines' stacks and waits alone. */
typedef struct gs_rt_waits_job gs_rt_waits_job;
gs_rt_waits_job *gs_rt_waits_start(gs_rt *rt, const bool *which);
void gs_rt_waits_join(gs_rt_waits_job *j);

/* Goroutines the runtime keeps but never prints (_Gdeadextra, Go 1.26+): ids and status. */
size_t gs_rt_nhidden(const gs_rt *rt);
/* Entries of runtime.allgs whose g could not be read: how many; *addrs lists the first
 * *listed of them: the g's address, or where slot[i], the address of the allgs slot itself
 * (cut off a truncated core). NULL pointers in allgs count too, with address 0. */
#define GS_MAX_UNREADABLE_GS 64
size_t gs_rt_unreadable(const gs_rt *rt, const uint64_t **addrs, const bool **slot,
			size_t *listed);
void gs_rt_hidden(const gs_rt *rt, size_t i, uint64_t *goid, uint32_t *status);

/* Where the goroutine was created (the go statement, gopc) and what it runs (startpc):
 * function, file and line; false when the pc is in no Go function. */
bool gs_rt_creator(gs_rt *rt, const gs_goroutine *g, gs_pcframe *out);
bool gs_rt_start_function(gs_rt *rt, const gs_goroutine *g, gs_pcframe *out);
/* Whether gs_rt_prepare looked both up (GS_PREP_ORIGINS): then the two only read the model,
 * from any thread. */
bool gs_rt_origin_ready(const gs_rt *rt, const gs_goroutine *g);

/* Value readers. */
int gs_rt_read_string(gs_rt *rt, uint64_t addr, char *buf, size_t cap, gs_err *err);
int gs_rt_global(gs_rt *rt, const char *name, uint64_t *addr, gs_err *err);
int64_t gs_rt_off(const gs_rt *rt, enum gs_rt_field f);
/* Runtime field f of the struct at base, read with its type's width; 0 or -1. */
int gs_rt_field(gs_rt *rt, uint64_t base, enum gs_rt_field f, uint64_t *v);

/* Channel facts. */
typedef struct gs_chan {
	uint64_t addr, qcount, dataqsiz, elemsize;
	bool closed;
	size_t nrecv, nsend; /* waiters */
} gs_chan;
int gs_rt_read_chan(gs_rt *rt, uint64_t addr, gs_chan *out, gs_err *err);

#endif
