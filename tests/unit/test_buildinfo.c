/* .go.buildinfo of real Go binaries (dir in $GS_TEST_GOBINS), modinfo text, and the
 * pre-1.18 pointer format (made by rewriting a 1.27 header in a copy). */
#define GOBINS_TEMP_TEMPLATE "/tmp/gs_test_bi_XXXXXX"
#include "gobins.h"

#include "../../analyzer/src/binary/buildinfo.h"

START_TEST(test_buildinfo_go_version)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		gs_err err = {0};
		gs_binary *b = gs_binary_open(bins[i].path, &err);
		ck_assert_msg(b != NULL, "%s", err.msg);
		gs_buildinfo bi;
		ck_assert_msg(gs_buildinfo_read(b, &bi, &err) == 0, "%s", err.msg);
		ck_assert_str_eq(bi.go_version, bins[i].version);
		/* GOPATH-mode build: a main path and settings, no modules */
		ck_assert_pstr_eq(bi.main_path, "command-line-arguments");
		ck_assert_uint_eq(bi.ndeps, 0);
		ck_assert_ptr_nonnull(bi.settings);
		ck_assert_ptr_nonnull(strstr(bi.settings, "GOARCH=amd64\n"));
		ck_assert_ptr_null(gs_buildinfo_module_version(&bi, "google.golang.org/grpc"));
		gs_buildinfo_free(&bi);
		gs_binary_close(b);
	}
}
END_TEST

START_TEST(test_buildinfo_modinfo_text)
{
	static const char text[] =
		"0123456789abcdef" /* start sentinel */
		"path\texample.com/server\n"
		"mod\texample.com/server\t(devel)\t\n"
		"dep\tgolang.org/x/net\tv0.25.0\th1:abc=\n"
		"dep\tgoogle.golang.org/grpc\tv1.64.0\th1:def=\n"
		"=>\tgithub.com/fork/grpc-go\tv1.64.1-fork\th1:ghi=\n"
		"dep\tgoogle.golang.org/protobuf\tv1.34.1\th1:jkl=\n"
		"=>\t../protobuf\t\t\n"
		"build\t-buildmode=exe\n"
		"build\tCGO_ENABLED=1\n"
		"fedcba9876543210"; /* end sentinel; the byte before it is a newline */
	gs_buildinfo bi = {0};
	ck_assert_int_eq(gs_buildinfo_parse_modinfo(text, sizeof text - 1, &bi), 0);
	ck_assert_pstr_eq(bi.main_path, "example.com/server");
	ck_assert_uint_eq(bi.ndeps, 3);
	ck_assert_pstr_eq(gs_buildinfo_module_version(&bi, "golang.org/x/net"), "v0.25.0");
	ck_assert_pstr_eq(gs_buildinfo_module_version(&bi, "google.golang.org/grpc"),
			  "v1.64.1-fork");
	/* replaced by a directory: the required version is the best there is */
	ck_assert_pstr_eq(gs_buildinfo_module_version(&bi, "google.golang.org/protobuf"),
			  "v1.34.1");
	ck_assert_ptr_null(gs_buildinfo_module_version(&bi, "example.com/none"));
	ck_assert_pstr_eq(bi.settings, "-buildmode=exe\nCGO_ENABLED=1\n");
	gs_buildinfo_free(&bi);

	/* empty modinfo (old GOPATH builds) and a last line without newline */
	ck_assert_int_eq(gs_buildinfo_parse_modinfo("", 0, &bi), 0);
	ck_assert_ptr_null(bi.main_path);
	ck_assert_ptr_null(bi.settings);
	ck_assert_uint_eq(bi.ndeps, 0);
	ck_assert_int_eq(gs_buildinfo_parse_modinfo("dep\tx\tv1", 9, &bi), 0);
	ck_assert_pstr_eq(gs_buildinfo_module_version(&bi, "x"), "v1");
	gs_buildinfo_free(&bi);
	ck_assert_int_eq(gs_buildinfo_parse_modinfo("dep\t\n=>\n\t\t\n", 11, &bi), 0);
	ck_assert_uint_eq(bi.ndeps, 1);
	gs_buildinfo_free(&bi);
}
END_TEST

/* A 1.27 binary and where its .go.buildinfo starts in the file. */
static char *load_victim(const char **path, size_t *len, size_t *off, gs_binary **out)
{
	static gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		if (strncmp(bins[i].version, "go1.27", 6) != 0 || !ends_with(bins[i].path, "go1.27"))
			continue;
		gs_err err;
		gs_binary *b = gs_binary_open(bins[i].path, &err);
		ck_assert_ptr_nonnull(b);
		*off = gs_binary_section(b, ".go.buildinfo")->offset;
		*path = bins[i].path;
		*out = b;
		return read_file(bins[i].path, len);
	}
	ck_abort_msg("no go1.27 binary in GS_TEST_GOBINS");
	return NULL;
}

static int read_copy(const char *buf, size_t len, gs_buildinfo *bi, gs_err *err)
{
	char path[64];
	write_temp(path, buf, len);
	gs_binary *b = gs_binary_open(path, err);
	ck_assert_ptr_nonnull(b);
	int r = gs_buildinfo_read(b, bi, err);
	gs_binary_close(b);
	unlink(path);
	return r;
}

/* Before 1.18 the header held pointers to Go string headers; runtime.buildVersion and
 * runtime.modinfo are exactly such headers, so point a copy's header at them. */
START_TEST(test_buildinfo_pointer_format)
{
	const char *path;
	size_t len, off;
	gs_binary *b;
	char *buf = load_victim(&path, &len, &off, &b);
	uint64_t ver, mod;
	ck_assert_int_eq(gs_binary_symbol(b, "runtime.buildVersion", &ver, NULL), 0);
	ck_assert_int_eq(gs_binary_symbol(b, "runtime.modinfo", &mod, NULL), 0);
	gs_binary_close(b);
	buf[off + 15] = 0; /* flags: not inline */
	memcpy(buf + off + 16, &ver, 8);
	memcpy(buf + off + 24, &mod, 8);
	gs_buildinfo bi;
	gs_err err = {0};
	ck_assert_msg(read_copy(buf, len, &bi, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(bi.go_version, "go1.27.4");
	ck_assert_pstr_eq(bi.main_path, "command-line-arguments");
	gs_buildinfo_free(&bi);

	uint64_t bad = 0x10;
	memcpy(buf + off + 16, &bad, 8);
	ck_assert_int_eq(read_copy(buf, len, &bi, &err), -1);
	ck_assert_int_eq(err.code, GS_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "outside the file"));
	free(buf);
}
END_TEST

START_TEST(test_buildinfo_corrupt)
{
	const char *path;
	size_t len, off;
	gs_binary *b;
	char *buf = load_victim(&path, &len, &off, &b);
	gs_binary_close(b);
	char *orig = malloc(len);
	memcpy(orig, buf, len);
	gs_buildinfo bi;
	gs_err err = {0};

	buf[off + 1] = 'X';
	ck_assert_int_eq(read_copy(buf, len, &bi, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "bad Go build info header"));

	memcpy(buf, orig, len); /* version length: a 9-byte varint far beyond the section */
	memcpy(buf + off + 32, "\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 9);
	ck_assert_int_eq(read_copy(buf, len, &bi, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "truncated"));

	memcpy(buf, orig, len); /* a varint that never ends */
	memset(buf + off + 32, 0xff, 16);
	ck_assert_int_eq(read_copy(buf, len, &bi, &err), -1);

	memcpy(buf, orig, len);
	buf[off + 32] = 0; /* empty version */
	ck_assert_int_eq(read_copy(buf, len, &bi, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "no Go version"));

	memcpy(buf, orig, len);
	buf[off + 15] = 1; /* big-endian pointer format */
	ck_assert_int_eq(read_copy(buf, len, &bi, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "big-endian"));
	free(orig);
	free(buf);
}
END_TEST

/* Without the section name (as after some strippers) the header is found by its magic. */
START_TEST(test_buildinfo_without_section)
{
	const char *path;
	size_t len, off;
	gs_binary *b;
	char *buf = load_victim(&path, &len, &off, &b);
	gs_binary_close(b);
	char *name = memmem(buf, len, ".go.buildinfo", 14);
	ck_assert_ptr_nonnull(name);
	name[12] = 'X';
	gs_buildinfo bi;
	gs_err err = {0};
	ck_assert_msg(read_copy(buf, len, &bi, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(bi.go_version, "go1.27.4");
	gs_buildinfo_free(&bi);
	free(buf);
}
END_TEST

START_TEST(test_buildinfo_not_go)
{
	gs_err err = {0};
	gs_binary *b = gs_binary_open("/proc/self/exe", &err);
	ck_assert_msg(b != NULL, "%s", err.msg);
	gs_buildinfo bi;
	ck_assert_int_eq(gs_buildinfo_read(b, &bi, &err), -1);
	ck_assert_int_eq(err.code, GS_EINPUT);
	ck_assert_msg(strstr(err.msg, "no Go build info"), "%s", err.msg);
	gs_buildinfo_free(&bi);
	gs_binary_close(b);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("buildinfo");
	TCase *tc = tcase_create("buildinfo");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_buildinfo_go_version);
	tcase_add_test(tc, test_buildinfo_modinfo_text);
	tcase_add_test(tc, test_buildinfo_pointer_format);
	tcase_add_test(tc, test_buildinfo_corrupt);
	tcase_add_test(tc, test_buildinfo_without_section);
	tcase_add_test(tc, test_buildinfo_not_go);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
