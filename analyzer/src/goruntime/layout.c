#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/strbuf.h"

/* The runtime manifest. Order = enum gs_rt_field. */
const gs_field_spec gs_runtime_fields[RT_NFIELDS] = {
	[RT_G_STACK_LO] = {"runtime.g", "stack", "lo", true, "goroutine stack bounds"},
	[RT_G_STACK_HI] = {"runtime.g", "stack", "hi", true, "goroutine stack bounds"},
	[RT_G_M] = {"runtime.g", "m", NULL, true, "M running the goroutine"},
	[RT_G_SCHED] = {"runtime.g", "sched", NULL, true, "saved context of a parked goroutine"},
	[RT_G_SYSCALLSP] = {"runtime.g", "syscallsp", NULL, true, "unwind start in a syscall"},
	[RT_G_SYSCALLPC] = {"runtime.g", "syscallpc", NULL, true, "unwind start in a syscall"},
	[RT_G_STATUS] = {"runtime.g", "atomicstatus", "value", true,
			 "uint32; atomic.Uint32{value} since 1.20"},
	[RT_G_GOID] = {"runtime.g", "goid", NULL, true, "int64 (1.19), uint64 later"},
	[RT_G_WAITSINCE] = {"runtime.g", "waitsince", NULL, false, "set lazily by the GC"},
	[RT_G_WAITREASON] = {"runtime.g", "waitreason", NULL, true, "index into waitReasonStrings"},
	[RT_G_GOPC] = {"runtime.g", "gopc", NULL, true, "pc of the go statement"},
	[RT_G_STARTPC] = {"runtime.g", "startpc", NULL, true, "goroutine function"},
	[RT_G_WAITING] = {"runtime.g", "waiting", NULL, true, "sudogs the goroutine parks on"},
	[RT_G_PARENTGOID] = {"runtime.g", "parentGoid", NULL, false, "1.21+"},
	[RT_G_SLEEPWHEN] = {"runtime.g", "sleepWhen", NULL, false, "1.23+"},
	[RT_G_PARAM] = {"runtime.g", "param", NULL, false, "wake-up sudog"},
	[RT_G_LABELS] = {"runtime.g", "labels", NULL, false, "pprof labels (*runtime/pprof.labelMap)"},
	[RT_GOBUF_SP] = {"runtime.gobuf", "sp", NULL, true, NULL},
	[RT_GOBUF_PC] = {"runtime.gobuf", "pc", NULL, true, NULL},
	[RT_GOBUF_BP] = {"runtime.gobuf", "bp", NULL, false, NULL},
	[RT_M_PROCID] = {"runtime.m", "procid", NULL, true, "thread id, matches NT_PRSTATUS"},
	[RT_M_CURG] = {"runtime.m", "curg", NULL, true, "user goroutine on this M"},
	[RT_M_ALLLINK] = {"runtime.m", "alllink", NULL, true, "runtime.allm list"},
	[RT_M_G0] = {"runtime.m", "g0", NULL, false, NULL},
	[RT_SUDOG_G] = {"runtime.sudog", "g", NULL, true, NULL},
	[RT_SUDOG_NEXT] = {"runtime.sudog", "next", NULL, true, "wait queue / treap child"},
	[RT_SUDOG_PREV] = {"runtime.sudog", "prev", NULL, true, "wait queue / treap child"},
	[RT_SUDOG_ELEM] = {"runtime.sudog", "elem", "vu", true,
			   "maybeTraceablePtr{vp,vu} since 1.26: vu is the truth"},
	[RT_SUDOG_ISSELECT] = {"runtime.sudog", "isSelect", NULL, true, NULL},
	[RT_SUDOG_WAITLINK] = {"runtime.sudog", "waitlink", NULL, true, NULL},
	[RT_SUDOG_C] = {"runtime.sudog", "c", "vu|ptr", true, "maybeTraceableChan since 1.26"},
	[RT_SUDOG_TICKET] = {"runtime.sudog", "ticket", NULL, false, NULL},
	[RT_HCHAN_QCOUNT] = {"runtime.hchan", "qcount", NULL, true, NULL},
	[RT_HCHAN_DATAQSIZ] = {"runtime.hchan", "dataqsiz", NULL, true, NULL},
	[RT_HCHAN_BUF] = {"runtime.hchan", "buf", NULL, true, NULL},
	[RT_HCHAN_ELEMSIZE] = {"runtime.hchan", "elemsize", NULL, true, NULL},
	[RT_HCHAN_CLOSED] = {"runtime.hchan", "closed", NULL, true, NULL},
	[RT_HCHAN_ELEMTYPE] = {"runtime.hchan", "elemtype", NULL, false, NULL},
	[RT_HCHAN_RECVQ] = {"runtime.hchan", "recvq", NULL, true, NULL},
	[RT_HCHAN_SENDQ] = {"runtime.hchan", "sendq", NULL, true, NULL},
	[RT_WAITQ_FIRST] = {"runtime.waitq", "first", NULL, true, NULL},
	[RT_SEMAROOT_TREAP] = {"runtime.semaRoot", "treap", NULL, false, "sync waits before 1.26"},
	[RT_PD_FD] = {"runtime.pollDesc", "fd", NULL, false, "netpoll"},
	[RT_PD_RG] = {"runtime.pollDesc", "rg", "value", false, "*g parked to read"},
	[RT_PD_WG] = {"runtime.pollDesc", "wg", "value", false, "*g parked to write"},
	[RT_PD_CLOSING] = {"runtime.pollDesc", "closing", NULL, false, NULL},
	[RT_PD_SELF] = {"runtime.pollDesc", "self", NULL, false, "self == pd once opened"},
	[RT_STRING_STR] = {"string", "str", NULL, true, NULL},
	[RT_STRING_LEN] = {"string", "len", NULL, true, NULL},
	/* The heap walk (heapwalk.c); optional: without them no heap object is found. */
	[RT_SPAN_START] = {"runtime.mspan", "startAddr", NULL, false, "heap spans"},
	[RT_SPAN_NPAGES] = {"runtime.mspan", "npages", NULL, false, NULL},
	[RT_SPAN_ELEMSIZE] = {"runtime.mspan", "elemsize", NULL, false, NULL},
	[RT_SPAN_STATE] = {"runtime.mspan", "state", "s", false, "1 = in use"},
	[RT_SPAN_CLASS] = {"runtime.mspan", "spanclass", NULL, false, "size class << 1 | noscan"},
	[RT_MHEAP_ALLSPANS] = {"runtime.mheap", "allspans", NULL, false, NULL},
};

/* Adds the offset of an inner member (alternatives in `via`) when the field's type has one. */
static int64_t inner_offset(const gs_dtype *t, const char *via, const char **found)
{
	for (int depth = 0; t && depth < 4; depth++) {
		if (t->kind == GS_DK_TYPEDEF) {
			t = t->elem;
			continue;
		}
		const gs_dmember *m = gs_dwarf_member(t, via);
		if (m) {
			*found = m->name;
			return (int64_t)m->offset;
		}
		return 0;
	}
	return 0;
}

int gs_layout_resolve(gs_layout *l, const gs_field_spec *specs, size_t n, gs_dwarf *d,
		      gs_err *err)
{
	l->specs = specs;
	l->n = n;
	l->offsets = gs_xcalloc(n, sizeof *l->offsets);
	l->sizes = gs_xcalloc(n, sizeof *l->sizes);
	l->found_as = gs_xcalloc(n, sizeof *l->found_as);
	l->sources = gs_xcalloc(n, sizeof *l->sources);
	int first_missing = -1;
	for (size_t i = 0; i < n; i++) {
		gs_err e;
		l->offsets[i] = -1;
		const gs_dtype *t = gs_dwarf_type(d, specs[i].type, &e);
		if (t) {
			while (t && t->kind == GS_DK_TYPEDEF && t->elem)
				t = t->elem;
			l->sizes[i] = t->size;
			l->sources[i] = t->source;
			const gs_dmember *m = gs_dwarf_member(t, specs[i].names);
			if (m) {
				const char *inner = NULL;
				l->offsets[i] = (int64_t)m->offset;
				l->found_as[i] = m->name;
				if (specs[i].via)
					l->offsets[i] += inner_offset(m->type, specs[i].via, &inner);
			}
		}
		if (l->offsets[i] < 0 && specs[i].required && first_missing < 0)
			first_missing = (int)i;
	}
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
	memset(l, 0, sizeof *l);
}

const char *gs_tsource_name(int source)
{
	return source == GS_TS_DESCRIPTOR ? "descriptor" : source == GS_TS_TABLE ? "table" : "dwarf";
}

int gs_layout_report(const gs_layout *l, gs_strbuf *sb, bool json)
{
	int missing = 0;
	for (size_t i = 0; i < l->n; i++) {
		const gs_field_spec *s = &l->specs[i];
		bool ok = l->offsets[i] >= 0;
		if (!ok && s->required)
			missing++;
		const char *state = ok ? "ok" : (s->required ? "MISSING" : "absent");
		if (json) {
			gs_strbuf_puts(sb, i ? ",{" : "{");
			gs_strbuf_puts(sb, "\"type\":");
			gs_strbuf_json_str(sb, s->type);
			gs_strbuf_puts(sb, ",\"field\":");
			gs_strbuf_json_str(sb, s->names);
			gs_strbuf_printf(sb, ",\"offset\":%lld,\"required\":%s,\"state\":\"%s\"",
					 (long long)l->offsets[i], s->required ? "true" : "false",
					 state);
			if (ok)
				gs_strbuf_printf(sb, ",\"source\":\"%s\"",
						 gs_tsource_name(l->sources[i]));
			gs_strbuf_putc(sb, '}');
		} else {
			char name[160];
			snprintf(name, sizeof name, "%s.%s%s%s", s->type,
				 l->found_as[i] ? l->found_as[i] : s->names, s->via ? "." : "",
				 s->via ? s->via : "");
			if (ok)
				gs_strbuf_printf(sb, "  %-52s @%-5lld %s  %s\n", name,
						 (long long)l->offsets[i], state,
						 gs_tsource_name(l->sources[i]));
			else
				gs_strbuf_printf(sb, "  %-52s        %s%s%s\n", name, state,
						 s->note ? "  " : "", s->note ? s->note : "");
		}
	}
	return missing;
}
