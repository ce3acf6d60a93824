/* ELF reader: sections, segments, symbols and build ids of real Go binaries (dir in
 * $GS_TEST_GOBINS, from tests/unit/data/build-gobins.sh), and files that are not ELF. */
#define GOBINS_TEMP_TEMPLATE "/tmp/gs_test_elf_XXXXXX"
#include "gobins.h"

#include <sys/stat.h>

#include "../../analyzer/src/binary/elf_file.h"

START_TEST(test_elf_sections_and_segments)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		gs_err err = {0};
		gs_binary *b = gs_binary_open(bins[i].path, &err);
		ck_assert_msg(b != NULL, "%s", err.msg);
		ck_assert_str_eq(gs_binary_path(b), bins[i].path);
		ck_assert_int_eq(gs_binary_is_pie(b), ends_with(bins[i].path, "-pie"));
		const gs_section *text = gs_binary_section(b, ".text");
		ck_assert_ptr_nonnull(text);
		ck_assert_ptr_null(gs_binary_section(b, ".no.such.section"));
		ck_assert_uint_ge(gs_binary_entry(b), text->addr);
		ck_assert_uint_lt(gs_binary_entry(b), text->addr + text->size);
		const uint8_t *code = gs_binary_section_data(b, text, &err);
		ck_assert_ptr_nonnull(code);
		/* the same bytes through the segments, by link address */
		uint8_t buf[64];
		ck_assert_int_eq(gs_binary_read(b, text->addr, buf, sizeof buf), 0);
		ck_assert_mem_eq(buf, code, sizeof buf);
		size_t avail;
		ck_assert_ptr_eq(gs_binary_ptr(b, text->addr, &avail), code);
		ck_assert_uint_ge(avail, text->size);
		ck_assert_uint_ge(gs_binary_nsegments(b), 2);
		ck_assert_ptr_null(gs_binary_segment(b, gs_binary_nsegments(b)));
		/* .bss has no file bytes: the target layer decides what they are */
		const gs_section *bss = gs_binary_section(b, ".bss");
		ck_assert_ptr_nonnull(bss);
		ck_assert_int_eq(gs_binary_read(b, bss->addr + 8, buf, 8), -1);
		ck_assert_ptr_null(gs_binary_section_data(b, bss, &err));
		ck_assert_int_eq(gs_binary_read(b, 0, buf, 1), -1);
		ck_assert_int_eq(gs_binary_read(b, UINT64_MAX - 2, buf, 8), -1);
		gs_binary_close(b);
	}
}
END_TEST

/* Go compresses DWARF with zlib (SHF_COMPRESSED); contents come back inflated. */
START_TEST(test_elf_compressed_section)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins), seen = 0;
	for (int i = 0; i < n; i++) {
		gs_err err = {0};
		gs_binary *b = gs_binary_open(bins[i].path, &err);
		ck_assert_msg(b != NULL, "%s", err.msg);
		const gs_section *s = gs_binary_section(b, ".debug_info");
		if (!s) {
			ck_assert(ends_with(bins[i].path, "-stripped"));
			gs_binary_close(b);
			continue;
		}
		ck_assert_uint_ne(s->flags & (1u << 11), 0); /* SHF_COMPRESSED */
		const uint8_t *d = gs_binary_section_data(b, s, &err);
		ck_assert_msg(d != NULL, "%s", err.msg);
		ck_assert_ptr_eq(gs_binary_section_data(b, s, &err), d); /* cached */
		uint32_t unit_len;
		uint16_t version;
		memcpy(&unit_len, d, 4);
		memcpy(&version, d + 4, 2);
		ck_assert_uint_le(unit_len + 4ull, s->size);
		ck_assert_msg(version >= 2 && version <= 5, "DWARF version %u", version);
		seen++;
		gs_binary_close(b);
	}
	ck_assert_int_gt(seen, 0);
}
END_TEST

START_TEST(test_elf_corrupt_compressed_section)
{
	gobin bins[MAX_BINS];
	need_gobins(bins);
	gs_err err = {0};
	gs_binary *b = gs_binary_open(bins[0].path, &err);
	ck_assert_ptr_nonnull(b);
	const gs_section *s = gs_binary_section(b, ".debug_info");
	ck_assert_msg(s != NULL, "%s has no .debug_info", bins[0].path);
	uint64_t off = s->offset;
	gs_binary_close(b);
	size_t len;
	char *buf = read_file(bins[0].path, &len);
	memset(buf + off + 24, 0x5a, 64); /* zlib stream after the Elf64_Chdr */
	char path[64];
	write_temp(path, buf, len);
	b = gs_binary_open(path, &err);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(gs_binary_section_data(b, gs_binary_section(b, ".debug_info"), &err));
	ck_assert_int_eq(err.code, GS_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "corrupt zlib data"));
	gs_binary_close(b);
	unlink(path);
	uint64_t huge = UINT64_MAX;
	memcpy(buf + off + 8, &huge, 8); /* ch_size: refused before inflating */
	write_temp(path, buf, len);
	b = gs_binary_open(path, &err);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(gs_binary_section_data(b, gs_binary_section(b, ".debug_info"), &err));
	gs_binary_close(b);
	unlink(path);
	free(buf);
}
END_TEST

START_TEST(test_elf_symbols)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		gs_err err = {0};
		gs_binary *b = gs_binary_open(bins[i].path, &err);
		ck_assert_msg(b != NULL, "%s", err.msg);
		uint64_t addr = 0, size = 0, taddr = 0;
		if (ends_with(bins[i].path, "-stripped")) {
			ck_assert_int_eq(gs_binary_symbol(b, "main.main", &addr, &size), -1);
		} else {
			ck_assert_int_eq(gs_binary_symbol(b, "main.main", &addr, &size), 0);
			ck_assert_uint_gt(size, 0);
			ck_assert_int_eq(gs_binary_symbol(b, "runtime.text", &taddr, NULL), 0);
			ck_assert_uint_eq(taddr, gs_binary_section(b, ".text")->addr);
			ck_assert_uint_gt(addr, taddr);
			ck_assert_int_eq(gs_binary_symbol(b, "runtime.firstmoduledata", NULL, NULL),
					 0);
		}
		ck_assert_int_eq(gs_binary_symbol(b, "main.no_such_symbol", &addr, &size), -1);
		ck_assert_int_eq(gs_binary_symbol(b, "", &addr, &size), -1);
		gs_binary_close(b);
	}
}
END_TEST

START_TEST(test_elf_build_ids)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		gs_err err = {0};
		gs_binary *b = gs_binary_open(bins[i].path, &err);
		ck_assert_msg(b != NULL, "%s", err.msg);
		char want[256];
		read_side(bins[i].path, "go-build-id", want, sizeof want);
		ck_assert_ptr_nonnull(gs_binary_go_build_id(b));
		ck_assert_str_eq(gs_binary_go_build_id(b), want);
		read_side(bins[i].path, "gnu-build-id", want, sizeof want);
		if (want[0])
			ck_assert_pstr_eq(gs_binary_gnu_build_id(b), want);
		else
			ck_assert_ptr_null(gs_binary_gnu_build_id(b));
		gs_binary_close(b);
	}
}
END_TEST

static void expect_open_error(const char *path, const char *want)
{
	gs_err err = {0};
	gs_binary *b = gs_binary_open(path, &err);
	ck_assert_msg(b == NULL, "%s opened", path);
	ck_assert_int_eq(err.code, GS_EINPUT);
	char full[1100];
	snprintf(full, sizeof full, "%s: %s", path, want);
	ck_assert_msg(strncmp(err.msg, full, strlen(full)) == 0, "error \"%s\", want \"%s\"",
		      err.msg, full);
}

START_TEST(test_elf_not_elf)
{
	char path[64];
	write_temp(path, "hello, this is not an ELF file\n", 31);
	expect_open_error(path, "not an ELF file");
	unlink(path);
	write_temp(path, "", 0);
	expect_open_error(path, "not an ELF file");
	unlink(path);
	write_temp(path, "\177ELF", 4);
	expect_open_error(path, "not an ELF file");
	unlink(path);
	expect_open_error("/nonexistent/grpcscope/binary", "no such file");
	expect_open_error("/tmp", "not a regular file");
}
END_TEST

START_TEST(test_elf_truncated)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		size_t len;
		char *buf = read_file(bins[i].path, &len);
		char path[64];
		write_temp(path, buf, len / 2);
		uint64_t shoff;
		memcpy(&shoff, buf + 40, 8);
		if (shoff > len / 2) { /* section headers at the end, as Go 1.2x writes them */
			expect_open_error(path, "truncated ELF (section headers beyond end of file)");
		} else { /* at the start: the names or the lost sections are refused */
			gs_err err = {0};
			gs_binary *b = gs_binary_open(path, &err);
			if (!b) {
				expect_open_error(path,
						  "truncated ELF (section names beyond end of file)");
				unlink(path);
				free(buf);
				continue;
			}
			const gs_section *s = gs_binary_section(b, ".debug_info");
			ck_assert_ptr_null(gs_binary_section_data(b, s, &err));
			ck_assert_msg(strstr(err.msg, "beyond end of file"), "%s", err.msg);
			gs_binary_close(b);
		}
		unlink(path);
		write_temp(path, buf, 40);
		gs_err err = {0};
		ck_assert_ptr_null(gs_binary_open(path, &err));
		ck_assert_int_eq(err.code, GS_EINPUT);
		unlink(path);
		free(buf);
	}
}
END_TEST

/* Random damage to the headers must give an error or a usable object, never a crash. */
START_TEST(test_elf_corrupt_headers_no_crash)
{
	gobin bins[MAX_BINS];
	need_gobins(bins);
	size_t len;
	char *orig = read_file(bins[0].path, &len);
	char *buf = malloc(len);
	uint64_t shoff;
	memcpy(&shoff, orig + 40, 8);
	unsigned seed = 7;
	for (int round = 0; round < 40; round++) {
		memcpy(buf, orig, len);
		for (int k = 0; k < 8; k++) {
			/* the ELF header, program headers and section headers */
			size_t at = (round & 1) ? (size_t)rand_r(&seed) % 64 + 0
						: shoff + (size_t)rand_r(&seed) % (len - shoff);
			if (round % 4 == 2)
				at = 64 + (size_t)rand_r(&seed) % 512;
			buf[at] = (char)rand_r(&seed);
		}
		char path[64];
		write_temp(path, buf, len);
		gs_err err = {0};
		gs_binary *b = gs_binary_open(path, &err);
		if (b) {
			uint8_t tmp[16];
			for (size_t s = 0; s < gs_binary_nsegments(b); s++)
				gs_binary_read(b, gs_binary_segment(b, s)->vaddr, tmp, sizeof tmp);
			const gs_section *sec = gs_binary_section(b, ".debug_info");
			if (sec)
				gs_binary_section_data(b, sec, &err);
			gs_binary_symbol(b, "main.main", NULL, NULL);
		} else {
			ck_assert_int_eq(err.code, GS_EINPUT);
		}
		gs_binary_close(b);
		unlink(path);
	}
	free(buf);
	free(orig);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("elf_file");
	TCase *tc = tcase_create("elf");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_elf_sections_and_segments);
	tcase_add_test(tc, test_elf_compressed_section);
	tcase_add_test(tc, test_elf_corrupt_compressed_section);
	tcase_add_test(tc, test_elf_symbols);
	tcase_add_test(tc, test_elf_build_ids);
	tcase_add_test(tc, test_elf_not_elf);
	tcase_add_test(tc, test_elf_truncated);
	tcase_add_test(tc, test_elf_corrupt_headers_no_crash);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
