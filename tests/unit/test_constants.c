/* The constants table (goruntime/constants.c) and the manifests' kinds (goruntime/layout.c):
 * the version table against the DWARF constants of the grpc fixture programs built by every
 * Go toolchain 1.19-1.27 with grpc-go 1.33, 1.64 and 1.81 (GS_TEST_GRPC_EXES; each binary's
 * own DWARF is the oracle for its sources), a DWARF value winning over a table that
 * disagrees, and a field whose kind is not the manifest's being caught.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobins.h"

#include "../../analyzer/src/binary/buildinfo.h"
#include "../../analyzer/src/binary/dwarf_types.h"
#include "../../analyzer/src/binary/grpc_version.h"
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
	suite_add_tcase(s, tc);
	tc = tcase_create("go_binaries");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_table_matches_dwarf_per_version);
	tcase_add_test(tc, test_dwarf_overrides_table);
	tcase_add_test(tc, test_manifest_kinds);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
