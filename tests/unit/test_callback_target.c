/* The host-debugger backend: memory through a read callback, threads pushed by the caller. */
#include <string.h>

#include "gs_check.h"
#include "../../analyzer/src/target/target.h"

typedef struct fake_dbg {
	uint64_t base;
	uint8_t mem[0x2000];
	int calls;
} fake_dbg;

static size_t dbg_read(void *ctx, uint64_t addr, void *dst, size_t n)
{
	fake_dbg *d = ctx;
	d->calls++;
	if (addr < d->base || addr - d->base >= sizeof d->mem)
		return 0;
	size_t k = sizeof d->mem - (size_t)(addr - d->base);
	k = k < n ? k : n;
	memcpy(dst, d->mem + (addr - d->base), k);
	return k;
}

START_TEST(test_callback_target_reads_through_the_cache)
{
	static fake_dbg d = { .base = 0x7000 };
	for (size_t i = 0; i < sizeof d.mem; i++)
		d.mem[i] = (uint8_t)(i * 3);
	gs_target_callbacks cb = { &d, dbg_read };
	gs_err err = { 0 };
	gs_target *t = gs_callback_target_new(&cb, &err);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(gs_target_kind(t), GS_TARGET_CALLBACKS);
	ck_assert_str_eq(gs_target_name(t), "debugger");
	/* A debugger's memory is read on its own thread only: no view for another. */
	ck_assert_ptr_null(gs_target_view(t));

	uint32_t v;
	ck_assert_int_eq(gs_target_read_u32(t, 0x7ffe, &v, &err), 0); /* crosses a page */
	ck_assert_uint_eq(v, (uint32_t)(0xffe * 3 & 0xff) | (uint32_t)(0xfff * 3 & 0xff) << 8 |
				     (uint32_t)(0x1000 * 3 & 0xff) << 16 |
				     (uint32_t)(0x1001 * 3 & 0xff) << 24);
	int calls = d.calls;
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(gs_target_read_u32(t, 0x7000 + 4 * (uint64_t)i, &v, &err), 0);
	ck_assert_int_eq(d.calls, calls);
	ck_assert_int_eq(gs_target_read_u32(t, 0x8ffe, &v, &err), -1);
	ck_assert_int_eq(err.code, GS_EMEM);
	ck_assert_str_eq(err.msg, "unreadable at 0x9000 (reading 4 bytes at 0x8ffe)");

	ck_assert_uint_eq(gs_target_nthreads(t), 0);
	gs_thread th = { .tid = 77, .regs = { .rip = 0x401000, .rsp = 0x7ff0 } };
	gs_target_add_thread(t, &th);
	th.tid = 78;
	gs_target_add_thread(t, &th);
	ck_assert_uint_eq(gs_target_nthreads(t), 2);
	ck_assert_int_eq(gs_target_thread(t, 1)->tid, 78);
	ck_assert_uint_eq(gs_target_thread(t, 0)->regs.rip, 0x401000);
	ck_assert_uint_eq(gs_target_nmappings(t), 0);
	ck_assert_ptr_null(gs_target_exe_path(t));
	uint64_t a;
	ck_assert_int_eq(gs_target_auxv(t, 9, &a), -1);
	ck_assert_uint_eq(gs_target_pause_ns(t), 0);
	ck_assert_int_eq(gs_target_install_resume_on_signal(t), 0);
	gs_target_close(t);
}
END_TEST

START_TEST(test_callback_target_needs_a_read_function)
{
	gs_target_callbacks cb = { NULL, NULL };
	gs_err err = { 0 };
	ck_assert_ptr_null(gs_callback_target_new(&cb, &err));
	ck_assert_int_eq(err.code, GS_EINPUT);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("callback_target");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_callback_target_reads_through_the_cache);
	tcase_add_test(tc, test_callback_target_needs_a_read_function);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
