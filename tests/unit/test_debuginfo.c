/* Separate debug info: the debuglink CRC32 and build-id paths as gdb computes them, and the
 * search on real Go binaries ($GS_TEST_GOBINS) split by binutils' objcopy into a stripped
 * executable and its debug file. */
#define GOBINS_TEMP_TEMPLATE "/tmp/gs_test_debuginfo_XXXXXX"
#include "gobins.h"

#include <sys/stat.h>

#include "../../analyzer/src/binary/debuginfo.h"

static void write_bytes(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(s, 1, n, f), n);
	fclose(f);
}

/* The CRC-32 of "123456789" is the standard check value of this polynomial. */
START_TEST(test_debuginfo_crc32_check_values)
{
	char dir[] = "/tmp/gs_test_crc_XXXXXX", path[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/f", dir);
	uint32_t crc = 1;
	write_bytes(path, "123456789", 9);
	ck_assert_int_eq(gs_debuginfo_file_crc(path, &crc), 0);
	ck_assert_uint_eq(crc, 0xcbf43926u);
	write_bytes(path, "", 0);
	ck_assert_int_eq(gs_debuginfo_file_crc(path, &crc), 0);
	ck_assert_uint_eq(crc, 0);
	unlink(path);
	ck_assert_int_eq(gs_debuginfo_file_crc(path, &crc), -1);
	rmdir(dir);
}
END_TEST

START_TEST(test_debuginfo_build_id_path)
{
	char *p = gs_debuginfo_build_id_path("/usr/lib/debug", "1c7d76a9ca91");
	ck_assert_str_eq(p, "/usr/lib/debug/.build-id/1c/7d76a9ca91.debug");
	free(p);
	p = gs_debuginfo_build_id_path("/d//", "abc");
	ck_assert_str_eq(p, "/d/.build-id/ab/c.debug");
	free(p);
	ck_assert_ptr_null(gs_debuginfo_build_id_path("/d", "ab"));
	ck_assert_ptr_null(gs_debuginfo_build_id_path("/d", "ab/../../x"));
}
END_TEST

static void sh(const char *fmt, const char *a, const char *b, const char *c)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, fmt, a, b, c);
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* objcopy writes the debuglink; ours must read the same name and compute the same CRC,
 * and the search must find the file by it and, for binaries with a GNU build id, in a
 * build-id directory. */
START_TEST(test_debuginfo_found_like_gdb)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins), with_id = 0;
	for (int i = 0; i < n; i++) {
		if (ends_with(bins[i].path, "-stripped"))
			continue;
		char dir[] = "/tmp/gs_test_debuginfo_XXXXXX", exe[128], dbg[128], ids[128];
		ck_assert_ptr_nonnull(mkdtemp(dir));
		snprintf(exe, sizeof exe, "%s/exe", dir);
		snprintf(dbg, sizeof dbg, "%s/exe.debug", dir);
		snprintf(ids, sizeof ids, "%s/ids", dir);
		sh("objcopy --only-keep-debug %s %s", bins[i].path, dbg, "");
		sh("cd %s && objcopy --strip-all --add-gnu-debuglink=exe.debug %s exe%s", dir,
		   bins[i].path, "");
		gs_err err = {0};
		gs_binary *b = gs_binary_open(exe, &err);
		ck_assert_msg(b != NULL, "%s", err.msg);
		ck_assert(!gs_debuginfo_has_dwarf(b));
		const char *name;
		uint32_t crc, want;
		ck_assert_int_eq(gs_debuginfo_link(b, &name, &crc), 0);
		ck_assert_str_eq(name, "exe.debug");
		ck_assert_int_eq(gs_debuginfo_file_crc(dbg, &want), 0);
		ck_assert_uint_eq(crc, want);

		gs_debuginfo_opts o = {.dirs = ids};
		gs_debuginfo d;
		ck_assert_int_eq(gs_debuginfo_find(b, &o, &d, &err), 0);
		ck_assert_int_eq(d.source, GS_DEBUG_SEPARATE);
		ck_assert_str_eq(d.found_by, "debuglink");
		ck_assert(gs_debuginfo_has_dwarf(d.file));
		ck_assert_ptr_null(d.warnings);
		gs_debuginfo_free(&d);

		const char *id = gs_binary_gnu_build_id(b);
		if (id) { /* the debug file moves into ids/.build-id/xx/, the debuglink breaks */
			with_id++;
			char *p = gs_debuginfo_build_id_path(ids, id);
			sh("mkdir -p $(dirname %s) && mv %s %s", p, dbg, p);
			ck_assert_int_eq(gs_debuginfo_find(b, &o, &d, &err), 0);
			ck_assert_str_eq(d.found_by, "build-id directory");
			ck_assert_str_eq(gs_binary_path(d.file), p);
			gs_debuginfo_free(&d);
			/* another build under this name: a warning, nothing found */
			sh("cp %s %s%s", bins[(i + 1) % n].path, p, "");
			ck_assert_int_eq(gs_debuginfo_find(b, &o, &d, &err), 0);
			ck_assert_int_eq(d.source, GS_DEBUG_NONE);
			ck_assert_ptr_nonnull(d.warnings);
			ck_assert_ptr_nonnull(strstr(d.warnings, p));
			ck_assert_ptr_nonnull(strstr(d.searched, "exe.debug"));
			gs_debuginfo_free(&d);
			free(p);
		}
		gs_binary_close(b);
		sh("rm -rf %s%s%s", dir, "", "");
	}
	ck_assert_msg(with_id > 0, "no binary with a GNU build id (Go 1.24+ writes one)");
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("debuginfo");
	TCase *tc = tcase_create("debuginfo");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_debuginfo_crc32_check_values);
	tcase_add_test(tc, test_debuginfo_build_id_path);
	tcase_add_test(tc, test_debuginfo_found_like_gdb);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
