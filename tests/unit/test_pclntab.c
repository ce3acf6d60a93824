/* pclntab: real binaries from tests/unit/data/build-gobins.sh (dir in $GS_TEST_GOBINS),
 * plus copies of one with a corrupted table. Line numbers refer to data/gobin/main.go. */
#define GOBINS_TEMP_TEMPLATE "/tmp/gs_test_pclntab_XXXXXX"
#include "gobins.h"

#include "../../analyzer/src/binary/pclntab.h"

#define LINE_LEAF 12
#define LINE_INLINED_CALL 18
#define LINE_CALLER 22
#define LINE_CALLER_CALL 23
#define LINE_RECURSE 28

typedef struct opened {
	gs_binary *b;
	gs_pclntab *t;
} opened;

static opened open_both(const char *path)
{
	gs_err err = {0};
	opened o = {gs_binary_open(path, &err), NULL};
	ck_assert_msg(o.b != NULL, "%s", err.msg);
	o.t = gs_pclntab_open(o.b, &err);
	ck_assert_msg(o.t != NULL, "%s", err.msg);
	return o;
}

static void close_both(opened o)
{
	gs_pclntab_close(o.t);
	gs_binary_close(o.b);
}

START_TEST(test_pclntab_gobins_present)
{
	gobin bins[MAX_BINS];
	need_gobins(bins);
}
END_TEST

START_TEST(test_pclntab_format_and_size)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		opened o = open_both(bins[i].path);
		int want = strncmp(bins[i].version, "go1.18", 6) == 0 ||
				   strncmp(bins[i].version, "go1.19", 6) == 0
			       ? 18
			       : 20;
		ck_assert_msg(gs_pclntab_format(o.t) == want, "%s: format %d, want %d",
			      bins[i].path, gs_pclntab_format(o.t), want);
		ck_assert_msg(gs_pclntab_nfuncs(o.t) > 1000, "%s: only %u functions", bins[i].path,
			      gs_pclntab_nfuncs(o.t));
		close_both(o);
	}
}
END_TEST

START_TEST(test_pclntab_find_main_main)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		opened o = open_both(bins[i].path);
		uint64_t addr, size;
		gs_func f, g;
		ck_assert_msg(gs_pclntab_lookup(o.t, "main.main", &f) == 0, "%s", bins[i].path);
		if (gs_binary_symbol(o.b, "main.main", &addr, &size) == 0) {
			ck_assert_msg(f.entry == addr, "%s: main.main at %#llx, symbol at %#llx",
				      bins[i].path, (unsigned long long)f.entry,
				      (unsigned long long)addr);
			ck_assert_uint_ge(f.end - f.entry, size);
		} else {
			ck_assert_msg(ends_with(bins[i].path, "-stripped"), "%s: no symbol main.main",
				      bins[i].path);
		}
		ck_assert_int_eq(gs_pclntab_find(o.t, f.entry, &g), 0);
		ck_assert_str_eq(g.name, "main.main");
		ck_assert_int_eq(gs_pclntab_find(o.t, f.end - 1, &g), 0);
		ck_assert_str_eq(g.name, "main.main");
		ck_assert_uint_eq(g.index, f.index);
		ck_assert_int_eq(gs_pclntab_find(o.t, 0, &g), -1);
		ck_assert_int_eq(gs_pclntab_find(o.t, UINT64_MAX, &g), -1);
		close_both(o);
	}
}
END_TEST

/* The header has no textStart from Go 1.26: entries must still land on the symbols. */
START_TEST(test_pclntab_text_start_zero)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins), seen = 0;
	for (int i = 0; i < n; i++) {
		if (strncmp(bins[i].version, "go1.27", 6) != 0)
			continue;
		opened o = open_both(bins[i].path);
		gs_err err = {0};
		const gs_section *s = gs_binary_section(o.b, ".gopclntab");
		ck_assert_ptr_nonnull(s);
		const uint8_t *d = gs_binary_section_data(o.b, s, &err);
		ck_assert_ptr_nonnull(d);
		uint64_t hdr_text;
		memcpy(&hdr_text, d + 24, 8);
		ck_assert_uint_eq(hdr_text, 0);
		const gs_section *text = gs_binary_section(o.b, ".text");
		ck_assert_uint_eq(gs_pclntab_text_start(o.t), text->addr);
		gs_func f;
		ck_assert_int_eq(gs_pclntab_func_at(o.t, 0, &f), 0);
		ck_assert_uint_ge(f.entry, text->addr);
		ck_assert_uint_lt(f.entry, text->addr + text->size);
		seen++;
		close_both(o);
	}
	ck_assert_msg(seen >= 2, "no Go 1.27 binaries (normal and stripped) in GS_TEST_GOBINS");
}
END_TEST

static void assert_entry_line(opened o, const char *path, const char *fn, int line)
{
	gs_func f;
	gs_pcframe fr[4];
	ck_assert_msg(gs_pclntab_lookup(o.t, fn, &f) == 0, "%s: no %s", path, fn);
	int n = gs_pclntab_frames(o.t, &f, f.entry, fr, 4);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(fr[0].function, fn);
	ck_assert_msg(ends_with(fr[0].file, "gobin/main.go"), "%s: %s in %s", path, fn,
		      fr[0].file);
	ck_assert_msg(fr[0].line == line, "%s: %s at line %d, want %d", path, fn, fr[0].line,
		      line);
}

START_TEST(test_pclntab_entry_lines)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		opened o = open_both(bins[i].path);
		/* leaf has no prologue: its first instruction may already be the body's line */
		gs_func f;
		gs_pcframe fr[4];
		ck_assert_int_eq(gs_pclntab_lookup(o.t, "main.leaf", &f), 0);
		ck_assert_int_eq(gs_pclntab_frames(o.t, &f, f.entry, fr, 4), 1);
		ck_assert_msg(fr[0].line == LINE_LEAF || fr[0].line == LINE_LEAF + 1,
			      "%s: main.leaf at line %d", bins[i].path, fr[0].line);
		assert_entry_line(o, bins[i].path, "main.caller", LINE_CALLER);
		assert_entry_line(o, bins[i].path, "main.recurse", LINE_RECURSE);
		close_both(o);
	}
}
END_TEST

/* main.inlined is inlined into main.caller: somewhere in caller a pc must expand to both,
 * innermost first, each at its own line. */
START_TEST(test_pclntab_inline_frames)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		opened o = open_both(bins[i].path);
		gs_func f;
		ck_assert_int_eq(gs_pclntab_lookup(o.t, "main.caller", &f), 0);
		ck_assert_int_eq(gs_pclntab_lookup(o.t, "main.inlined", &(gs_func){0}), -1);
		int found = 0;
		for (uint64_t pc = f.entry; pc < f.end; pc++) {
			gs_pcframe fr[8];
			int nf = gs_pclntab_frames(o.t, &f, pc, fr, 8);
			ck_assert_int_ge(nf, 1);
			ck_assert_str_eq(fr[nf - 1].function, "main.caller");
			if (nf < 2)
				continue;
			ck_assert_int_eq(nf, 2);
			ck_assert_str_eq(fr[0].function, "main.inlined");
			ck_assert_int_eq(fr[0].line, LINE_INLINED_CALL);
			ck_assert_int_eq(fr[1].line, LINE_CALLER_CALL);
			ck_assert(ends_with(fr[0].file, "gobin/main.go"));
			/* With room for one frame only, the physical function is what is left. */
			ck_assert_int_eq(gs_pclntab_frames(o.t, &f, pc, fr, 1), 1);
			ck_assert_str_eq(fr[0].function, "main.caller");
			found++;
		}
		ck_assert_msg(found > 0, "%s: no inlined frame in main.caller", bins[i].path);
		close_both(o);
	}
}
END_TEST

START_TEST(test_pclntab_spdelta)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		opened o = open_both(bins[i].path);
		gs_func f;
		bool ok;
		ck_assert_int_eq(gs_pclntab_lookup(o.t, "main.recurse", &f), 0);
		ck_assert_int_eq(gs_pclntab_spdelta(o.t, &f, f.entry, &ok), 0);
		ck_assert(ok);
		/* The table covers the code, not the alignment padding up to the next entry. */
		uint64_t addr, size = 1;
		gs_binary_symbol(o.b, "main.recurse", &addr, &size);
		int32_t max = 0;
		for (uint64_t pc = f.entry; pc < f.entry + size; pc++) {
			int32_t d = gs_pclntab_spdelta(o.t, &f, pc, &ok);
			ck_assert_msg(ok, "%s: no spdelta at %#llx", bins[i].path,
				      (unsigned long long)pc);
			ck_assert_int_ge(d, 0);
			if (d > max)
				max = d;
		}
		ck_assert_msg(max > 0 || size == 1, "%s: main.recurse never grows its frame",
			      bins[i].path);
		ck_assert_int_eq(gs_pclntab_spdelta(o.t, &f, f.entry - 1, &ok), -1);
		ck_assert(!ok);
		close_both(o);
	}
}
END_TEST

START_TEST(test_pclntab_goexit_topframe)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		opened o = open_both(bins[i].path);
		gs_func f;
		ck_assert_int_eq(gs_pclntab_lookup(o.t, "runtime.goexit", &f), 0);
		ck_assert_str_eq(f.name, "runtime.goexit");
		ck_assert_uint_eq(f.flag & 1, 1); /* FuncFlag TopFrame */
		ck_assert_int_ne(f.funcid, 0);
		ck_assert_int_eq(gs_pclntab_lookup(o.t, "main.nosuchfunction", &f), -1);
		close_both(o);
	}
}
END_TEST

/* Every function is found from its own entry, and names round-trip through lookup. */
START_TEST(test_pclntab_table_consistent)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		opened o = open_both(bins[i].path);
		uint32_t nf = gs_pclntab_nfuncs(o.t);
		for (uint32_t k = 0; k < nf; k++) {
			gs_func f, g;
			ck_assert_int_eq(gs_pclntab_func_at(o.t, k, &f), 0);
			ck_assert_uint_le(f.entry, f.end);
			if (f.entry == f.end)
				continue;
			ck_assert_int_eq(gs_pclntab_find(o.t, f.entry, &g), 0);
			ck_assert_uint_eq(g.index, k);
			ck_assert_int_eq(gs_pclntab_lookup(o.t, f.name, &g), 0);
			ck_assert_str_eq(g.name, f.name);
		}
		ck_assert_int_eq(gs_pclntab_func_at(o.t, nf, &(gs_func){0}), -1);
		close_both(o);
	}
}
END_TEST

/* ---- corrupted copies ---- */

/* A Go 1.20+ binary to corrupt, its bytes, and where its .gopclntab starts in the file. */
static char *load_victim(size_t *len, size_t *tab, size_t *tabsize)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	for (int i = 0; i < n; i++) {
		if (strncmp(bins[i].version, "go1.27", 6) != 0 || ends_with(bins[i].path, "-pie"))
			continue;
		gs_err err;
		gs_binary *b = gs_binary_open(bins[i].path, &err);
		ck_assert_ptr_nonnull(b);
		const gs_section *s = gs_binary_section(b, ".gopclntab");
		*tab = s->offset;
		*tabsize = s->size;
		gs_binary_close(b);
		return read_file(bins[i].path, len);
	}
	ck_abort_msg("no Go 1.27 binary in GS_TEST_GOBINS");
	return NULL;
}

/* Opens the corrupted copy: must fail with GS_EINPUT naming the problem, or (want NULL)
 * open and then survive lookups over the whole table. */
static void expect_open(const char *buf, size_t len, const char *want)
{
	char path[64];
	write_temp(path, buf, len);
	gs_err err = {0};
	gs_binary *b = gs_binary_open(path, &err);
	gs_pclntab *t = b ? gs_pclntab_open(b, &err) : NULL;
	if (want) {
		ck_assert_msg(t == NULL, "corrupt pclntab accepted (want \"%s\")", want);
		ck_assert_int_eq(err.code, GS_EINPUT);
		ck_assert_msg(strstr(err.msg, want), "error \"%s\", want \"%s\"", err.msg, want);
	} else if (t) {
		for (uint32_t k = 0; k < gs_pclntab_nfuncs(t); k++) {
			gs_func f;
			gs_pcframe fr[16];
			bool ok;
			gs_pclntab_func_at(t, k, &f);
			gs_pclntab_find(t, f.entry, &f);
			gs_pclntab_spdelta(t, &f, f.entry + (f.end - f.entry) / 2, &ok);
			gs_pclntab_frames(t, &f, f.entry + (f.end - f.entry) / 2, fr, 16);
		}
	}
	gs_pclntab_close(t);
	gs_binary_close(b);
	unlink(path);
}

static void put32(char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(char *p, uint64_t v) { memcpy(p, &v, 8); }

START_TEST(test_pclntab_corrupt_header)
{
	size_t len, tab, tabsize;
	char *orig = load_victim(&len, &tab, &tabsize);
	char *buf = malloc(len);

	memcpy(buf, orig, len);
	put32(buf + tab, 0x12345678);
	expect_open(buf, len, "bad pclntab magic");

	memcpy(buf, orig, len);
	put32(buf + tab, 0xfffffffb);
	expect_open(buf, len, "not supported");

	memcpy(buf, orig, len);
	buf[tab + 7] = 3; /* pointer size */
	expect_open(buf, len, "corrupt pclntab header");

	memcpy(buf, orig, len);
	put64(buf + tab + 8, 1u << 30); /* nfunc */
	expect_open(buf, len, "corrupt pclntab header");

	memcpy(buf, orig, len);
	put64(buf + tab + 8, 10u << 20); /* nfunc within the cap, beyond the table */
	expect_open(buf, len, "function table truncated");

	memcpy(buf, orig, len);
	put64(buf + tab + 64, tabsize + 4096); /* pclnOffset beyond the section */
	expect_open(buf, len, "table offsets");

	memcpy(buf, orig, len);
	put64(buf + tab + 32, UINT64_MAX); /* funcnameOffset */
	expect_open(buf, len, "table offsets");

	free(buf);
	free(orig);
}
END_TEST

START_TEST(test_pclntab_corrupt_functab)
{
	size_t len, tab, tabsize;
	char *orig = load_victim(&len, &tab, &tabsize);
	char *buf = malloc(len);
	uint64_t pcln;
	memcpy(&pcln, orig + tab + 64, 8);
	char *ftab = buf + tab + pcln;

	memcpy(buf, orig, len);
	put32(ftab + 8 * 5 + 4, 0xfffffff0); /* funcoff of function 5 */
	expect_open(buf, len, "function 5 out of range");

	memcpy(buf, orig, len);
	put32(ftab + 8 * 7, 0x7fffffff); /* entryoff of function 7: order broken */
	expect_open(buf, len, "not sorted");

	memcpy(buf, orig, len);
	uint32_t funcoff;
	memcpy(&funcoff, ftab + 8 * 9 + 4, 4);
	put32(ftab + funcoff + 4, 0x7ffffff0); /* nameOff of function 9 */
	expect_open(buf, len, "function 9: bad name offset");

	free(buf);
	free(orig);
}
END_TEST

/* Random damage to pc-value tables and function records must never crash a lookup. */
START_TEST(test_pclntab_corrupt_tables_no_crash)
{
	size_t len, tab, tabsize;
	char *orig = load_victim(&len, &tab, &tabsize);
	char *buf = malloc(len);
	uint64_t nfunc, pctab, pcln;
	memcpy(&nfunc, orig + tab + 8, 8);
	memcpy(&pctab, orig + tab + 56, 8);
	memcpy(&pcln, orig + tab + 64, 8);
	/* pc-value streams, then function records and funcdata (past the ftab) */
	size_t from[2] = {tab + pctab, tab + pcln + (nfunc + 1) * 8};
	size_t to[2] = {tab + pcln, tab + tabsize};
	unsigned seed = 12345;
	for (int round = 0; round < 8; round++) {
		size_t lo = from[round % 2], span = to[round % 2] - lo;
		memcpy(buf, orig, len);
		for (int k = 0; k < (round < 4 ? 2000 : 20); k++)
			buf[lo + (size_t)rand_r(&seed) % span] = (char)rand_r(&seed);
		expect_open(buf, len, NULL);
	}
	free(buf);
	free(orig);
}
END_TEST

START_TEST(test_pclntab_not_go)
{
	/* This test program is an ELF file without a pclntab. */
	gs_err err = {0};
	gs_binary *b = gs_binary_open("/proc/self/exe", &err);
	ck_assert_msg(b != NULL, "%s", err.msg);
	ck_assert_ptr_null(gs_pclntab_open(b, &err));
	ck_assert_int_eq(err.code, GS_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no Go pclntab"));
	gs_binary_close(b);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("pclntab");
	TCase *tc = tcase_create("real");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pclntab_gobins_present);
	tcase_add_test(tc, test_pclntab_format_and_size);
	tcase_add_test(tc, test_pclntab_find_main_main);
	tcase_add_test(tc, test_pclntab_text_start_zero);
	tcase_add_test(tc, test_pclntab_entry_lines);
	tcase_add_test(tc, test_pclntab_inline_frames);
	tcase_add_test(tc, test_pclntab_spdelta);
	tcase_add_test(tc, test_pclntab_goexit_topframe);
	tcase_add_test(tc, test_pclntab_table_consistent);
	suite_add_tcase(s, tc);
	TCase *bad = tcase_create("corrupt");
	tcase_set_timeout(bad, 300);
	tcase_add_test(bad, test_pclntab_corrupt_header);
	tcase_add_test(bad, test_pclntab_corrupt_functab);
	tcase_add_test(bad, test_pclntab_corrupt_tables_no_crash);
	tcase_add_test(bad, test_pclntab_not_go);
	suite_add_tcase(s, bad);
	return s;
}

GS_CHECK_MAIN(make_suite)
