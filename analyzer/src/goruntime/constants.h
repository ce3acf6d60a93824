/* The constants table: every number of the Go runtime and of grpc-go that the analyser
 * compares a read value with (page size, span states, goroutine statuses, type-kind bits,
 * grpc-go's stream, transport and connectivity states).
 *
 * None is written into a reader. Each entry is filled per session, first from the binary's
 * DWARF (Go emits package-level integer constants as DW_TAG_constant, e.g.
 * "runtime._Gwaiting"); else from a version table checked against the Go 1.19-1.27 and
 * grpc-go 1.33/1.64/1.81 sources, whose type-kind entries a binary without DWARF checks
 * against its type descriptors (known types' kind and tflag bytes), theirs winning where
 * the two disagree. Each value records where it
 * came from; `selfcheck` lists them and checks the table against the DWARF and the
 * descriptors, so a release that renumbers a status or moves a flag is caught rather than
 * misread.
 *
 * The model translates what it reads into its own vocabulary (GS_G_* in model.h, the gRPC
 * model's state enums) with gs_consts_canon: renderers and rules never see a raw number.
 */
#ifndef GS_GORUNTIME_CONSTANTS_H
#define GS_GORUNTIME_CONSTANTS_H

#include <stdint.h>
#include <stdbool.h>

#include "../binary/dwarf_types.h"
#include "../util/strbuf.h"

enum gs_const_id {
	/* heap */
	GS_K_PAGE_SIZE, GS_K_SPAN_IN_USE, GS_K_SPANCLASS_NOSCAN, GS_K_HEAP_ARENA_BYTES,
	GS_K_ARENA_BASE_OFFSET,
	/* the wait reason of a goroutine that waits on nothing ("") */
	GS_K_WAIT_REASON_ZERO,
	/* goroutine statuses, in the order of the model's GS_G_* (model.h) */
	GS_K_G_IDLE, GS_K_G_RUNNABLE, GS_K_G_RUNNING, GS_K_G_SYSCALL, GS_K_G_WAITING,
	GS_K_G_DEAD, GS_K_G_COPYSTACK, GS_K_G_PREEMPTED, GS_K_G_LEAKED, GS_K_G_DEADEXTRA,
	GS_K_G_SCAN,
	/* type descriptors: abi.Kind values and flag bits */
	GS_K_KIND_MASK, GS_K_KIND_DIRECT_IFACE, GS_K_TFLAG_DIRECT_IFACE, GS_K_TFLAG_UNCOMMON,
	GS_K_TFLAG_EXTRA_STAR,
	GS_K_KIND_ARRAY, GS_K_KIND_CHAN, GS_K_KIND_FUNC, GS_K_KIND_IFACE, GS_K_KIND_MAP,
	GS_K_KIND_PTR, GS_K_KIND_SLICE, GS_K_KIND_STRUCT, GS_K_KIND_UNSAFEPTR,
	/* pclntab function flags (abi.FuncFlag) the unwinder stops at */
	GS_K_FUNCFLAG_TOPFRAME, GS_K_FUNCFLAG_SPWRITE,
	/* grpc-go: streamState, transportState, GoAwayReason, outStreamState,
	 * connectivity.State; each
	 * group in the order of the gRPC model's enums (grpc_model.h) */
	GS_K_STREAM_ACTIVE, GS_K_STREAM_WRITE_DONE, GS_K_STREAM_READ_DONE, GS_K_STREAM_DONE,
	GS_K_TR_REACHABLE, GS_K_TR_CLOSING, GS_K_TR_DRAINING,
	GS_K_GOAWAY_INVALID, GS_K_GOAWAY_NO_REASON, GS_K_GOAWAY_TOO_MANY_PINGS,
	GS_K_OS_ACTIVE, GS_K_OS_EMPTY, GS_K_OS_WAITING_QUOTA,
	GS_K_CONN_IDLE, GS_K_CONN_CONNECTING, GS_K_CONN_READY, GS_K_CONN_TRANSIENT_FAILURE,
	GS_K_CONN_SHUTDOWN,
	GS_K_NCONSTS
};

/* A version the value holds from: the Go (or grpc-go) minor version, e.g. 26 for 1.26. */
typedef struct gs_const_rule {
	int since;
	int64_t value;
} gs_const_rule;

/* The value a version does not have (a status added later). */
#define GS_CONST_NONE INT64_MIN

typedef struct gs_const_spec {
	const char *name;  /* as the sources spell it, for selfcheck */
	const char *dwarf; /* DW_TAG_constant names, alternatives separated by '|' */
	bool grpc;         /* rules keyed by grpc-go's minor version rather than Go's */
	/* Ascending `since`; the last rule whose since <= the version holds; an unknown
	 * version takes the newest. */
	gs_const_rule rules[3];
	const char *note;
} gs_const_spec;

extern const gs_const_spec gs_const_specs[GS_K_NCONSTS];

typedef struct gs_consts {
	int64_t v[GS_K_NCONSTS];      /* the value used (GS_CONST_NONE: this version has none) */
	int64_t table[GS_K_NCONSTS];  /* the version table's value, for selfcheck */
	int64_t dwarf[GS_K_NCONSTS];  /* DWARF's value, GS_CONST_NONE without one */
	int64_t desc[GS_K_NCONSTS];   /* what known types' descriptors show, GS_CONST_NONE:
				       * nothing (see gs_consts_check_descriptors) */
	uint8_t source[GS_K_NCONSTS]; /* enum gs_tsource of v[i] */
	int go_minor, grpc_minor;     /* -1: unknown */
} gs_consts;

/* "go1.27.4" -> 27, "1.81.1" -> 81; -1 for anything else. */
int gs_consts_minor(const char *version);
/* Fills every entry: DWARF first (d may be NULL or lack DWARF); then the version table,
 * for a binary without DWARF checked against its type descriptors, which win where they
 * disagree (gs_consts_check_descriptors). */
void gs_consts_resolve(gs_consts *c, gs_dwarf *d, const char *go_version,
		       const char *grpc_version);
/* What the type descriptors of d's binary say of the type-kind constants, into c->desc:
 * each kind number from the descriptor of a type known to have that kind ("runtime.g" a
 * struct, "*runtime.g" a pointer, ...), the kind byte's DirectIface bit (up to Go 1.25) or
 * the tflag's (1.26+) from "*runtime.g" against "runtime.g". A DWARF value still wins;
 * a table value the descriptors confirm stays the table's (checked), one they contradict
 * is replaced by theirs. selfcheck calls it on a copy to check a DWARF binary's table too:
 * it walks the descriptors' names, not free where DWARF is there. */
void gs_consts_check_descriptors(gs_consts *c, gs_dwarf *d);
/* Re-fills the grpc-go entries the version table gave, now grpc-go's version is known. */
void gs_consts_set_grpc(gs_consts *c, const char *grpc_version);

static inline int64_t gs_const(const gs_consts *c, enum gs_const_id id) { return c->v[id]; }

/* The model's value for a raw one: model[k] (or k when model is NULL) for the k in [0, n)
 * with gs_const(first + k) == raw. A raw value none of them has stays as it is when it
 * lies outside the model's values [0, limit) (so it still reads as unknown, with its
 * number), else it becomes GS_CONST_UNMAPPED | raw. */
#define GS_CONST_UNMAPPED 0x40000000
int64_t gs_consts_canon(const gs_consts *c, enum gs_const_id first, int n, const int64_t *model,
			int64_t limit, int64_t raw);

/* The raw number behind a gs_consts_canon result, for messages. */
static inline int64_t gs_consts_raw(int64_t v)
{
	return v > 0 && (v & GS_CONST_UNMAPPED) && (v ^ GS_CONST_UNMAPPED) < 64
		       ? v ^ GS_CONST_UNMAPPED : v;
}

/* Where the values came from, for info's sources: "DWARF", "type descriptors", "version
 * table", or two or three of them joined ("DWARF and version table"). Entries no binary
 * names (dwarf NULL: the table's by definition) are not counted. */
const char *gs_consts_sources(const gs_consts *c);
/* How many values came from each source, and how many of the version table's the type
 * descriptors confirmed, in words (info's sources.constants_detail). */
void gs_consts_detail(const gs_consts *c, char *buf, size_t n);
/* Appends the table to sb (text lines or JSON objects, comma-separated); returns how many
 * entries the version table disagrees on with the DWARF or the descriptors. */
int gs_consts_report(const gs_consts *c, gs_strbuf *sb, bool json);

#endif
