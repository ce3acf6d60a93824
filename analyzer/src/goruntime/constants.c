#include "constants.h"
#include "layout.h"

#include "../binary/typedesc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL 0 /* a rule for every version */
#define TP "google.golang.org/grpc/internal/transport."
#define CONN "google.golang.org/grpc/connectivity."

/* The version table. Values checked against runtime/runtime2.go, runtime/malloc.go,
 * runtime/mheap.go, runtime/typekind.go and runtime/symtab.go (1.19-1.20),
 * internal/abi/type.go and internal/abi/symtab.go (1.21+) of
 * Go 1.19-1.27, and internal/transport/{transport,controlbuf}.go and
 * connectivity/connectivity.go of grpc-go 1.33, 1.64 and 1.81 (identical in the three).
 * Order = enum gs_const_id. */
const gs_const_spec gs_const_specs[GS_K_NCONSTS] = {
	[GS_K_PAGE_SIZE] = {"runtime._PageSize", "runtime._PageSize", false, {{ALL, 8192}},
			    "1 << _PageShift (13)"},
	[GS_K_SPAN_IN_USE] = {"runtime.mSpanInUse", "runtime.mSpanInUse", false, {{ALL, 1}},
			      "mSpanState: dead, in use, manual"},
	[GS_K_SPANCLASS_NOSCAN] = {"runtime.spanClass.noscan", NULL, false, {{ALL, 1}},
				   "sizeclass << 1 | noscan: a bit no constant names"},
	[GS_K_HEAP_ARENA_BYTES] = {"runtime.heapArenaBytes", "runtime.heapArenaBytes", false,
				   {{ALL, 64 << 20}}, "linux/amd64"},
	[GS_K_ARENA_BASE_OFFSET] = {"runtime.arenaBaseOffset", "runtime.arenaBaseOffset", false,
				    {{ALL, (int64_t)0xffff800000000000ull}},
				    "linux/amd64: arena i starts at i * heapArenaBytes + this, mod 2^64"},
	[GS_K_WAIT_REASON_ZERO] = {"runtime.waitReasonZero", "runtime.waitReasonZero", false,
				   {{ALL, 0}}, NULL},
	[GS_K_G_IDLE] = {"runtime._Gidle", "runtime._Gidle", false, {{ALL, 0}}, NULL},
	[GS_K_G_RUNNABLE] = {"runtime._Grunnable", "runtime._Grunnable", false, {{ALL, 1}}, NULL},
	[GS_K_G_RUNNING] = {"runtime._Grunning", "runtime._Grunning", false, {{ALL, 2}}, NULL},
	[GS_K_G_SYSCALL] = {"runtime._Gsyscall", "runtime._Gsyscall", false, {{ALL, 3}}, NULL},
	[GS_K_G_WAITING] = {"runtime._Gwaiting", "runtime._Gwaiting", false, {{ALL, 4}}, NULL},
	[GS_K_G_DEAD] = {"runtime._Gdead", "runtime._Gdead", false, {{ALL, 6}}, NULL},
	[GS_K_G_COPYSTACK] = {"runtime._Gcopystack", "runtime._Gcopystack", false, {{ALL, 8}},
			      NULL},
	[GS_K_G_PREEMPTED] = {"runtime._Gpreempted", "runtime._Gpreempted", false, {{ALL, 9}},
			      NULL},
	[GS_K_G_LEAKED] = {"runtime._Gleaked", "runtime._Gleaked", false,
			   {{ALL, GS_CONST_NONE}, {26, 10}}, "1.26+ (goroutine leak profile)"},
	[GS_K_G_DEADEXTRA] = {"runtime._Gdeadextra", "runtime._Gdeadextra", false,
			      {{ALL, GS_CONST_NONE}, {26, 11}}, "1.26+"},
	[GS_K_G_SCAN] = {"runtime._Gscan", "runtime._Gscan", false, {{ALL, 0x1000}},
			 "bit or'ed into a status while the GC scans the stack"},
	[GS_K_KIND_MASK] = {"abi.KindMask", "internal/abi.KindMask|runtime.kindMask", false,
			    {{ALL, 0x1f}}, "1.26+ keeps no flag in the kind byte: masking is moot"},
	[GS_K_KIND_DIRECT_IFACE] = {"abi.KindDirectIface",
				    "internal/abi.KindDirectIface|runtime.kindDirectIface", false,
				    {{ALL, 0x20}}, "a kind bit up to 1.25"},
	[GS_K_TFLAG_DIRECT_IFACE] = {"abi.TFlagDirectIface", "internal/abi.TFlagDirectIface",
				     false, {{ALL, GS_CONST_NONE}, {26, 0x20}},
				     "a tflag bit since 1.26"},
	[GS_K_TFLAG_UNCOMMON] = {"abi.TFlagUncommon",
				 "internal/abi.TFlagUncommon|runtime.tflagUncommon", false,
				 {{ALL, 1}}, NULL},
	[GS_K_TFLAG_EXTRA_STAR] = {"abi.TFlagExtraStar",
				   "internal/abi.TFlagExtraStar|runtime.tflagExtraStar", false,
				   {{ALL, 2}}, NULL},
	[GS_K_KIND_ARRAY] = {"abi.Array", "internal/abi.Array|runtime.kindArray", false,
			     {{ALL, 17}}, NULL},
	[GS_K_KIND_CHAN] = {"abi.Chan", "internal/abi.Chan|runtime.kindChan", false, {{ALL, 18}},
			    NULL},
	[GS_K_KIND_FUNC] = {"abi.Func", "internal/abi.Func|runtime.kindFunc", false, {{ALL, 19}},
			    NULL},
	[GS_K_KIND_IFACE] = {"abi.Interface", "internal/abi.Interface|runtime.kindInterface",
			     false, {{ALL, 20}}, NULL},
	[GS_K_KIND_MAP] = {"abi.Map", "internal/abi.Map|runtime.kindMap", false, {{ALL, 21}},
			   NULL},
	[GS_K_KIND_PTR] = {"abi.Pointer", "internal/abi.Pointer|runtime.kindPtr", false,
			   {{ALL, 22}}, NULL},
	[GS_K_KIND_SLICE] = {"abi.Slice", "internal/abi.Slice|runtime.kindSlice", false,
			     {{ALL, 23}}, NULL},
	[GS_K_KIND_STRUCT] = {"abi.Struct", "internal/abi.Struct|runtime.kindStruct", false,
			      {{ALL, 25}}, NULL},
	[GS_K_KIND_UNSAFEPTR] = {"abi.UnsafePointer",
				 "internal/abi.UnsafePointer|runtime.kindUnsafePointer", false,
				 {{ALL, 26}}, "the last kind"},
	[GS_K_FUNCFLAG_TOPFRAME] = {"abi.FuncFlagTopFrame",
				    "internal/abi.FuncFlagTopFrame|runtime.funcFlag_TOPFRAME", false,
				    {{ALL, 1}}, "the outermost frame of a goroutine"},
	[GS_K_FUNCFLAG_SPWRITE] = {"abi.FuncFlagSPWrite",
				   "internal/abi.FuncFlagSPWrite|runtime.funcFlag_SPWRITE", false,
				   {{ALL, 2}}, "writes sp: no unwinding past it"},
	[GS_K_STREAM_ACTIVE] = {"transport.streamActive", TP "streamActive", true, {{ALL, 0}},
				NULL},
	[GS_K_STREAM_WRITE_DONE] = {"transport.streamWriteDone", TP "streamWriteDone", true,
				    {{ALL, 1}}, "END_STREAM sent"},
	[GS_K_STREAM_READ_DONE] = {"transport.streamReadDone", TP "streamReadDone", true,
				   {{ALL, 2}}, "END_STREAM received"},
	[GS_K_STREAM_DONE] = {"transport.streamDone", TP "streamDone", true, {{ALL, 3}}, NULL},
	[GS_K_TR_REACHABLE] = {"transport.reachable", TP "reachable", true, {{ALL, 0}}, NULL},
	[GS_K_TR_CLOSING] = {"transport.closing", TP "closing", true, {{ALL, 1}}, NULL},
	[GS_K_TR_DRAINING] = {"transport.draining", TP "draining", true, {{ALL, 2}}, NULL},
	[GS_K_GOAWAY_INVALID] = {"transport.GoAwayInvalid", TP "GoAwayInvalid", true, {{ALL, 0}},
				 "no GOAWAY received"},
	[GS_K_GOAWAY_NO_REASON] = {"transport.GoAwayNoReason", TP "GoAwayNoReason", true,
				   {{ALL, 1}}, NULL},
	[GS_K_GOAWAY_TOO_MANY_PINGS] = {"transport.GoAwayTooManyPings", TP "GoAwayTooManyPings",
					true, {{ALL, 2}}, NULL},
	[GS_K_OS_ACTIVE] = {"transport.active", TP "active", true, {{ALL, 0}}, "outStreamState"},
	[GS_K_OS_EMPTY] = {"transport.empty", TP "empty", true, {{ALL, 1}}, NULL},
	[GS_K_OS_WAITING_QUOTA] = {"transport.waitingOnStreamQuota", TP "waitingOnStreamQuota",
				   true, {{ALL, 2}}, NULL},
	[GS_K_CONN_IDLE] = {"connectivity.Idle", CONN "Idle", true, {{ALL, 0}}, NULL},
	[GS_K_CONN_CONNECTING] = {"connectivity.Connecting", CONN "Connecting", true, {{ALL, 1}},
				  NULL},
	[GS_K_CONN_READY] = {"connectivity.Ready", CONN "Ready", true, {{ALL, 2}}, NULL},
	[GS_K_CONN_TRANSIENT_FAILURE] = {"connectivity.TransientFailure", CONN "TransientFailure",
					 true, {{ALL, 3}}, NULL},
	[GS_K_CONN_SHUTDOWN] = {"connectivity.Shutdown", CONN "Shutdown", true, {{ALL, 4}}, NULL},
};

int gs_consts_minor(const char *v)
{
	if (!v)
		return -1;
	if (strncmp(v, "go", 2) == 0)
		v += 2;
	if (strncmp(v, "1.", 2) != 0 || v[2] < '0' || v[2] > '9')
		return -1;
	return atoi(v + 2);
}

static int64_t table_value(const gs_const_spec *s, int minor)
{
	int64_t v = GS_CONST_NONE;
	for (size_t i = 0; i < sizeof s->rules / sizeof s->rules[0]; i++) {
		if (i > 0 && s->rules[i].since == ALL)
			break; /* unused rule slots */
		if (minor < 0 || s->rules[i].since <= minor)
			v = s->rules[i].value;
	}
	return v;
}

/* The first of the '|'-separated DWARF names that the binary has. */
static bool dwarf_value(gs_dwarf *d, const char *names, int64_t *v)
{
	char buf[160];
	for (const char *p = names; d && p && *p;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n < sizeof buf) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			if (gs_dwarf_constant(d, buf, v, NULL) == 0)
				return true;
		}
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static void fill(gs_consts *c, size_t i)
{
	const gs_const_spec *s = &gs_const_specs[i];
	c->table[i] = table_value(s, s->grpc ? c->grpc_minor : c->go_minor);
	if (c->dwarf[i] != GS_CONST_NONE) {
		c->v[i] = c->dwarf[i];
		c->source[i] = GS_TR_DWARF;
	} else if (c->desc[i] != GS_CONST_NONE && c->desc[i] != c->table[i]) {
		c->v[i] = c->desc[i]; /* the binary's word over the table's */
		c->source[i] = GS_TR_DESCRIPTOR;
	} else { /* the table's, checked by the descriptors when desc[i] is set */
		c->v[i] = c->table[i];
		c->source[i] = GS_TR_TABLE;
	}
}

void gs_consts_resolve(gs_consts *c, gs_dwarf *d, const char *go_version,
		       const char *grpc_version)
{
	c->go_minor = gs_consts_minor(go_version);
	c->grpc_minor = gs_consts_minor(grpc_version);
	bool has = d && gs_dwarf_has_dwarf(d);
	for (size_t i = 0; i < GS_K_NCONSTS; i++) {
		int64_t v;
		c->dwarf[i] = has && dwarf_value(d, gs_const_specs[i].dwarf, &v) ? v : GS_CONST_NONE;
		c->desc[i] = GS_CONST_NONE;
		fill(c, i);
	}
	if (d && !has)
		gs_consts_check_descriptors(c, d);
}

/* Types whose kind every Go program's descriptors show (the runtime's own, or what any
 * program that links the runtime and reflect has), alternatives separated by '|'. */
static const struct probe {
	enum gs_const_id id;
	const char *types;
} kind_probes[] = {
	{GS_K_KIND_STRUCT, "runtime.g|runtime.m"},
	{GS_K_KIND_PTR, "*runtime.g|*runtime.m"},
	{GS_K_KIND_SLICE, "[]uint8|[]string|[]int|[]interface {}"},
	{GS_K_KIND_ARRAY, "[8]uint8|[4]uint8|[16]uint8|[32]uint8|[2]uintptr|[1]uintptr"},
	{GS_K_KIND_CHAN, "chan struct {}|chan int|chan error|chan bool"},
	{GS_K_KIND_FUNC, "func()|func(error)|func(string)|func(int)"},
	{GS_K_KIND_IFACE, "error|interface {}|fmt.Stringer"},
	{GS_K_KIND_MAP, "map[string]string|map[string]interface {}|map[string]int|map[string][]string"},
	{GS_K_KIND_UNSAFEPTR, "unsafe.Pointer"},
};

/* The raw kind and tflag bytes of the first of the '|'-separated types td has. */
static bool probe_flags(gs_typedesc *td, const char *names, uint8_t *kind, uint8_t *tflag)
{
	char buf[128];
	for (const char *p = names; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n < sizeof buf) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			if (gs_typedesc_flags(td, buf, kind, tflag) == 0)
				return true;
		}
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

void gs_consts_check_descriptors(gs_consts *c, gs_dwarf *d)
{
	gs_typedesc *td = d ? gs_dwarf_descriptors(d) : NULL;
	if (!td)
		return;
	int64_t mask = c->v[GS_K_KIND_MASK];
	uint8_t k, tf, sk, stf;
	for (size_t i = 0; i < sizeof kind_probes / sizeof kind_probes[0]; i++)
		if (probe_flags(td, kind_probes[i].types, &k, &tf))
			c->desc[kind_probes[i].id] = k & mask;
	/* DirectIface: set for a pointer, clear for a struct; in the kind byte above the mask
	 * up to Go 1.25, in the tflag (the table's bit) from 1.26 on. */
	if (probe_flags(td, "*runtime.g", &k, &tf) && probe_flags(td, "runtime.g", &sk, &stf)) {
		int64_t kbit = k & ~mask, tbit = c->table[GS_K_TFLAG_DIRECT_IFACE];
		if (tbit == GS_CONST_NONE) /* the version's table has none: the newest bit */
			tbit = gs_const_specs[GS_K_TFLAG_DIRECT_IFACE].rules[1].value;
		if (kbit && !(sk & kbit))
			c->desc[GS_K_KIND_DIRECT_IFACE] = kbit;
		else if (!kbit && (tf & tbit) && !(stf & tbit))
			c->desc[GS_K_TFLAG_DIRECT_IFACE] = tbit;
	}
	for (size_t i = 0; i < GS_K_NCONSTS; i++)
		fill(c, i);
}

void gs_consts_set_grpc(gs_consts *c, const char *grpc_version)
{
	c->grpc_minor = gs_consts_minor(grpc_version);
	for (size_t i = 0; i < GS_K_NCONSTS; i++)
		if (gs_const_specs[i].grpc)
			fill(c, i);
}

int64_t gs_consts_canon(const gs_consts *c, enum gs_const_id first, int n, const int64_t *model,
			int64_t limit, int64_t raw)
{
	for (int k = 0; k < n; k++)
		if (c->v[first + k] == raw)
			return model ? model[k] : k;
	return raw < 0 || raw >= limit ? raw : (GS_CONST_UNMAPPED | raw);
}

const char *gs_consts_sources(const gs_consts *c)
{
	bool dwarf = false, desc = false, table = false;
	for (size_t i = 0; i < GS_K_NCONSTS; i++) {
		if (!gs_const_specs[i].dwarf)
			continue;
		if (c->source[i] == GS_TR_DWARF)
			dwarf = true;
		else if (c->source[i] == GS_TR_DESCRIPTOR)
			desc = true;
		else if (c->table[i] != GS_CONST_NONE)
			table = true;
	}
	if (desc)
		return dwarf && table ? "DWARF, type descriptors and version table"
		       : dwarf ? "DWARF and type descriptors"
		       : table ? "type descriptors and version table" : "type descriptors";
	return dwarf && table ? "DWARF and version table" : dwarf ? "DWARF" : "version table";
}

void gs_consts_detail(const gs_consts *c, char *buf, size_t n)
{
	int by[3] = {0, 0, 0}, checked = 0; /* DWARF, descriptors, table */
	for (size_t i = 0; i < GS_K_NCONSTS; i++) {
		if (c->v[i] == GS_CONST_NONE)
			continue;
		int s = c->source[i] == GS_TR_DWARF ? 0 : c->source[i] == GS_TR_DESCRIPTOR ? 1 : 2;
		by[s]++;
		checked += s == 2 && c->desc[i] != GS_CONST_NONE;
	}
	snprintf(buf, n, "%d from DWARF, %d from type descriptors, %d from the version table "
		 "(%d of them checked against the type descriptors)", by[0], by[1], by[2], checked);
}

static void value_str(int64_t v, char *buf, size_t n)
{
	if (v == GS_CONST_NONE)
		snprintf(buf, n, "none");
	else
		snprintf(buf, n, "%lld", (long long)v);
}

int gs_consts_report(const gs_consts *c, gs_strbuf *sb, bool json)
{
	int bad = 0;
	for (size_t i = 0; i < GS_K_NCONSTS; i++) {
		const gs_const_spec *s = &gs_const_specs[i];
		bool by_dwarf = c->dwarf[i] != GS_CONST_NONE, by_desc = c->desc[i] != GS_CONST_NONE;
		bool agree = (!by_dwarf || c->dwarf[i] == c->table[i]) &&
			     (!by_desc || c->desc[i] == c->table[i]);
		bad += !agree;
		const char *state = !by_dwarf && !by_desc ? "unchecked" : agree ? "ok" : "DISAGREES";
		char v[32], t[32], dv[32];
		value_str(c->v[i], v, sizeof v);
		value_str(c->table[i], t, sizeof t);
		value_str(c->desc[i], dv, sizeof dv);
		if (json) {
			gs_strbuf_puts(sb, i ? ",{\"name\":" : "{\"name\":");
			gs_strbuf_json_str(sb, s->name);
			if (c->v[i] == GS_CONST_NONE)
				gs_strbuf_puts(sb, ",\"value\":null");
			else
				gs_strbuf_printf(sb, ",\"value\":%lld", (long long)c->v[i]);
			if (c->table[i] == GS_CONST_NONE)
				gs_strbuf_puts(sb, ",\"table\":null");
			else
				gs_strbuf_printf(sb, ",\"table\":%lld", (long long)c->table[i]);
			gs_strbuf_printf(sb, ",\"source\":\"%s\",\"state\":\"%s\"",
					 gs_tsource_name(c->source[i]), state);
			if (by_desc)
				gs_strbuf_printf(sb, ",\"descriptor\":%lld", (long long)c->desc[i]);
			gs_strbuf_putc(sb, '}');
		} else {
			gs_strbuf_printf(sb, "  %-32s %-8s %-6s %s", s->name, v,
					 gs_tsource_name(c->source[i]), state);
			if (!agree)
				gs_strbuf_printf(sb, " (version table: %s%s%s)", t,
						 by_desc ? ", descriptors: " : "", by_desc ? dv : "");
			else if (by_desc && by_dwarf)
				gs_strbuf_puts(sb, "  and descriptors");
			else if (!by_dwarf && !by_desc && s->note)
				gs_strbuf_printf(sb, "  %s", s->note);
			gs_strbuf_putc(sb, '\n');
		}
	}
	return bad;
}
