/* The constants table (goruntime/constants.c) and the manifests' kinds (goruntime/layout.c):
 * the version table against the DWARF constants of the grpc fixture programs built by every
 * Go toolchain 1.19-1.27 with grpc-go 1.33, 1.64 and 1.81 (GS_TEST_GRPC_EXES; each binary's
 * own DWARF is the oracle for its sources), a DWARF value winning over a table that
 * disagrees, the type descriptors' word on the kind constants (each binary's DWARF again the
 * oracle, and the only word for a binary without DWARF), and a field whose kind or width
 * is not the manifest's being caught and refused by the accessors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gobins.h"

#include "../../analyzer/src/binary/buildinfo.h"
#include "../../analyzer/src/binary/dwarf_types.h"
#include "../../analyzer/src/binary/grpc_version.h"
#include "../../analyzer/src/binary/pclntab.h"
#include "../../analyzer/src/binary/typedesc.h"
#include "../../analyzer/src/goruntime/constants.h"
#include "../../analyzer/src/goruntime/layout.h"
#include "../../analyzer/src/grpc/grpc_fields.h"

static char **grpc_exes(size_t *n)
{
	const char *env = getenv("GS_TEST_GRPC_EXES");
	ck_assert_msg(env && *env, "GS_TEST_GRPC_EXES is not set (grpc fixture executables)");
	char *copy = strdup(env);
	char **v = calloc(strlen(env) + 2, sizeof *v);
	*n = 0;
	for (char *save = NULL, *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
		v[(*n)++] = strdup(p);
	free(copy);
	return v;
}

typedef struct exe {
	gs_binary *b;
	gs_dwarf *d;
	char go[64];
	char *grpc;
} exe;

static void open_exe(const char *path, exe *x)
{
	gs_err err = {0};
	x->b = gs_binary_open(path, &err);
	ck_assert_msg(x->b, "%s", err.msg);
	x->d = gs_dwarf_open(x->b, &err);
	ck_assert_msg(x->d && gs_dwarf_has_dwarf(x->d), "%s: no DWARF (%s)", path, err.msg);
	gs_buildinfo bi;
	ck_assert_msg(gs_buildinfo_read(x->b, &bi, &err) == 0, "%s: %s", path, err.msg);
	snprintf(x->go, sizeof x->go, "%s", bi.go_version ? bi.go_version : "");
	gs_buildinfo_free(&bi);
	x->grpc = gs_grpc_version(x->b, &err);
	ck_assert_msg(x->grpc, "%s: no grpc-go version", path);
}

static void close_exe(exe *x)
{
	free(x->grpc);
	gs_dwarf_close(x->d);
	gs_binary_close(x->b);
}

/* Every value a binary's DWARF gives is the version table's for that binary's Go and
 * grpc-go versions, and the statuses 1.26 added are in DWARF exactly from 1.26 on. */
START_TEST(test_table_matches_dwarf_per_version)
{
	size_t n;
	char **v = grpc_exes(&n);
	bool seen[40] = {false};
	int checked = 0;
	for (size_t i = 0; i < n; i++) {
		exe x;
		open_exe(v[i], &x);
		gs_consts c;
		gs_consts_resolve(&c, x.d, x.go, x.grpc);
		ck_assert_msg(c.go_minor >= 19 && c.go_minor < 40, "%s: go %s", v[i], x.go);
		seen[c.go_minor] = true;
		for (int k = 0; k < GS_K_NCONSTS; k++) {
			if (c.dwarf[k] == GS_CONST_NONE)
				continue;
			ck_assert_msg(c.dwarf[k] == c.table[k], "%s (%s, grpc-go %s): %s is %lld in "
				      "DWARF, %lld in the version table", v[i], x.go, x.grpc,
				      gs_const_specs[k].name, (long long)c.dwarf[k],
				      (long long)c.table[k]);
			ck_assert(c.v[k] == c.dwarf[k] && c.source[k] == GS_TR_DWARF);
			checked++;
		}
		/* What every version's DWARF has (the runtime and grpc-go use them). */
		ck_assert_msg(c.dwarf[GS_K_G_WAITING] != GS_CONST_NONE, "%s: no _Gwaiting", v[i]);
		ck_assert_msg(c.dwarf[GS_K_STREAM_DONE] != GS_CONST_NONE, "%s: no streamDone", v[i]);
		ck_assert_msg(c.dwarf[GS_K_PAGE_SIZE] == 8192, "%s: _PageSize", v[i]);
		ck_assert_msg((c.dwarf[GS_K_G_LEAKED] != GS_CONST_NONE) == (c.go_minor >= 26),
			      "%s: _Gleaked in DWARF of %s", v[i], x.go);
		gs_strbuf sb;
		gs_strbuf_init(&sb);
		ck_assert_msg(gs_consts_report(&c, &sb, false) == 0, "%s: %s", v[i], sb.buf);
		gs_strbuf_free(&sb);
		close_exe(&x);
		free(v[i]);
	}
	free(v);
	for (int m = 19; m <= 27; m++)
		if (m != 20)
			ck_assert_msg(seen[m], "no grpc fixture built with Go 1.%d", m);
	ck_assert_int_gt(checked, 100);
}
END_TEST

/* The table by version, as the sources say (a second copy on purpose: the test is the
 * sources' word, the table the code's). */
START_TEST(test_table_by_version)
{
	gs_consts c;
	gs_consts_resolve(&c, NULL, "go1.19.13", "1.33.3");
	ck_assert_int_eq(c.go_minor, 19);
	ck_assert_int_eq(c.grpc_minor, 33);
	ck_assert(gs_const(&c, GS_K_G_LEAKED) == GS_CONST_NONE);
	ck_assert(gs_const(&c, GS_K_G_DEADEXTRA) == GS_CONST_NONE);
	ck_assert(gs_const(&c, GS_K_TFLAG_DIRECT_IFACE) == GS_CONST_NONE);
	ck_assert_int_eq(gs_const(&c, GS_K_G_WAITING), 4);
	ck_assert_int_eq(gs_const(&c, GS_K_G_SCAN), 0x1000);
	ck_assert_int_eq(gs_const(&c, GS_K_KIND_PTR), 22);
	ck_assert_int_eq(gs_const(&c, GS_K_KIND_DIRECT_IFACE), 0x20);
	ck_assert_int_eq(gs_const(&c, GS_K_STREAM_READ_DONE), 2);
	ck_assert_int_eq(gs_const(&c, GS_K_TR_DRAINING), 2);
	ck_assert_int_eq(gs_const(&c, GS_K_CONN_SHUTDOWN), 4);
	ck_assert_str_eq(gs_consts_sources(&c), "version table");
	for (int k = 0; k < GS_K_NCONSTS; k++)
		ck_assert(c.source[k] == GS_TR_TABLE);
	gs_consts_resolve(&c, NULL, "go1.26.0", "1.81.1");
	ck_assert_int_eq(gs_const(&c, GS_K_G_LEAKED), 10);
	ck_assert_int_eq(gs_const(&c, GS_K_G_DEADEXTRA), 11);
	ck_assert_int_eq(gs_const(&c, GS_K_TFLAG_DIRECT_IFACE), 0x20);
	ck_assert_int_eq(gs_const(&c, GS_K_PAGE_SIZE), 8192);
	ck_assert_int_eq(gs_const(&c, GS_K_SPAN_IN_USE), 1);
	/* An unknown version takes the newest rule. */
	gs_consts_resolve(&c, NULL, "go1.99rc1", NULL);
	ck_assert_int_eq(c.go_minor, 99);
	ck_assert_int_eq(gs_const(&c, GS_K_G_LEAKED), 10);
	gs_consts_resolve(&c, NULL, "unknown", NULL);
	ck_assert_int_eq(c.go_minor, -1);
	ck_assert_int_eq(gs_const(&c, GS_K_G_DEADEXTRA), 11);
	ck_assert_int_eq(gs_consts_minor("go1.22"), 22);
	ck_assert_int_eq(gs_consts_minor("1.64.0"), 64);
	ck_assert_int_eq(gs_consts_minor("2.0"), -1);
}
END_TEST

/* A binary whose DWARF says otherwise than the table wins, and selfcheck's report counts
 * the disagreement: a Go 1.27 binary read as if its table were Go 1.19's. */
START_TEST(test_dwarf_overrides_table)
{
	size_t n;
	char **v = grpc_exes(&n);
	int done = 0;
	for (size_t i = 0; i < n; i++) {
		exe x;
		open_exe(v[i], &x);
		if (gs_consts_minor(x.go) >= 26 && !done) {
			gs_consts c;
			gs_consts_resolve(&c, x.d, "go1.19.1", x.grpc);
			ck_assert(c.table[GS_K_G_LEAKED] == GS_CONST_NONE);
			ck_assert_int_eq(gs_const(&c, GS_K_G_LEAKED), 10);
			ck_assert(c.source[GS_K_G_LEAKED] == GS_TR_DWARF);
			gs_strbuf sb;
			gs_strbuf_init(&sb);
			int differ = gs_consts_report(&c, &sb, false);
			ck_assert_int_ge(differ, 3); /* _Gleaked, _Gdeadextra, TFlagDirectIface */
			ck_assert_msg(strstr(sb.buf, "runtime._Gleaked") &&
				      strstr(sb.buf, "DISAGREES (version table: none)"), "%s", sb.buf);
			gs_strbuf_free(&sb);
			ck_assert_str_eq(gs_consts_sources(&c), "DWARF and version table");
			done = 1;
		}
		close_exe(&x);
		free(v[i]);
	}
	free(v);
	ck_assert_msg(done, "no grpc fixture built with Go 1.26 or later");
}
END_TEST

/* Translating the binary's numbers into the model's: a known value maps to its index, an
 * unknown one stays out of the model's range. */
START_TEST(test_canon)
{
	gs_consts c;
	gs_consts_resolve(&c, NULL, "go1.25.1", "1.64.0");
	ck_assert_int_eq(gs_consts_canon(&c, GS_K_TR_REACHABLE, 3, NULL, 3, 2), 2);
	ck_assert_int_eq(gs_consts_canon(&c, GS_K_TR_REACHABLE, 3, NULL, 3, 7), 7);
	ck_assert_int_eq(gs_consts_canon(&c, GS_K_TR_REACHABLE, 3, NULL, 3, -1), -1);
	/* A future grpc-go renumbering: draining = 5, closing = 1, reachable = 0. */
	c.v[GS_K_TR_DRAINING] = 5;
	ck_assert_int_eq(gs_consts_canon(&c, GS_K_TR_REACHABLE, 3, NULL, 3, 5), 2);
	int64_t two = gs_consts_canon(&c, GS_K_TR_REACHABLE, 3, NULL, 3, 2);
	ck_assert(two >= 3); /* no longer "draining" */
	ck_assert_int_eq(gs_consts_raw(two), 2);
	/* Statuses with a model table: Go 1.25 has no _Gleaked, so 10 is none of its. */
	static const int64_t model[] = {0, 1, 2, 3, 4, 6, 8, 9, 10, 11};
	ck_assert_int_eq(gs_consts_canon(&c, GS_K_G_IDLE, 10, model, 12, 6), 6);
	ck_assert(gs_consts_canon(&c, GS_K_G_IDLE, 10, model, 12, 10) >= 12);
}
END_TEST

/* Manifest kinds: every field of both manifests has the kind it is declared with in every
 * fixture binary, and a spec that expects another kind is caught. */
START_TEST(test_manifest_kinds)
{
	size_t n;
	char **v = grpc_exes(&n);
	for (size_t i = 0; i < n; i++) {
		exe x;
		open_exe(v[i], &x);
		gs_err err = {0};
		gs_layout l;
		ck_assert_msg(gs_layout_resolve(&l, gs_runtime_fields, RT_NFIELDS, x.d, &err) == 0,
			      "%s: %s", v[i], err.msg);
		gs_strbuf sb;
		gs_strbuf_init(&sb);
		ck_assert_msg(l.nmismatch == 0 && !gs_layout_report_mismatches(&l, &sb, false),
			      "%s: %s", v[i], sb.buf);
		ck_assert_int_eq(l.widths[RT_G_STATUS], 4);
		ck_assert_int_eq(l.widths[RT_G_WAITREASON], 1);
		ck_assert_int_eq(l.widths[RT_HCHAN_ELEMSIZE], 2);
		gs_layout_free(&l);
		gs_layout_resolve(&l, gs_grpc_fields, GRPC_NFIELDS, x.d, &err);
		ck_assert_msg(l.nmismatch == 0 && !gs_layout_report_mismatches(&l, &sb, false),
			      "%s: %s", v[i], sb.buf);
		ck_assert_int_eq(l.widths[ST_STATE], 4);
		ck_assert_int_eq(l.widths[GC_STATE], 8);
		ck_assert_int_eq(l.widths[RB_C], 8); /* a chan: DWARF gives it no size */
		gs_layout_free(&l);

		/* goid is 8 bytes: a manifest that says u32 is wrong. */
		const gs_field_spec bad[] = {
			{"runtime.g", "goid", NULL, false, NULL, GS_FK_U32},
			{"runtime.g", "atomicstatus", "value", false, NULL, GS_FK_U32},
			{"runtime.g", "m", NULL, false, NULL, GS_FK_STRING},
		};
		ck_assert_int_eq(gs_layout_resolve(&l, bad, 3, x.d, &err), 0);
		ck_assert_int_eq(l.nmismatch, 2);
		ck_assert(l.mismatch[0] && l.offsets[0] == -1);
		ck_assert(!l.mismatch[1] && l.offsets[1] > 0 && l.widths[1] == 4);
		ck_assert(l.mismatch[2] && l.kinds[2] == GS_FK_PTR);
		gs_strbuf_free(&sb);
		gs_strbuf_init(&sb);
		ck_assert_int_eq(gs_layout_report_mismatches(&l, &sb, false), 2);
		ck_assert_msg(strstr(sb.buf, "runtime.g.goid is a "), "%s", sb.buf);
		gs_layout_free(&l);
		const gs_field_spec req[] = {{"runtime.g", "goid", NULL, true, NULL, GS_FK_U32}};
		ck_assert_int_eq(gs_layout_resolve(&l, req, 1, x.d, &err), -1);
		ck_assert_msg(strstr(err.msg, "expects a u32"), "%s", err.msg);
		gs_layout_free(&l);
		gs_strbuf_free(&sb);
		close_exe(&x);
		free(v[i]);
	}
	free(v);
}
END_TEST

/* The type descriptors of every fixture binary show the kind numbers and the DirectIface
 * bit its DWARF has (1.19-1.25 in the kind byte, 1.26+ in the tflag), and the table's
 * values; a binary read as if it had no DWARF takes them from the descriptors. */
START_TEST(test_descriptors_agree)
{
	size_t n;
	char **v = grpc_exes(&n);
	static const int kinds[] = {GS_K_KIND_ARRAY, GS_K_KIND_CHAN, GS_K_KIND_FUNC,
				    GS_K_KIND_IFACE, GS_K_KIND_MAP, GS_K_KIND_PTR,
				    GS_K_KIND_SLICE, GS_K_KIND_STRUCT, GS_K_KIND_UNSAFEPTR};
	for (size_t i = 0; i < n; i++) {
		exe x;
		open_exe(v[i], &x);
		gs_err err = {0};
		gs_pclntab *pc = gs_pclntab_open(x.b, &err);
		ck_assert_msg(pc, "%s: %s", v[i], err.msg);
		gs_typedesc *td = gs_typedesc_open(x.b, pc, 0, &err);
		ck_assert_msg(td, "%s: %s", v[i], err.msg);
		gs_dwarf_use_descriptors(x.d, td, pc);
		gs_consts c;
		gs_consts_resolve(&c, x.d, x.go, x.grpc);
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
			ck_assert(c.desc[kinds[k]] == GS_CONST_NONE); /* DWARF is there: not read */
		gs_consts_check_descriptors(&c, x.d);
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
			int id = kinds[k];
			ck_assert_msg(c.desc[id] == c.dwarf[id] && c.desc[id] == c.table[id],
				      "%s: %s is %lld in the descriptors, %lld in DWARF", v[i],
				      gs_const_specs[id].name, (long long)c.desc[id],
				      (long long)c.dwarf[id]);
			ck_assert(c.source[id] == GS_TR_DWARF); /* DWARF still wins */
		}
		bool new_abi = c.go_minor >= 26;
		ck_assert_int_eq(c.desc[GS_K_KIND_DIRECT_IFACE], new_abi ? GS_CONST_NONE : 0x20);
		ck_assert_int_eq(c.desc[GS_K_TFLAG_DIRECT_IFACE], new_abi ? 0x20 : GS_CONST_NONE);
		gs_strbuf sb;
		gs_strbuf_init(&sb);
		ck_assert_msg(gs_consts_report(&c, &sb, false) == 0, "%s: %s", v[i], sb.buf);
		ck_assert_msg(strstr(sb.buf, "abi.Pointer                      22       dwarf  ok  "
					     "and descriptors"), "%s", sb.buf);
		gs_strbuf_free(&sb);
		/* A descriptor that says otherwise is a disagreement selfcheck counts. */
		c.desc[GS_K_KIND_MAP] = 7;
		gs_strbuf_init(&sb);
		ck_assert_int_eq(gs_consts_report(&c, &sb, false), 1);
		ck_assert_msg(strstr(sb.buf, "descriptors: 7"), "%s", sb.buf);
		gs_strbuf_free(&sb);
		gs_typedesc_close(td);
		gs_pclntab_close(pc);
		close_exe(&x);
		free(v[i]);
	}
	free(v);
}
END_TEST

static int check_without_dwarf(const char *path)
{
	gs_err err = {0};
	gs_binary *b = gs_binary_open(path, &err);
	ck_assert_msg(b, "%s", err.msg);
	gs_pclntab *pc = gs_pclntab_open(b, &err);
	ck_assert_msg(pc, "%s: %s", path, err.msg);
	gs_dwarf *d = gs_dwarf_open(b, &err);
	ck_assert_msg(d && !gs_dwarf_has_dwarf(d), "%s: has DWARF", path);
	gs_buildinfo bi;
	ck_assert_msg(gs_buildinfo_read(b, &bi, &err) == 0, "%s: %s", path, err.msg);
	gs_typedesc *td = gs_typedesc_open(b, pc, 0, &err);
	ck_assert_msg(td, "%s: %s", path, err.msg);
	gs_dwarf_use_descriptors(d, td, pc);
	gs_consts c;
	gs_consts_resolve(&c, d, bi.go_version, NULL);
	/* the descriptors confirm the table: its values, checked */
	ck_assert_int_eq(gs_const(&c, GS_K_KIND_PTR), 22);
	ck_assert(c.source[GS_K_KIND_PTR] == GS_TR_TABLE && c.desc[GS_K_KIND_PTR] == 22);
	ck_assert(c.desc[GS_K_KIND_STRUCT] == 25 && c.desc[GS_K_KIND_UNSAFEPTR] == 26);
	ck_assert(c.desc[GS_K_G_WAITING] == GS_CONST_NONE);
	ck_assert(c.desc[c.go_minor >= 26 ? GS_K_TFLAG_DIRECT_IFACE : GS_K_KIND_DIRECT_IFACE] == 0x20);
	ck_assert_str_eq(gs_consts_sources(&c), "version table");
	char detail[200];
	gs_consts_detail(&c, detail, sizeof detail);
	ck_assert_msg(strstr(detail, "0 from DWARF, 0 from type descriptors") &&
		      strstr(detail, "(10 of them checked against the type descriptors)"),
		      "%s: %s", path, detail);
	gs_consts t; /* the version table alone gives the same values */
	gs_consts_resolve(&t, NULL, bi.go_version, NULL);
	for (int k = 0; k < GS_K_NCONSTS; k++)
		ck_assert_msg(c.v[k] == t.v[k], "%s: %s", path, gs_const_specs[k].name);
	/* A table the descriptors contradict gives way: a Go 1.26+ binary read with Go 1.19's
	 * table, which has no tflag DirectIface bit. */
	if (c.go_minor >= 26) {
		gs_consts_resolve(&c, d, "go1.19.1", NULL);
		ck_assert(c.table[GS_K_TFLAG_DIRECT_IFACE] == GS_CONST_NONE);
		ck_assert_int_eq(gs_const(&c, GS_K_TFLAG_DIRECT_IFACE), 0x20);
		ck_assert(c.source[GS_K_TFLAG_DIRECT_IFACE] == GS_TR_DESCRIPTOR);
		ck_assert_str_eq(gs_consts_sources(&c), "type descriptors and version table");
		gs_strbuf sb;
		gs_strbuf_init(&sb);
		ck_assert_int_ge(gs_consts_report(&c, &sb, false), 1);
		ck_assert_msg(strstr(sb.buf, "DISAGREES (version table: none, descriptors: 32)"),
			      "%s", sb.buf);
		gs_strbuf_free(&sb);
	}
	gs_buildinfo_free(&bi);
	gs_typedesc_close(td);
	gs_dwarf_close(d);
	gs_pclntab_close(pc);
	gs_binary_close(b);
	return 1;
}

/* Without DWARF (the peer-silent-sw fixtures beside GS_TEST_GRPC_EXES' peer-silent ones,
 * built with -s -w), the descriptors check the kind constants of the version table, and
 * give theirs where the table says otherwise. */
START_TEST(test_descriptors_without_dwarf)
{
	size_t n;
	char **v = grpc_exes(&n);
	int done = 0;
	for (size_t i = 0; i < n; i++) {
		char path[1024];
		char *at = strstr(v[i], "/peer-silent/exe");
		if (at && (size_t)(at - v[i]) + 32 < sizeof path) {
			snprintf(path, sizeof path, "%.*s/peer-silent-sw/exe", (int)(at - v[i]), v[i]);
			if (access(path, R_OK) == 0)
				done += check_without_dwarf(path);
		}
		free(v[i]);
	}
	free(v);
	ck_assert_msg(done >= 2, "fewer than two peer-silent-sw fixtures beside GS_TEST_GRPC_EXES");
}
END_TEST

/* The keepalive, BDP, ping-strike and heap fields have their kinds, and a manifest that
 * names the wrong width is refused: the field is absent, and every accessor says so rather
 * than reading a neighbour's bytes. */
START_TEST(test_width_mismatch_refused)
{
	size_t n;
	char **v = grpc_exes(&n);
	for (size_t i = 0; i < n; i++) {
		exe x;
		open_exe(v[i], &x);
		gs_err err = {0};
		gs_layout l;
		gs_layout_resolve(&l, gs_grpc_fields, GRPC_NFIELDS, x.d, &err);
		ck_assert_int_eq(l.nmismatch, 0);
		ck_assert_int_eq(l.widths[GS_PINGSTRIKES], 1);
		ck_assert_int_eq(l.kinds[GS_PINGSTRIKES], GS_FK_U8);
		ck_assert_int_eq(l.widths[GC_LAST_READ], 8);
		ck_assert_int_eq(l.kinds[GS_KP_TIME], GS_FK_I64);
		ck_assert_int_eq(l.kinds[GC_KP_PERMIT], GS_FK_BOOL);
		ck_assert_int_eq(l.kinds[GS_BDPEST], GS_FK_PTR);
		/* 1.81 embeds what 1.33/1.64 point to; trfChan is atomic.Value or .Pointer */
		bool embedded = l.kinds[ST_BUF] == GS_FK_STRUCT;
		ck_assert(embedded || l.kinds[ST_BUF] == GS_FK_PTR);
		ck_assert_int_eq(l.kinds[ST_WQ], l.kinds[ST_BUF]);
		ck_assert_int_eq(l.kinds[CB_TRFCHAN], embedded ? GS_FK_PTR : GS_FK_IFACE);
		gs_layout_free(&l);
		gs_layout_resolve(&l, gs_runtime_fields, RT_NFIELDS, x.d, &err);
		ck_assert_int_eq(l.nmismatch, 0);
		ck_assert_int_eq(l.kinds[RT_MHEAP_ALLSPANS], GS_FK_SLICE);
		ck_assert_int_eq(l.kinds[RT_G_LABELS], GS_FK_PTR);
		ck_assert_int_eq(l.widths[RT_SPAN_STATE], 1);
		gs_layout_free(&l);

		/* pingStrikes is a uint8: a manifest that reads it as a u32 or a word is refused */
		const gs_field_spec bad[] = {
			{TP "http2Server", "pingStrikes", NULL, false, NULL, GS_FK_U32},
			{TP "http2Server", "pingStrikes", NULL, false, NULL, GS_FK_WORD},
			{TP "http2Server", "lastRead", NULL, false, NULL, GS_FK_I32},
			{TP "http2Server", "pingStrikes", NULL, false, NULL, GS_FK_U8},
			{"runtime.mheap", "allspans", NULL, false, NULL, GS_FK_PTR},
		};
		ck_assert_int_eq(gs_layout_resolve(&l, bad, 5, x.d, &err), 0);
		ck_assert_int_eq(l.nmismatch, 4);
		uint64_t w[3];
		for (int f = 0; f < 5; f++) {
			if (f == 3)
				continue;
			ck_assert(l.mismatch[f] && l.offsets[f] == -1);
			ck_assert_int_eq(gs_layout_read(&l, f, NULL, 0x1000, 0, w), -1);
			ck_assert_int_eq(gs_layout_read_words(&l, f, NULL, 0x1000, 0, 1, w), -1);
			ck_assert_uint_eq(gs_layout_get(&l, f, (const uint8_t *)w, sizeof w, 0), 0);
		}
		ck_assert(!l.mismatch[3] && l.offsets[3] >= 0 && l.widths[3] == 1);
		/* a scalar has no words; a slice has three, no fourth */
		ck_assert_int_eq(gs_layout_read_words(&l, 3, NULL, 0x1000, 0, 1, w), -1);
		gs_strbuf sb;
		gs_strbuf_init(&sb);
		ck_assert_int_eq(gs_layout_report_mismatches(&l, &sb, false), 4);
		ck_assert_msg(strstr(sb.buf, "pingStrikes is a u8, the manifest expects a u32"),
			      "%s", sb.buf);
		ck_assert_msg(strstr(sb.buf, "allspans is a slice, the manifest expects a pointer"),
			      "%s", sb.buf);
		gs_strbuf_free(&sb);
		gs_layout_free(&l);
		close_exe(&x);
		free(v[i]);
	}
	free(v);
}
END_TEST

/* The context, time.Time and type-descriptor rows read with their types' widths, and a
 * manifest that names another width for them is refused (type alternatives included). */
START_TEST(test_context_and_abi_fields)
{
	size_t n;
	char **v = grpc_exes(&n);
	for (size_t i = 0; i < n; i++) {
		exe x;
		open_exe(v[i], &x);
		gs_err err = {0};
		gs_layout l;
		ck_assert_int_eq(gs_layout_resolve(&l, gs_runtime_fields, RT_NFIELDS, x.d, &err), 0);
		ck_assert_int_eq(l.nmismatch, 0);
		ck_assert_int_eq(l.widths[RT_TIME_WALL], 8);
		ck_assert_int_eq(l.kinds[RT_TIME_EXT], GS_FK_I64);
		ck_assert_int_eq(l.kinds[RT_CTX_CANCEL_ERR], GS_FK_IFACE);
		ck_assert_int_eq(l.kinds[RT_CTX_TIMER_DEADLINE], GS_FK_STRUCT);
		ck_assert_int_eq(l.widths[RT_ABI_TYPE_TFLAG], 1);
		ck_assert_int_eq(l.widths[RT_ABI_TYPE_KIND], 1);
		ck_assert_int_eq(l.widths[RT_ABI_TYPE_STR], 4);
		ck_assert_int_eq(l.widths[RT_ABI_ITAB_TYPE], 8);
		ck_assert_msg(gs_layout_has(&l, RT_ABI_TYPE_STR), "%s: no abi.Type.Str", v[i]);
		gs_layout_free(&l);

		const gs_field_spec bad[] = {
			{"time.Time", "wall", NULL, false, NULL, GS_FK_U32},
			{"internal/abi.Type|runtime._type", "TFlag|tflag", NULL, false, NULL, GS_FK_U32},
			{"internal/abi.Type|runtime._type", "Str|str", NULL, false, NULL, GS_FK_WORD},
			{"context.cancelCtx", "err", "v", false, NULL, GS_FK_PTR},
			{"no.Such|internal/abi.Type|runtime._type", "Kind_|kind", NULL, false, NULL,
			 GS_FK_U8},
		};
		ck_assert_int_eq(gs_layout_resolve(&l, bad, 5, x.d, &err), 0);
		ck_assert_int_eq(l.nmismatch, 4);
		uint64_t w = 0;
		for (int f = 0; f < 4; f++) {
			ck_assert(l.mismatch[f] && l.offsets[f] == -1);
			ck_assert_int_eq(gs_layout_read(&l, f, NULL, 0x1000, 0, &w), -1);
		}
		ck_assert(!l.mismatch[4] && l.offsets[4] >= 0 && l.widths[4] == 1);
		gs_layout_free(&l);
		close_exe(&x);
		free(v[i]);
	}
	free(v);
}
END_TEST

/* Which words a several-word field gives, and the expected-only kinds' alternatives. */
START_TEST(test_words_and_alternatives)
{
	int64_t offsets[] = {0, 16, 40, 48};
	uint8_t widths[] = {8, 0, 0, 0};
	uint8_t kinds[] = {GS_FK_IFACE, GS_FK_SLICE, GS_FK_STRING, GS_FK_STRUCT};
	gs_layout l = {.offsets = offsets, .widths = widths, .kinds = kinds, .n = 4};
	uint64_t w[4];
	ck_assert_int_eq(gs_layout_read_words(&l, 0, NULL, 0x1000, 2, 1, w), -1); /* iface: 2 */
	ck_assert_int_eq(gs_layout_read_words(&l, 1, NULL, 0x1000, 1, 3, w), -1); /* slice: 3 */
	ck_assert_int_eq(gs_layout_read_words(&l, 2, NULL, 0x1000, 0, 3, w), -1); /* string: 2 */
	ck_assert_int_eq(gs_layout_read_words(&l, 3, NULL, 0x1000, 0, 1, w), -1); /* struct */
	ck_assert_int_eq(gs_layout_read_words(&l, 1, NULL, 0x1000, 0, 0, w), -1);
	ck_assert(gs_fkind_fits(GS_FK_PTR_OR_STRUCT, GS_FK_PTR));
	ck_assert(gs_fkind_fits(GS_FK_PTR_OR_STRUCT, GS_FK_STRUCT));
	ck_assert(!gs_fkind_fits(GS_FK_PTR_OR_STRUCT, GS_FK_IFACE));
	ck_assert(gs_fkind_fits(GS_FK_IFACE_OR_STRUCT, GS_FK_IFACE));
	ck_assert(!gs_fkind_fits(GS_FK_IFACE_OR_STRUCT, GS_FK_U64));
	ck_assert(gs_fkind_fits(GS_FK_PTR_OR_IFACE, GS_FK_IFACE));
	ck_assert(!gs_fkind_fits(GS_FK_PTR_OR_IFACE, GS_FK_STRUCT));
	ck_assert_str_eq(gs_fkind_name(GS_FK_PTR_OR_IFACE), "pointer|iface");
	ck_assert_str_eq(gs_fkind_name(GS_FK_PTR_OR_IFACE + 1), "?");
}
END_TEST

/* The width-checked accessor: the field's own width, sign-extended for signed kinds, and
 * nothing outside the buffer. */
START_TEST(test_layout_get)
{
	int64_t offsets[] = {0, 4, 8, 12, -1};
	uint8_t widths[] = {4, 4, 2, 8, 8};
	uint8_t kinds[] = {GS_FK_U32, GS_FK_I32, GS_FK_U16, GS_FK_U64, GS_FK_U64};
	gs_layout l = {.offsets = offsets, .widths = widths, .kinds = kinds, .n = 5};
	uint8_t buf[20];
	memset(buf, 0xff, sizeof buf);
	ck_assert_uint_eq(gs_layout_get(&l, 0, buf, sizeof buf, 0), 0xffffffffu);
	ck_assert_uint_eq(gs_layout_get(&l, 1, buf, sizeof buf, 0), UINT64_MAX);
	ck_assert_uint_eq(gs_layout_get(&l, 2, buf, sizeof buf, 0), 0xffffu);
	ck_assert_uint_eq(gs_layout_get(&l, 3, buf, sizeof buf, 0), UINT64_MAX);
	ck_assert_uint_eq(gs_layout_get(&l, 3, buf, sizeof buf - 1, 0), 0); /* past the end */
	ck_assert_uint_eq(gs_layout_get(&l, 4, buf, sizeof buf, 0), 0);     /* absent */
	buf[4] = 0x7f; /* 0x7fffffff... little-endian: the top byte is buf[7] */
	buf[7] = 0x7f;
	ck_assert_uint_eq(gs_layout_get(&l, 1, buf, sizeof buf, 0), 0x7fffff7fu);
	ck_assert_uint_eq(gs_layout_get(&l, 2, buf, sizeof buf, -4), 0xff7fu); /* at 4 */
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("constants");
	TCase *tc = tcase_create("synthetic");
	tcase_add_test(tc, test_table_by_version);
	tcase_add_test(tc, test_canon);
	tcase_add_test(tc, test_layout_get);
	tcase_add_test(tc, test_words_and_alternatives);
	suite_add_tcase(s, tc);
	tc = tcase_create("go_binaries");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_table_matches_dwarf_per_version);
	tcase_add_test(tc, test_dwarf_overrides_table);
	tcase_add_test(tc, test_manifest_kinds);
	tcase_add_test(tc, test_width_mismatch_refused);
	tcase_add_test(tc, test_context_and_abi_fields);
	tcase_add_test(tc, test_descriptors_agree);
	tcase_add_test(tc, test_descriptors_without_dwarf);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
