#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"

/* The runtime manifest. Order = enum gs_rt_field. */
const gs_field_spec gs_runtime_fields[RT_NFIELDS] = {
	[RT_G_STACK_LO] = {"runtime.g", "stack", "lo", true, "goroutine stack bounds", GS_FK_U64},
	[RT_G_STACK_HI] = {"runtime.g", "stack", "hi", true, "goroutine stack bounds", GS_FK_U64},
	[RT_G_M] = {"runtime.g", "m", NULL, true, "M running the goroutine", GS_FK_PTR},
	[RT_G_SCHED] = {"runtime.g", "sched", NULL, true, "saved context of a parked goroutine", GS_FK_STRUCT},
	[RT_G_SYSCALLSP] = {"runtime.g", "syscallsp", NULL, true, "unwind start in a syscall", GS_FK_U64},
	[RT_G_SYSCALLPC] = {"runtime.g", "syscallpc", NULL, true, "unwind start in a syscall", GS_FK_U64},
	[RT_G_STATUS] = {"runtime.g", "atomicstatus", "value", true,
			 "uint32; atomic.Uint32{value} since 1.20", GS_FK_U32},
	[RT_G_GOID] = {"runtime.g", "goid", NULL, true, "int64 (1.19), uint64 later", GS_FK_X64},
	[RT_G_WAITSINCE] = {"runtime.g", "waitsince", NULL, false, "set lazily by the GC", GS_FK_I64},
	[RT_G_WAITREASON] = {"runtime.g", "waitreason", NULL, true, "index into waitReasonStrings", GS_FK_U8},
	[RT_G_GOPC] = {"runtime.g", "gopc", NULL, true, "pc of the go statement", GS_FK_U64},
	[RT_G_STARTPC] = {"runtime.g", "startpc", NULL, true, "goroutine function", GS_FK_U64},
	[RT_G_WAITING] = {"runtime.g", "waiting", NULL, true, "sudogs the goroutine parks on", GS_FK_PTR},
	[RT_G_PARENTGOID] = {"runtime.g", "parentGoid", NULL, false, "1.21+", GS_FK_U64},
	[RT_G_SLEEPWHEN] = {"runtime.g", "sleepWhen", NULL, false, "1.23+", GS_FK_I64},
	[RT_G_PARAM] = {"runtime.g", "param", NULL, false, "wake-up sudog", GS_FK_PTR},
	[RT_G_LABELS] = {"runtime.g", "labels", NULL, false, "pprof labels (*runtime/pprof.labelMap)", GS_FK_PTR},
	[RT_GOBUF_SP] = {"runtime.gobuf", "sp", NULL, true, NULL, GS_FK_U64},
	[RT_GOBUF_PC] = {"runtime.gobuf", "pc", NULL, true, NULL, GS_FK_U64},
	[RT_GOBUF_BP] = {"runtime.gobuf", "bp", NULL, false, NULL, GS_FK_U64},
	[RT_M_PROCID] = {"runtime.m", "procid", NULL, true, "thread id, matches NT_PRSTATUS", GS_FK_U64},
	[RT_M_CURG] = {"runtime.m", "curg", NULL, true, "user goroutine on this M", GS_FK_PTR},
	[RT_M_ALLLINK] = {"runtime.m", "alllink", NULL, true, "runtime.allm list", GS_FK_PTR},
	[RT_M_G0] = {"runtime.m", "g0", NULL, false, NULL, GS_FK_PTR},
	[RT_SUDOG_G] = {"runtime.sudog", "g", NULL, true, NULL, GS_FK_PTR},
	[RT_SUDOG_NEXT] = {"runtime.sudog", "next", NULL, true, "wait queue / treap child", GS_FK_PTR},
	[RT_SUDOG_PREV] = {"runtime.sudog", "prev", NULL, true, "wait queue / treap child", GS_FK_PTR},
	[RT_SUDOG_ELEM] = {"runtime.sudog", "elem", "vu", true,
			   "maybeTraceablePtr{vp,vu} since 1.26: vu is the truth", GS_FK_WORD},
	[RT_SUDOG_ISSELECT] = {"runtime.sudog", "isSelect", NULL, true, NULL, GS_FK_BOOL},
	[RT_SUDOG_WAITLINK] = {"runtime.sudog", "waitlink", NULL, true, NULL, GS_FK_PTR},
	[RT_SUDOG_C] = {"runtime.sudog", "c", "vu|ptr", true, "maybeTraceableChan since 1.26", GS_FK_WORD},
	[RT_SUDOG_TICKET] = {"runtime.sudog", "ticket", NULL, false, NULL, GS_FK_U32},
	[RT_HCHAN_QCOUNT] = {"runtime.hchan", "qcount", NULL, true, NULL, GS_FK_U64},
	[RT_HCHAN_DATAQSIZ] = {"runtime.hchan", "dataqsiz", NULL, true, NULL, GS_FK_U64},
	[RT_HCHAN_BUF] = {"runtime.hchan", "buf", NULL, true, NULL, GS_FK_PTR},
	[RT_HCHAN_ELEMSIZE] = {"runtime.hchan", "elemsize", NULL, true, NULL, GS_FK_U16},
	[RT_HCHAN_CLOSED] = {"runtime.hchan", "closed", NULL, true, NULL, GS_FK_U32},
	[RT_HCHAN_ELEMTYPE] = {"runtime.hchan", "elemtype", NULL, false, NULL, GS_FK_PTR},
	[RT_HCHAN_RECVQ] = {"runtime.hchan", "recvq", NULL, true, NULL, GS_FK_STRUCT},
	[RT_HCHAN_SENDQ] = {"runtime.hchan", "sendq", NULL, true, NULL, GS_FK_STRUCT},
	[RT_WAITQ_FIRST] = {"runtime.waitq", "first", NULL, true, NULL, GS_FK_PTR},
	[RT_SEMAROOT_TREAP] = {"runtime.semaRoot", "treap", NULL, false, "sync waits before 1.26", GS_FK_WORD},
	[RT_PD_FD] = {"runtime.pollDesc", "fd", NULL, false, "netpoll", GS_FK_U64},
	[RT_PD_RG] = {"runtime.pollDesc", "rg", "value", false, "*g parked to read", GS_FK_U64},
	[RT_PD_WG] = {"runtime.pollDesc", "wg", "value", false, "*g parked to write", GS_FK_U64},
	[RT_PD_CLOSING] = {"runtime.pollDesc", "closing", NULL, false, NULL, GS_FK_BOOL},
	[RT_PD_SELF] = {"runtime.pollDesc", "self", NULL, false, "self == pd once opened", GS_FK_PTR},
	[RT_STRING_STR] = {"string", "str", NULL, true, NULL, GS_FK_PTR},
	[RT_STRING_LEN] = {"string", "len", NULL, true, NULL, GS_FK_I64},
	/* The heap walk (heapwalk.c); optional: without them no heap object is found. */
	[RT_SPAN_START] = {"runtime.mspan", "startAddr", NULL, false, "heap spans", GS_FK_U64},
	[RT_SPAN_NPAGES] = {"runtime.mspan", "npages", NULL, false, NULL, GS_FK_U64},
	[RT_SPAN_ELEMSIZE] = {"runtime.mspan", "elemsize", NULL, false, NULL, GS_FK_U64},
	[RT_SPAN_STATE] = {"runtime.mspan", "state", "s", false, "1 = in use", GS_FK_U8},
	[RT_SPAN_CLASS] = {"runtime.mspan", "spanclass", NULL, false, "size class << 1 | noscan", GS_FK_U8},
	[RT_MHEAP_ALLSPANS] = {"runtime.mheap", "allspans", NULL, false, "[]*mspan", GS_FK_SLICE},
	/* every heap arena's index (renamed in Go 1.25); only the live copy reads it */
	[RT_MHEAP_ARENAS] = {"runtime.mheap", "heapArenas|allArenas", NULL, false, "[]arenaIdx",
			     GS_FK_SLICE},
	/* pprof labels (labels.c): labelMap{LabelSet{list []label}} in 1.24/1.25,
	 * labelMap{label.Set{List []label.Label}} from 1.26; a map[string]string before. */
	[RT_LABELMAP_LIST] = {"runtime/pprof.labelMap", "LabelSet|Set", "list|List", false,
			      "1.24+", GS_FK_SLICE},
	[RT_LABEL_KEY] = {"runtime/pprof.label", "key", NULL, false, "1.24/1.25", GS_FK_STRING},
	[RT_LABEL_VALUE] = {"runtime/pprof.label", "value", NULL, false, "1.24/1.25", GS_FK_STRING},
	[RT_LABEL2_KEY] = {"internal/runtime/pprof/label.Label", "Key", NULL, false, "1.26+",
			   GS_FK_STRING},
	[RT_LABEL2_VALUE] = {"internal/runtime/pprof/label.Label", "Value", NULL, false, "1.26+",
			     GS_FK_STRING},
	/* context chains (context.c); optional: without them a chain ends "unreadable" */
	[RT_CTX_CANCEL_PARENT] = {"context.cancelCtx", "Context", NULL, false, "context chains",
				  GS_FK_IFACE},
	[RT_CTX_CANCEL_ERR] = {"context.cancelCtx", "err", "v", false,
			       "error; atomic.Value{v any} since 1.25", GS_FK_IFACE},
	[RT_CTX_TIMER_CANCEL] = {"context.timerCtx", "cancelCtx", NULL, false, NULL, GS_FK_STRUCT},
	[RT_CTX_TIMER_DEADLINE] = {"context.timerCtx", "deadline", NULL, false, "time.Time",
				   GS_FK_STRUCT},
	[RT_TIME_WALL] = {"time.Time", "wall", NULL, false, "deadlines", GS_FK_U64},
	[RT_TIME_EXT] = {"time.Time", "ext", NULL, false, "deadlines", GS_FK_I64},
	[RT_CTX_VALUE_PARENT] = {"context.valueCtx", "Context", NULL, false, NULL, GS_FK_IFACE},
	[RT_CTX_WITHOUT_PARENT] = {"context.withoutCancelCtx", "c", NULL, false, "1.21+",
				   GS_FK_IFACE},
	[RT_CTX_AFTERFUNC_CANCEL] = {"context.afterFuncCtx", "cancelCtx", NULL, false, "1.21+",
				     GS_FK_STRUCT},
	[RT_CTX_STOP_PARENT] = {"context.stopCtx", "Context", NULL, false, "1.21+", GS_FK_IFACE},
	/* Type descriptors (iface.c); absent: the version table's offsets (20, 23, 40, 48, 8),
	 * another kind: the descriptors are not read. */
	[RT_ABI_TYPE_TFLAG] = {"internal/abi.Type|runtime._type", "TFlag|tflag", NULL, false,
			       "runtime._type before 1.21", GS_FK_U8},
	[RT_ABI_TYPE_KIND] = {"internal/abi.Type|runtime._type", "Kind_|kind", NULL, false, NULL,
			      GS_FK_U8},
	[RT_ABI_TYPE_STR] = {"internal/abi.Type|runtime._type", "Str|str", NULL, false,
			     "nameOff into the types region", GS_FK_X32},
	[RT_ABI_PTR_ELEM] = {"internal/abi.PtrType|runtime.ptrtype", "Elem|elem", NULL, false, NULL,
			     GS_FK_PTR},
	[RT_ABI_ITAB_TYPE] = {"internal/abi.ITab|runtime.itab", "Type|_type", NULL, false,
			      "dynamic type of an interface", GS_FK_PTR},
	/* Globals the model checks and reads (model.c); a stripped binary may lack the types:
	 * the checks then read the first words, as the runtime has laid them out since 1.19. */
	[RT_SCHED_GOIDGEN] = {"runtime.schedt", "goidgen", NULL, false,
			      "counts goroutines (runtime.sched check)", GS_FK_U64},
	[RT_SCHED_LASTPOLL] = {"runtime.schedt", "lastpoll", NULL, false, "the snapshot's time",
			       GS_FK_X64},
	[RT_ITABTABLE_SIZE] = {"runtime.itabTableType", "size", NULL, false,
			       "runtime.itabTable check", GS_FK_U64},
	[RT_ITABTABLE_COUNT] = {"runtime.itabTableType", "count", NULL, false, NULL, GS_FK_U64},
};

/* The first of the '|'-separated type names d has; NULL with err's code GS_ENOTFOUND when
 * none. */
static const gs_dtype *first_type(gs_dwarf *d, const char *names, gs_err *err)
{
	char buf[128];
	if (!strchr(names, '|'))
		return gs_dwarf_type(d, names, err);
	for (const char *p = names; *p;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n < sizeof buf) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			gs_err e = {0};
			const gs_dtype *t = gs_dwarf_type(d, buf, &e);
			if (t || e.code == GS_EINTERNAL || gs_dwarf_nomem(d)) {
				if (!t && err)
					*err = e;
				return t;
			}
		}
		if (!bar)
			break;
		p = bar + 1;
	}
	gs_errf(err, GS_ENOTFOUND, "no type %s", names);
	return NULL;
}

/* Adds the offset of an inner member (alternatives in `via`) when the field's type has one;
 * *type becomes that member's type. */
static int64_t inner_offset(const gs_dtype *t, const char *via, const char **found,
			    const gs_dtype **type)
{
	for (int depth = 0; t && depth < 4; depth++) {
		if (t->kind == GS_DK_TYPEDEF) {
			t = t->elem;
			continue;
		}
		const gs_dmember *m = gs_dwarf_member(t, via);
		if (m) {
			*found = m->name;
			*type = m->type;
			return (int64_t)m->offset;
		}
		/* An embedded struct first (maybeTraceableChan embeds maybeTraceablePtr). */
		if (t->kind == GS_DK_STRUCT && t->nmembers && !t->members[0].offset &&
		    t->members[0].type && gs_dwarf_resolve(t->members[0].type)->kind == GS_DK_STRUCT) {
			t = t->members[0].type;
			continue;
		}
		return 0;
	}
	return 0;
}

const char *gs_fkind_name(int kind)
{
	static const char *const n[] = {"any", "bool", "u8", "u16", "u32", "u64", "i32", "i64",
					"int32|uint32", "int64|uint64", "word", "pointer", "slice", "string", "iface",
					"struct", "other", "pointer|struct", "iface|struct", "pointer|iface"};
	return kind >= 0 && kind <= GS_FK_PTR_OR_IFACE ? n[kind] : "?";
}

static bool pointer_shaped(const gs_dtype *t)
{
	return t->kind == GS_DK_POINTER || t->kind == GS_DK_CHAN || t->kind == GS_DK_MAP ||
	       t->kind == GS_DK_FUNC;
}

/* A type's size; DWARF gives Go's chan, map and func types none (they are typedefs of a
 * pointer), so a pointer-shaped type is one word; nor its interfaces (typedefs of
 * runtime.iface/eface): two words, so that atomic.Value reads as the interface it wraps,
 * as its descriptor says. */
static uint64_t type_size(const gs_dtype *t)
{
	return pointer_shaped(t) ? 8 : t->kind == GS_DK_INTERFACE && !t->size ? 16 : t->size;
}

/* An atomic wrapper's value: the one member with a size, at offset 0, as large as t. */
static const gs_dtype *unwrap(const gs_dtype *t)
{
	for (int depth = 0; t && depth < 4; depth++) {
		t = gs_dwarf_resolve(t);
		if (t->kind != GS_DK_STRUCT || !t->size)
			return t;
		const gs_dmember *one = NULL;
		for (size_t i = 0; i < t->nmembers; i++) {
			const gs_dtype *mt = t->members[i].type;
			if (!mt || !type_size(gs_dwarf_resolve(mt)))
				continue;
			if (one)
				return t;
			one = &t->members[i];
		}
		if (!one || one->offset || type_size(gs_dwarf_resolve(one->type)) != t->size)
			return t;
		t = one->type;
	}
	return t;
}

static enum gs_fkind integer_kind(int go_kind, uint64_t size)
{
	if (go_kind == GS_GOK_BOOL)
		return size == 1 ? GS_FK_BOOL : GS_FK_OTHER;
	bool sig = go_kind >= GS_GOK_INT && go_kind <= GS_GOK_INT64;
	bool uns = go_kind >= GS_GOK_UINT && go_kind <= GS_GOK_UINTPTR;
	switch (size) {
	case 1: return sig ? GS_FK_OTHER : GS_FK_U8;
	case 2: return sig ? GS_FK_OTHER : GS_FK_U16;
	case 4: return sig ? GS_FK_I32 : uns ? GS_FK_U32 : GS_FK_X32;
	case 8: return sig ? GS_FK_I64 : uns ? GS_FK_U64 : GS_FK_X64;
	default: return GS_FK_OTHER;
	}
}

enum gs_fkind gs_fkind_of(const gs_dtype *t, uint8_t *width)
{
	*width = 0;
	t = t ? unwrap(t) : NULL;
	if (!t)
		return GS_FK_OTHER;
	enum gs_fkind k;
	switch (t->kind) {
	case GS_DK_BASE:
		k = t->go_kind == GS_GOK_UNSAFEPTR && t->size == 8 ? GS_FK_PTR
			: integer_kind(t->go_kind, t->size);
		break;
	case GS_DK_POINTER: case GS_DK_CHAN: case GS_DK_MAP: case GS_DK_FUNC:
		*width = 8;
		return GS_FK_PTR;
	case GS_DK_SLICE: k = GS_FK_SLICE; break;
	case GS_DK_STRING: k = GS_FK_STRING; break;
	case GS_DK_INTERFACE: k = GS_FK_IFACE; break;
	case GS_DK_STRUCT: k = GS_FK_STRUCT; break;
	default: k = GS_FK_OTHER; break;
	}
	if (k == GS_FK_IFACE)
		*width = 8; /* its first word: nil or not */
	else if (t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8)
		if (k != GS_FK_SLICE && k != GS_FK_STRING && k != GS_FK_STRUCT)
			*width = (uint8_t)t->size;
	return k;
}

bool gs_fkind_fits(enum gs_fkind want, enum gs_fkind found)
{
	if (want == GS_FK_ANY || want == found)
		return true;
	switch (want) {
	case GS_FK_X32: return found == GS_FK_U32 || found == GS_FK_I32;
	case GS_FK_X64: return found == GS_FK_U64 || found == GS_FK_I64;
	case GS_FK_U32: case GS_FK_I32: return found == GS_FK_X32;
	case GS_FK_U64: case GS_FK_I64: return found == GS_FK_X64;
	case GS_FK_WORD:
		return found == GS_FK_PTR || found == GS_FK_U64 || found == GS_FK_I64 ||
		       found == GS_FK_X64;
	case GS_FK_PTR_OR_STRUCT: return found == GS_FK_PTR || found == GS_FK_STRUCT;
	case GS_FK_IFACE_OR_STRUCT: return found == GS_FK_IFACE || found == GS_FK_STRUCT;
	case GS_FK_PTR_OR_IFACE: return found == GS_FK_PTR || found == GS_FK_IFACE;
	default: return false;
	}
}

int gs_layout_resolve(gs_layout *l, const gs_field_spec *specs, size_t n, gs_dwarf *d,
		      gs_err *err)
{
	l->specs = specs;
	l->n = n;
	l->offsets = gs_calloc(n, sizeof *l->offsets, err);
	l->sizes = gs_calloc(n, sizeof *l->sizes, err);
	l->found_as = gs_calloc(n, sizeof *l->found_as, err);
	l->sources = gs_calloc(n, sizeof *l->sources, err);
	l->kinds = gs_calloc(n, sizeof *l->kinds, err);
	l->widths = gs_calloc(n, sizeof *l->widths, err);
	l->mismatch = gs_calloc(n, sizeof *l->mismatch, err);
	l->via_found = gs_calloc(n, sizeof *l->via_found, err);
	l->nmismatch = 0;
	if (!l->offsets || !l->sizes || !l->found_as || !l->sources || !l->kinds || !l->widths ||
	    !l->mismatch || !l->via_found)
		return -1; /* freed by gs_layout_free */
	int first_missing = -1;
	for (size_t i = 0; i < n; i++) {
		gs_err e = {0};
		l->offsets[i] = -1;
		const gs_dtype *t = first_type(d, specs[i].type, &e);
		if (!t && (e.code == GS_EINTERNAL || gs_dwarf_nomem(d))) /* not a missing type */
			return gs_errf(err, GS_EINTERNAL, "%s", e.code == GS_EINTERNAL ? e.msg : "out of memory");
		if (t) {
			while (t && t->kind == GS_DK_TYPEDEF && t->elem)
				t = t->elem;
			l->sizes[i] = t->size;
			l->sources[i] = t->source;
			const gs_dmember *m = gs_dwarf_member(t, specs[i].names);
			if (m) {
				const char *inner = NULL;
				const gs_dtype *ft = m->type;
				l->offsets[i] = (int64_t)m->offset;
				l->found_as[i] = m->name;
				if (specs[i].via)
					l->offsets[i] += inner_offset(m->type, specs[i].via, &inner,
								      &ft);
				l->via_found[i] = inner != NULL;
				l->kinds[i] = (uint8_t)gs_fkind_of(ft, &l->widths[i]);
				if (!gs_fkind_fits((enum gs_fkind)specs[i].kind,
						   (enum gs_fkind)l->kinds[i])) {
					l->mismatch[i] = true;
					l->nmismatch++;
					l->offsets[i] = -1;
				}
			}
		}
		if (l->offsets[i] < 0 && specs[i].required && first_missing < 0)
			first_missing = (int)i;
	}
	if (first_missing >= 0 && l->mismatch[first_missing])
		return gs_errf(err, GS_EINPUT, "field %s.%s is a %s in the binary, the manifest "
			       "expects a %s (required)", specs[first_missing].type,
			       specs[first_missing].names,
			       gs_fkind_name(l->kinds[first_missing]),
			       gs_fkind_name(specs[first_missing].kind));
	if (first_missing >= 0)
		return gs_errf(err, GS_EINPUT, "DWARF has no field %s.%s (required)",
			       specs[first_missing].type, specs[first_missing].names);
	return 0;
}

void gs_layout_free(gs_layout *l)
{
	free(l->offsets);
	free(l->sizes);
	free(l->found_as);
	free(l->sources);
	free(l->kinds);
	free(l->widths);
	free(l->mismatch);
	free(l->via_found);
	memset(l, 0, sizeof *l);
}

const char *gs_tsource_name(int source)
{
	return source == GS_TR_DESCRIPTOR ? "descriptor" : source == GS_TR_TABLE ? "table" : "dwarf";
}

int gs_layout_report(const gs_layout *l, gs_strbuf *sb, bool json)
{
	int missing = 0;
	for (size_t i = 0; i < l->n; i++) {
		const gs_field_spec *s = &l->specs[i];
		bool ok = l->offsets[i] >= 0;
		if (!ok && s->required)
			missing++;
		const char *state = ok ? "ok" : l->mismatch[i] ? "MISMATCH"
				     : (s->required ? "MISSING" : "absent");
		if (json) {
			gs_strbuf_puts(sb, i ? ",{" : "{");
			gs_strbuf_puts(sb, "\"type\":");
			gs_strbuf_json_str(sb, s->type);
			gs_strbuf_puts(sb, ",\"field\":");
			gs_strbuf_json_str(sb, s->names);
			gs_strbuf_printf(sb, ",\"offset\":%lld,\"required\":%s,\"state\":\"%s\"",
					 (long long)l->offsets[i], s->required ? "true" : "false",
					 state);
			if (ok || l->mismatch[i])
				gs_strbuf_printf(sb, ",\"source\":\"%s\",\"kind\":\"%s\"",
						 gs_tsource_name(l->sources[i]),
						 gs_fkind_name(l->kinds[i]));
			gs_strbuf_printf(sb, ",\"expected\":\"%s\"}", gs_fkind_name(s->kind));
		} else {
			char name[160];
			snprintf(name, sizeof name, "%s.%s%s%s", s->type,
				 l->found_as[i] ? l->found_as[i] : s->names, s->via ? "." : "",
				 s->via ? s->via : "");
			if (ok)
				gs_strbuf_printf(sb, "  %-52s @%-5lld %s  %-10s %s\n", name,
						 (long long)l->offsets[i], state,
						 gs_tsource_name(l->sources[i]),
						 gs_fkind_name(l->kinds[i]));
			else if (l->mismatch[i])
				gs_strbuf_printf(sb, "  %-52s        %s  a %s, expected a %s\n", name,
						 state, gs_fkind_name(l->kinds[i]),
						 gs_fkind_name(s->kind));
			else
				gs_strbuf_printf(sb, "  %-52s        %s%s%s\n", name, state,
						 s->note ? "  " : "", s->note ? s->note : "");
		}
	}
	return missing;
}

size_t gs_layout_report_mismatches(const gs_layout *l, gs_strbuf *sb, bool json)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (!l->mismatch[i])
			continue;
		const gs_field_spec *s = &l->specs[i];
		if (json) {
			gs_strbuf_puts(sb, n ? ",{\"type\":" : "{\"type\":");
			gs_strbuf_json_str(sb, s->type);
			gs_strbuf_puts(sb, ",\"field\":");
			gs_strbuf_json_str(sb, s->names);
			gs_strbuf_printf(sb, ",\"kind\":\"%s\",\"expected\":\"%s\"}",
					 gs_fkind_name(l->kinds[i]), gs_fkind_name(s->kind));
		} else {
			gs_strbuf_printf(sb, "  %s.%s is a %s, the manifest expects a %s: not read\n",
					 s->type, s->names, gs_fkind_name(l->kinds[i]),
					 gs_fkind_name(s->kind));
		}
		n++;
	}
	return n;
}

int gs_layout_read(const gs_layout *l, int f, gs_target *t, uint64_t base, int64_t extra,
		   uint64_t *v)
{
	uint64_t x = 0;
	int64_t off = l->offsets[f];
	unsigned w = l->widths[f];
	if (off < 0 || !w || gs_target_read(t, base + (uint64_t)(off + extra), &x, w, NULL) < 0)
		return -1;
	*v = w == 8 ? x : gs_layout_get(l, f, (const uint8_t *)&x, w, -off);
	return 0;
}

/* How many words a field of kind k is made of, when more than one. */
static unsigned kind_words(uint8_t k)
{
	return k == GS_FK_SLICE ? 3 : k == GS_FK_STRING || k == GS_FK_IFACE ? 2 : 0;
}

int gs_layout_read_words(const gs_layout *l, int f, gs_target *t, uint64_t base,
			 unsigned first, unsigned n, uint64_t *w)
{
	int64_t off = l->offsets[f];
	if (off < 0 || !n || first + n > kind_words(l->kinds[f]))
		return -1;
	return gs_target_read(t, base + (uint64_t)off + 8 * first, w, 8 * (size_t)n, NULL);
}
