/* The page cache over a fake source whose readable ranges and call count the test knows. */
#include <string.h>

#include "gs_check.h"
#include "../../analyzer/src/target/page_cache.h"

typedef struct fake {
	uint64_t lo[4], hi[4]; /* readable ranges */
	int nranges;
	int calls;
} fake;

static uint8_t byte_at(uint64_t a)
{
	return (uint8_t)(a * 7 + (a >> 12));
}

static int readable(const fake *f, uint64_t a)
{
	for (int i = 0; i < f->nranges; i++)
		if (a >= f->lo[i] && a < f->hi[i])
			return 1;
	return 0;
}

static size_t fake_read(void *ctx, uint64_t addr, void *dst, size_t n)
{
	fake *f = ctx;
	uint8_t *out = dst;
	size_t k = 0;
	f->calls++;
	while (k < n && readable(f, addr + k)) {
		out[k] = byte_at(addr + k);
		k++;
	}
	return k;
}

static uint64_t fake_next(void *ctx, uint64_t addr)
{
	fake *f = ctx;
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < f->nranges; i++)
		if (f->lo[i] > addr && f->lo[i] < best)
			best = f->lo[i];
	return best;
}

static gs_page_cache *cache_over(fake *f, size_t bytes, int with_next)
{
	gs_page_source src = { f, fake_read, with_next ? fake_next : NULL };
	return gs_page_cache_new(&src, bytes);
}

static void check_bytes(const uint8_t *b, uint64_t addr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(b[i], byte_at(addr + i));
}

START_TEST(test_page_cache_cross_page_read)
{
	fake f = { .lo = { 0x10000 }, .hi = { 0x20000 }, .nranges = 1 };
	gs_page_cache *pc = cache_over(&f, 1 << 20, 1);
	uint8_t buf[3 * 4096];
	ck_assert_uint_eq(gs_page_cache_read(pc, 0x10ff8, buf, 16), 16);
	check_bytes(buf, 0x10ff8, 16);
	ck_assert_int_eq(f.calls, 2);
	ck_assert_uint_eq(gs_page_cache_read(pc, 0x10800, buf, sizeof buf), sizeof buf);
	check_bytes(buf, 0x10800, sizeof buf);
	ck_assert_int_eq(f.calls, 4); /* pages 0x12000 and 0x13000 were new */
	gs_page_cache_stats st;
	gs_page_cache_get_stats(pc, &st);
	ck_assert_uint_eq(st.misses, 4);
	ck_assert_uint_eq(st.hits, 2);
	gs_page_cache_free(pc);
}
END_TEST

START_TEST(test_page_cache_read_stops_at_end_of_memory)
{
	fake f = { .lo = { 0x10000 }, .hi = { 0x11000 }, .nranges = 1 };
	gs_page_cache *pc = cache_over(&f, 1 << 20, 1);
	uint8_t buf[64];
	ck_assert_uint_eq(gs_page_cache_read(pc, 0x10fe0, buf, 64), 32);
	check_bytes(buf, 0x10fe0, 32);
	ck_assert_uint_eq(gs_page_cache_read(pc, 0x9000, buf, 8), 0);
	gs_page_cache_free(pc);
}
END_TEST

START_TEST(test_page_cache_negative_results_are_cached)
{
	fake f = { .nranges = 0 };
	gs_page_cache *pc = cache_over(&f, 1 << 20, 0);
	uint8_t buf[8];
	for (int i = 0; i < 100; i++)
		ck_assert_uint_eq(gs_page_cache_read(pc, 0xdead000 + (uint64_t)i, buf, 8), 0);
	ck_assert_int_eq(f.calls, 1);
	gs_page_cache_invalidate(pc);
	ck_assert_uint_eq(gs_page_cache_read(pc, 0xdead000, buf, 8), 0);
	ck_assert_int_eq(f.calls, 2);
	gs_page_cache_free(pc);
}
END_TEST

START_TEST(test_page_cache_partial_page_with_hole)
{
	/* Two ranges inside one page with a hole between them, as when a backing region
	 * starts mid-page. */
	fake f = { .lo = { 0x5000, 0x5800 }, .hi = { 0x5100, 0x6000 }, .nranges = 2 };
	gs_page_cache *pc = cache_over(&f, 1 << 20, 1);
	uint8_t buf[0x200];
	ck_assert_uint_eq(gs_page_cache_read(pc, 0x50f0, buf, 0x20), 0x10);
	check_bytes(buf, 0x50f0, 0x10);
	ck_assert_uint_eq(gs_page_cache_read(pc, 0x5200, buf, 8), 0);
	ck_assert_uint_eq(gs_page_cache_read(pc, 0x5800, buf, 0x200), 0x200);
	check_bytes(buf, 0x5800, 0x200);
	ck_assert_int_eq(f.calls, 2); /* one page, two source reads: before and after the hole */
	gs_page_cache_free(pc);
}
END_TEST

START_TEST(test_page_cache_without_next_treats_rest_of_page_as_hole)
{
	fake f = { .lo = { 0x5000, 0x5800 }, .hi = { 0x5100, 0x6000 }, .nranges = 2 };
	gs_page_cache *pc = cache_over(&f, 1 << 20, 0);
	uint8_t buf[8];
	ck_assert_uint_eq(gs_page_cache_read(pc, 0x5000, buf, 8), 8);
	ck_assert_uint_eq(gs_page_cache_read(pc, 0x5800, buf, 8), 0);
	gs_page_cache_free(pc);
}
END_TEST

START_TEST(test_page_cache_evicts_least_recently_used)
{
	fake f = { .lo = { 0 }, .hi = { 0x100000 }, .nranges = 1 };
	gs_page_cache *pc = cache_over(&f, 4 * 4096, 0); /* four pages */
	uint8_t b[8];
	for (uint64_t p = 0; p < 4; p++)
		ck_assert_uint_eq(gs_page_cache_read(pc, p * 4096, b, 8), 8);
	ck_assert_int_eq(f.calls, 4);
	ck_assert_uint_eq(gs_page_cache_read(pc, 0, b, 8), 8); /* page 0 is now the newest */
	ck_assert_uint_eq(gs_page_cache_read(pc, 4 * 4096, b, 8), 8); /* evicts page 1 */
	ck_assert_int_eq(f.calls, 5);
	ck_assert_uint_eq(gs_page_cache_read(pc, 0, b, 8), 8);
	ck_assert_int_eq(f.calls, 5);
	ck_assert_uint_eq(gs_page_cache_read(pc, 4096, b, 8), 8);
	ck_assert_int_eq(f.calls, 6);
	check_bytes(b, 4096, 8);
	gs_page_cache_stats st;
	gs_page_cache_get_stats(pc, &st);
	ck_assert_uint_eq(st.evictions, 2);
	gs_page_cache_free(pc);
}
END_TEST

START_TEST(test_page_cache_stays_correct_under_pressure)
{
	fake f = { .lo = { 0 }, .hi = { 0x400000 }, .nranges = 1 };
	gs_page_cache *pc = cache_over(&f, 16 * 4096, 0);
	uint8_t buf[100];
	uint64_t x = 12345;
	for (int i = 0; i < 5000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t a = (x >> 20) % (0x400000 - sizeof buf);
		ck_assert_uint_eq(gs_page_cache_read(pc, a, buf, sizeof buf), sizeof buf);
		int same = 1;
		for (size_t k = 0; k < sizeof buf; k++)
			same &= buf[k] == byte_at(a + k);
		ck_assert_msg(same, "bytes at 0x%llx", (unsigned long long)a);
	}
	gs_page_cache_free(pc);
}
END_TEST

START_TEST(test_page_cache_top_of_address_space)
{
	fake f = { .lo = { 0xfffffffffffff000ull }, .hi = { UINT64_MAX }, .nranges = 1 };
	gs_page_cache *pc = cache_over(&f, 1 << 20, 1);
	uint8_t buf[32];
	/* The last byte is outside [lo, hi); a read must neither wrap nor overrun. */
	ck_assert_uint_eq(gs_page_cache_read(pc, 0xfffffffffffffff0ull, buf, 32), 15);
	gs_page_cache_free(pc);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("page_cache");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_page_cache_cross_page_read);
	tcase_add_test(tc, test_page_cache_read_stops_at_end_of_memory);
	tcase_add_test(tc, test_page_cache_negative_results_are_cached);
	tcase_add_test(tc, test_page_cache_partial_page_with_hole);
	tcase_add_test(tc, test_page_cache_without_next_treats_rest_of_page_as_hole);
	tcase_add_test(tc, test_page_cache_evicts_least_recently_used);
	tcase_add_test(tc, test_page_cache_stays_correct_under_pressure);
	tcase_add_test(tc, test_page_cache_top_of_address_space);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
