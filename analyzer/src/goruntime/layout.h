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

#include "../binary/dwarf_types.h"
#include "../util/strbuf.h"

/* One manifest entry. `via` names a member path inside the field's type that holds the
 * actual value (e.g. "vu" for Go 1.26's maybeTraceablePtr, "value" for atomic.Uint32): when
 * the resolved member's type has such a member its offset is added. */
typedef struct gs_field_spec {
	const char *type;   /* DWARF struct name, e.g. "runtime.g" */
	const char *names;  /* alternatives, e.g. "elem" */
	const char *via;    /* optional inner member alternatives, or NULL */
	bool required;
	const char *note;   /* why the analyser reads it / version remarks */
} gs_field_spec;

/* A resolved manifest: offsets[i] for specs[i] (-1 if absent), sizes of the structs. */
typedef struct gs_layout {
	const gs_field_spec *specs;
	size_t n;
	int64_t *offsets;
	uint64_t *sizes;      /* size of specs[i].type, 0 if the type is absent */
	const char **found_as; /* member name actually found (for selfcheck), or NULL */
	uint8_t *sources;      /* enum gs_tsource of specs[i].type, when found */
} gs_layout;

/* "dwarf", "descriptor" or "table". */
const char *gs_tsource_name(int source);

/* Resolves every spec against the DWARF. Fails (GS_EINPUT) only if a required field of a
 * present binary is missing: the message lists the first such field. */
int gs_layout_resolve(gs_layout *l, const gs_field_spec *specs, size_t n, gs_dwarf *d,
		      gs_err *err);
void gs_layout_free(gs_layout *l);
/* Appends a selfcheck report ("runtime.g.goid  @152  ok") to sb; returns missing count of
 * required fields. */
int gs_layout_report(const gs_layout *l, gs_strbuf *sb, bool json);

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
	RT_NFIELDS
};

extern const gs_field_spec gs_runtime_fields[RT_NFIELDS];

#endif
