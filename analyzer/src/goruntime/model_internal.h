/* Private state of the runtime model, shared by its source files only. */
#ifndef GS_GORUNTIME_MODEL_INTERNAL_H
#define GS_GORUNTIME_MODEL_INTERNAL_H

#include "../util/chunks.h"
#include "../util/u64set.h"
#include "constants.h"
#include "model.h"

typedef struct gs_goid_index {
	uint64_t goid, addr;
	size_t index;
} gs_goid_index;

/* Who waits on which semaphore (built once from runtime.semtable). */
typedef struct gs_sema_waiter {
	uint64_t g, addr;
} gs_sema_waiter;
typedef struct gs_sema_index {
	bool built;
	bool nomem; /* built short of memory: incomplete */
	gs_sema_waiter *w; /* sorted by g */
	size_t n;
} gs_sema_index;
void gs_sema_index_free(gs_sema_index *s);
/* The semaphore address goroutine gaddr waits on, 0 if none. */
uint64_t gs_sema_lookup(gs_rt *rt, uint64_t gaddr);

/* Who waits in IO wait on which pollDesc (built once from the persistent chunks). */
typedef struct gs_poll_waiter {
	uint64_t g, pd;
	int64_t fd;
	bool write;
} gs_poll_waiter;
typedef struct gs_netpoll_index {
	bool built;
	bool nomem; /* built short of memory: incomplete */
	gs_poll_waiter *w; /* sorted by g */
	size_t n;
} gs_netpoll_index;
void gs_netpoll_index_free(gs_netpoll_index *ni);
bool gs_netpoll_lookup(gs_rt *rt, uint64_t gaddr, gs_waitobj *out);
/* Builds the index now (gs_netpoll_lookup otherwise does on first use). */
void gs_netpoll_build(gs_rt *rt);
/* The same in two steps, for a worker thread: the address of the chunk list (DWARF, the
 * caller's thread), then the chunks read through the worker's target t. */
uint64_t gs_netpoll_list(gs_rt *rt);
void gs_netpoll_build_from(gs_rt *rt, gs_target *t, uint64_t list);

/* A worker thread's own unwinder (its pc cache and scratch): t is what it reads through
 * (NULL: the model's target, bulk reads only). */
struct gs_unwinder;
struct gs_unwinder *gs_unwinder_new(gs_target *t);
void gs_unwinder_free(struct gs_unwinder *u);
/* The calling thread's unwinder, made when the model opens; -1 when out of memory. */
int gs_rt_unwinder_init(gs_rt *rt, gs_err *err);
/* Whether u ran short of memory (what it unwound since is incomplete). */
bool gs_unwinder_nomem(const struct gs_unwinder *u);

/* Where a goroutine came from, resolved by gs_rt_prepare (GS_PREP_ORIGINS). */
typedef struct gs_origin {
	bool done, has_creator, has_start;
	gs_pcframe creator, start;
} gs_origin;

struct gs_rt {
	gs_target *target;
	gs_binary *binary;
	gs_pclntab *pcln;
	gs_dwarf *dwarf;
	uint64_t bias;
	gs_layout layout;
	gs_consts consts; /* filled before the g's are parsed; read-only after */
	uint32_t status_of[32]; /* gs_rt_model_status of the raw statuses below 32 */
	/* The g's word fields parse_g reads, checked once (gs_gread_plan): offset in the g
	 * (the gobuf's inside sched), or -1 when the field is absent, not a word, or beyond
	 * gplan_size; those are read through gs_layout_get. */
	int64_t gword[RT_GOBUF_BP + 1];
	size_t gplan_size;
	char *go_version;
	char **wait_reasons;
	size_t nwait_reasons;
	gs_goroutine *gs;
	size_t ngs;
	size_t unreadable_gs;
	uint64_t *unreadable_g; /* their addresses (the first GS_MAX_UNREADABLE_GS) */
	bool *unreadable_slot;  /* [i]: unreadable_g[i] is an allgs slot (cut off), not a g */
	struct { uint64_t goid; uint32_t status; } *hidden;
	size_t nhidden;
	gs_goid_index *by_goid, *by_addr;
	int64_t now;
	gs_sema_index sema;
	gs_netpoll_index netpoll;
	gs_u64set sendq_walked, sending_sudogs; /* see waits.c in_sendq */
	struct gs_unwinder *uw;                 /* unwind.c: the calling thread's */
	bool nomem; /* something computed on demand could not allocate: gs_rt_alloc_check */
	struct gs_gread *gread;                 /* gread.c: g's read ahead, until loaded */
	struct gs_exec *exec;                   /* the session's worker threads (executor.h) */
	gs_chunks wait_chunks;                  /* every goroutine's waits array */
	gs_chunks frame_chunks;                 /* top frames (unwound to the user frame) */
	gs_origin *origins;                     /* unwind.c: [i] for gs[i], or NULL */
	char *forced_mismatch;  /* identity.c's objection that --force overrode, or NULL */
	struct gs_plausible *plausible; /* plausible.c: g's found implausible */
	struct gs_label_index *labels;  /* labels.c: every label set goroutines point to */
};
/* gs_rt_stack with unwinder u (NULL: the model's, for the calling thread). */
const gs_frame *gs_rt_stack_with(gs_rt *rt, struct gs_unwinder *u, gs_goroutine *g, size_t *n);

#endif
