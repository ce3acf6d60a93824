/* The field manifest: every runtime struct field the analyser reads, by name.
 *
 * Layouts are never hard-coded. Each entry names a DWARF struct and the member names it is
 * known by across Go versions ("a|b"). Resolution reads the target binary's DWARF once per
 * session and fills an offset table; a missing optional field is -1 and the code that needs
 * it degrades (says "unknown"). `grpcscope selfcheck` prints the table. Later layers (grpc)
 * keep manifests of the same shape.
 */
#ifndef GS_GORUNTIME_LAYOUT_H
#define GS_GORUNTIME_LAYOUT_H

#include <stdint.h>
#include <stdbool.h>
#include <string.h>

#include "../binary/dwarf_types.h"
#include "../target/target.h"
#include "../util/strbuf.h"

/* What a field's value is, as the manifest expects it and the binary's type says it is
 * (delve's +rtype discipline): the resolver compares the two, and a scalar field is read
 * with the width its type has, never one a reader picks. GS_FK_ANY: not checked (no
 * manifest entry uses it; a field whose type changed across versions names the kinds it
 * may have, GS_FK_PTR_OR_STRUCT and the like). X32/X64: an
 * integer of that width, either sign (the sign changed across versions). WORD: a pointer or a
 * 64-bit integer (a pointer kept as uintptr in some versions). An interface reads as its
 * first word (nil or not). */
enum gs_fkind {
	GS_FK_ANY, GS_FK_BOOL, GS_FK_U8, GS_FK_U16, GS_FK_U32, GS_FK_U64, GS_FK_I32, GS_FK_I64,
	GS_FK_X32, GS_FK_X64, GS_FK_WORD, GS_FK_PTR, GS_FK_SLICE, GS_FK_STRING, GS_FK_IFACE, GS_FK_STRUCT,
	GS_FK_OTHER,
	/* Expected kinds only: a value held by pointer in some releases and by value in others
	 * (grpc-go 1.81 embeds what 1.33/1.64 point to), or an interface that became a
	 * pointer or a struct. The reader tells which from the kind resolved (l->kinds). */
	GS_FK_PTR_OR_STRUCT, GS_FK_IFACE_OR_STRUCT, GS_FK_PTR_OR_IFACE,
};
/* "u32", "pointer", ... */
const char *gs_fkind_name(int kind);

/* One manifest entry. `via` names a member path inside the field's type that holds the
 * actual value (e.g. "vu" for Go 1.26's maybeTraceablePtr, "value" for atomic.Uint32): when
 * the resolved member's type has such a member its offset is added. An atomic wrapper
 * (a struct whose one sized member sits at offset 0, e.g. atomic.Uint32) counts as what it
 * wraps. */
typedef struct gs_field_spec {
	const char *type;   /* DWARF struct name, e.g. "runtime.g"; "a|b": the first present */
	const char *names;  /* alternatives, e.g. "elem" */
	const char *via;    /* optional inner member alternatives, or NULL */
	bool required;
	const char *note;   /* why the analyser reads it / version remarks */
	uint8_t kind;       /* enum gs_fkind expected */
} gs_field_spec;

/* A resolved manifest: offsets[i] for specs[i] (-1 if absent), sizes of the structs. */
typedef struct gs_layout {
	const gs_field_spec *specs;
	size_t n;
	int64_t *offsets;
	uint64_t *sizes;      /* size of specs[i].type, 0 if the type is absent */
	const char **found_as; /* member name actually found (for selfcheck), or NULL */
	uint8_t *sources;      /* enum gs_tsource of specs[i].type, when found */
	uint8_t *kinds;        /* enum gs_fkind the binary's type has, when found */
	uint8_t *widths;       /* its size when a scalar of 1, 2, 4 or 8 bytes, else 0 */
	bool *mismatch;        /* kinds[i] is not what specs[i] expects: offsets[i] is -1 */
	bool *via_found;       /* specs[i].via named a member the field's type has */
	size_t nmismatch;
} gs_layout;

/* "dwarf", "descriptor" or "table". */
const char *gs_tsource_name(int source);

/* Resolves every spec against the DWARF. Fails (GS_EINPUT) only if a required field of a
 * present binary is missing or has another kind than the manifest expects: the message
 * names the first such field. An optional field of another kind is made absent (-1) and
 * counted in nmismatch. */
int gs_layout_resolve(gs_layout *l, const gs_field_spec *specs, size_t n, gs_dwarf *d,
		      gs_err *err);
void gs_layout_free(gs_layout *l);
/* Appends a selfcheck report ("runtime.g.goid  @152  ok") to sb; returns missing count of
 * required fields. */
int gs_layout_report(const gs_layout *l, gs_strbuf *sb, bool json);
/* Appends one line (text) or object (JSON, comma-separated) per field whose kind is not
 * the manifest's; returns how many. */
size_t gs_layout_report_mismatches(const gs_layout *l, gs_strbuf *sb, bool json);

/* The kind of a type as the manifest names kinds (typedefs and atomic wrappers looked
 * through); *width gets its size when a scalar of 1, 2, 4 or 8 bytes, else 0. */
enum gs_fkind gs_fkind_of(const gs_dtype *t, uint8_t *width);
/* Whether a field of kind `found` satisfies a manifest's `want`. */
bool gs_fkind_fits(enum gs_fkind want, enum gs_fkind found);

/* Field f of the struct whose bytes are buf[0..len), at `extra` more bytes (a member of an
 * embedded struct), read with the width of its type: zero-extended, sign-extended for
 * signed kinds. 0 when the field is absent, not a scalar, or outside buf. */
static inline uint64_t gs_layout_get(const gs_layout *l, int f, const uint8_t *buf, size_t len,
				     int64_t extra)
{
	int64_t off = l->offsets[f];
	unsigned w = l->widths[f];
	if (off < 0 || !w || off + extra < 0 || (uint64_t)(off + extra) + w > len)
		return 0;
	const uint8_t *p = buf + off + extra;
	uint64_t v = 0;
	if (w == 8) { /* the target is little-endian, like the host (x86-64) */
		memcpy(&v, p, 8);
		return v;
	}
	uint32_t v32;
	uint16_t v16;
	switch (w) {
	case 1: v = p[0]; break;
	case 2: memcpy(&v16, p, 2); v = v16; break;
	default: memcpy(&v32, p, 4); v = v32; break;
	}
	uint8_t k = l->kinds[f];
	if (w < 8 && (k == GS_FK_I32 || k == GS_FK_I64) && (v >> (8 * w - 1)) & 1)
		v |= ~(uint64_t)0 << (8 * w);
	return v;
}

/* Field f of the struct at base in t, read with its type's width (gs_layout_get), at
 * `extra` more bytes; 0 or -1 (absent, not a scalar, unreadable). */
int gs_layout_read(const gs_layout *l, int f, gs_target *t, uint64_t base, int64_t extra,
		   uint64_t *v);
/* Words [first, first + n) of a field of several words, read at base: an interface (0 its
 * itab or type, 1 its data), a string (pointer, length), a slice (pointer, length,
 * capacity). -1 when the field is absent, the binary's type is not of that shape (a
 * slice read as a string's two words is fine; a third word of an interface is not), or
 * the words are unreadable. */
int gs_layout_read_words(const gs_layout *l, int f, gs_target *t, uint64_t base,
			 unsigned first, unsigned n, uint64_t *w);
/* Whether the binary has field f (resolved, of the manifest's kind). */
static inline bool gs_layout_has(const gs_layout *l, int f) { return l->offsets[f] >= 0; }

/* Indices into the runtime manifest (gs_runtime_fields). Keep in sync with layout.c. */
enum gs_rt_field {
	RT_G_STACK_LO, RT_G_STACK_HI, RT_G_M, RT_G_SCHED, RT_G_SYSCALLSP, RT_G_SYSCALLPC,
	RT_G_STATUS, RT_G_GOID, RT_G_WAITSINCE, RT_G_WAITREASON, RT_G_GOPC, RT_G_STARTPC,
	RT_G_WAITING, RT_G_PARENTGOID, RT_G_SLEEPWHEN, RT_G_PARAM, RT_G_LABELS,
	RT_GOBUF_SP, RT_GOBUF_PC, RT_GOBUF_BP,
	RT_M_PROCID, RT_M_CURG, RT_M_ALLLINK, RT_M_G0,
	RT_SUDOG_G, RT_SUDOG_NEXT, RT_SUDOG_PREV, RT_SUDOG_ELEM, RT_SUDOG_ISSELECT,
	RT_SUDOG_WAITLINK, RT_SUDOG_C, RT_SUDOG_TICKET,
	RT_HCHAN_QCOUNT, RT_HCHAN_DATAQSIZ, RT_HCHAN_BUF, RT_HCHAN_ELEMSIZE, RT_HCHAN_CLOSED,
	RT_HCHAN_ELEMTYPE, RT_HCHAN_RECVQ, RT_HCHAN_SENDQ,
	RT_WAITQ_FIRST,
	RT_SEMAROOT_TREAP,
	RT_PD_FD, RT_PD_RG, RT_PD_WG, RT_PD_CLOSING, RT_PD_SELF,
	RT_STRING_STR, RT_STRING_LEN,
	RT_SPAN_START, RT_SPAN_NPAGES, RT_SPAN_ELEMSIZE, RT_SPAN_STATE, RT_SPAN_CLASS, RT_MHEAP_ALLSPANS,
	RT_MHEAP_ARENAS,
	/* pprof label sets (labels.c) as a list, 1.24+ (a map before) */
	RT_LABELMAP_LIST, RT_LABEL_KEY, RT_LABEL_VALUE, RT_LABEL2_KEY, RT_LABEL2_VALUE,
	/* context.Context chains (context.c) and time.Time */
	RT_CTX_CANCEL_PARENT, RT_CTX_CANCEL_ERR, RT_CTX_TIMER_CANCEL, RT_CTX_TIMER_DEADLINE,
	RT_TIME_WALL, RT_TIME_EXT, RT_CTX_VALUE_PARENT, RT_CTX_WITHOUT_PARENT,
	RT_CTX_AFTERFUNC_CANCEL, RT_CTX_STOP_PARENT,
	/* type descriptors (iface.c resolves these five on their own, in this order) */
	RT_ABI_TYPE_TFLAG, RT_ABI_TYPE_KIND, RT_ABI_TYPE_STR, RT_ABI_PTR_ELEM, RT_ABI_ITAB_TYPE,
	/* globals the model checks (model.c) */
	RT_SCHED_GOIDGEN, RT_SCHED_LASTPOLL, RT_ITABTABLE_SIZE, RT_ITABTABLE_COUNT,
	RT_NFIELDS
};

extern const gs_field_spec gs_runtime_fields[RT_NFIELDS];

#endif
