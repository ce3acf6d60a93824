/* The small utilities the models lean on: interned strings and batch claiming. */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "gs_check.h"
#include "../../analyzer/src/util/batch.h"
#include "../../analyzer/src/util/chunks.h"
#include "../../analyzer/src/util/phases.h"
#include "../../analyzer/src/util/radix.h"
#include "../../analyzer/src/util/runs.h"
#include "../../analyzer/src/util/strbuf.h"
#include "../../analyzer/src/util/strpool.h"

START_TEST(test_strpool_one_copy_per_string)
{
	gs_strpool p = {0};
	char a[32] = "/svc.Echo/Stream", b[32];
	strcpy(b, a);
	const char *x = gs_strpool_intern(&p, a), *y = gs_strpool_intern(&p, b);
	ck_assert_ptr_eq(x, y); /* equal strings: one copy */
	ck_assert_ptr_ne(x, a); /* a copy, not the caller's buffer */
	a[1] = 'X';
	ck_assert_str_eq(x, "/svc.Echo/Stream");
	ck_assert_ptr_ne(gs_strpool_intern(&p, "context canceled"), x);
	ck_assert_str_eq(gs_strpool_intern(&p, NULL), "");
	ck_assert_str_eq(gs_strpool_intern(&p, ""), "");
	ck_assert_uint_eq(p.n, 2);
	gs_strpool_free(&p);
}
END_TEST

START_TEST(test_strpool_survives_growth)
{
	gs_strpool p = {0};
	const char *first = gs_strpool_intern(&p, "method-0");
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof name, "method-%d", i);
		ck_assert_str_eq(gs_strpool_intern(&p, name), name);
	}
	ck_assert_uint_eq(p.n, 5000);
	ck_assert_ptr_eq(gs_strpool_intern(&p, "method-0"), first); /* rehashing keeps copies */
	gs_strpool_free(&p);
}
END_TEST

/* Two threads claiming batches of 10,007 items: every item exactly once. */
#define ITEMS 10007

typedef struct claim_run {
	atomic_size_t next;
	atomic_int seen[ITEMS];
} claim_run;

static void *claimer(void *arg)
{
	claim_run *r = arg;
	size_t b, e;
	while (gs_batch_claim(&r->next, ITEMS, 64, &b, &e))
		for (size_t i = b; i < e; i++)
			atomic_fetch_add(&r->seen[i], 1);
	return NULL;
}

typedef struct rec {
	uint32_t tag; /* input position: equal keys must keep their order */
	uint64_t key;
} rec;

static int cmp_rec(const void *a, const void *b)
{
	const rec *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->tag < y->tag ? -1 : x->tag > y->tag;
}

START_TEST(test_radix_sort_matches_a_stable_sort)
{
	enum { N = 5000 };
	static rec v[N], want[N], tmp[N];
	uint64_t x = 88172645463325252ull;
	/* Keys of every shape: full 64-bit, heap-like (high bytes equal), few distinct (many
	 * ties), and all equal. */
	for (int shape = 0; shape < 4; shape++) {
		for (uint32_t i = 0; i < N; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			uint64_t k = shape == 0 ? x : shape == 1 ? 0xc000000000ull + (x & 0xffffff8)
				   : shape == 2 ? x % 7 : 42;
			v[i] = want[i] = (rec){i, k};
		}
		qsort(want, N, sizeof *want, cmp_rec);
		gs_radix_sort(v, N, sizeof *v, offsetof(rec, key), tmp);
		for (int i = 0; i < N; i++) {
			ck_assert_uint_eq(v[i].key, want[i].key);
			ck_assert_uint_eq(v[i].tag, want[i].tag);
		}
	}
	gs_radix_sort(v, 0, sizeof *v, offsetof(rec, key), tmp); /* nothing to do */
	gs_radix_sort(v, 1, sizeof *v, offsetof(rec, key), tmp);
	ck_assert_uint_eq(v[0].key, 42);
}
END_TEST

START_TEST(test_strbuf_numbers_print_like_printf)
{
	const unsigned long long u[] = {0, 1, 9, 10, 12345, 0x23d4d1f9b500ull, ~0ull};
	const long long s[] = {0, -1, 7, -120, (long long)(~0ull >> 1), -(long long)(~0ull >> 1) - 1};
	for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
		gs_strbuf a, b;
		gs_strbuf_init(&a);
		gs_strbuf_init(&b);
		gs_strbuf_put_u64(&a, u[i]);
		gs_strbuf_putc(&a, ' ');
		gs_strbuf_put_hex(&a, u[i]);
		gs_strbuf_printf(&b, "%llu 0x%llx", u[i], u[i]);
		ck_assert_str_eq(a.buf, b.buf);
		gs_strbuf_free(&a);
		gs_strbuf_free(&b);
	}
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		gs_strbuf a, b;
		gs_strbuf_init(&a);
		gs_strbuf_init(&b);
		gs_strbuf_put_i64(&a, s[i]);
		gs_strbuf_printf(&b, "%lld", s[i]);
		ck_assert_str_eq(a.buf, b.buf);
		gs_strbuf_free(&a);
		gs_strbuf_free(&b);
	}
}
END_TEST

/* Snapshot strings: the terminal sees no control character, JSON stays valid UTF-8. */
START_TEST(test_strings_from_a_snapshot_are_escaped)
{
	char buf[128];
	const char *plain = "/usr/bin/ok \xc3\xa9t\xc3\xa9";
	ck_assert_ptr_eq(gs_text_safe(plain, buf, sizeof buf, false), plain);
	ck_assert_str_eq(gs_text_safe("a\x1b[31mb\nc\x7f", buf, sizeof buf, false),
			 "a\\x1b[31mb\\nc\\x7f");
	ck_assert_str_eq(gs_text_safe("x\xff\xc3y\xc2\x9bz", buf, sizeof buf, false),
			 "x\\xff\\xc3y\\u009bz");
	ck_assert_str_eq(gs_text_safe("say \"hi\"\\", buf, sizeof buf, true), "say \\\"hi\\\"\\\\");
	ck_assert_str_eq(gs_text_safe("\x1b\x1b\x1b\x1b", buf, 9, false), "\\x1b\\x1b");
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_strbuf_json_str(&sb, "a\x1b\xff\xc3\xa9\xed\xa0\x80\xc2\x85\"");
	ck_assert_str_eq(sb.buf, "\"a\\u001b\\ufffd\xc3\xa9\\ufffd\\ufffd\\ufffd\\u0085\\\"\"");
	gs_strbuf_free(&sb);
}
END_TEST

START_TEST(test_phases_add_up)
{
	gs_phases ph;
	gs_phases_start(&ph);
	gs_phases_mark(&ph, "a");
	gs_phases_mark(&ph, "b");
	gs_phases_mark(&ph, "a"); /* a second "a" adds to the first */
	gs_phases_mark(NULL, "ignored");
	ck_assert_uint_eq(ph.n, 2);
	ck_assert_uint_eq(ph.p[0].ns + ph.p[1].ns, ph.last - ph.start);
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_phases_format(&ph, &sb);
	ck_assert_msg(strncmp(sb.buf, "timing: a ", 10) == 0 && strstr(sb.buf, ", b ") &&
			      strstr(sb.buf, " total ") && sb.buf[sb.len - 1] == '\n',
		      "%s", sb.buf);
	gs_strbuf_free(&sb);
}
END_TEST

START_TEST(test_chunks_keep_every_allocation)
{
	gs_chunks a = {0}, b = {0};
	enum { N = 3000 };
	static unsigned char *p[N];
	static size_t len[N];
	for (size_t i = 0; i < N; i++) {
		len[i] = i % 7 == 0 ? 20000 + i : 1 + i % 97; /* some beyond a quarter chunk */
		gs_chunks *c = i % 2 ? &a : &b;
		p[i] = gs_chunks_alloc(c, len[i]);
		ck_assert_uint_eq((uintptr_t)p[i] % 8, 0);
		memset(p[i], (int)(i & 0xff), len[i]);
	}
	gs_chunks_move(&a, &b); /* b's allocations now live as long as a */
	ck_assert_ptr_null(b.head);
	gs_chunks_move(&a, &b); /* moving nothing is fine */
	static unsigned char want[30000];
	for (size_t i = 0; i < N; i++) {
		memset(want, (int)(i & 0xff), len[i]);
		ck_assert_msg(memcmp(p[i], want, len[i]) == 0, "allocation %zu overwritten", i);
	}
	gs_chunks_free(&a);
	ck_assert_ptr_null(a.head);
	gs_chunks_free(&b);
}
END_TEST

START_TEST(test_runs_cut_where_neighbours_are_far)
{
	/* Objects of 0x100 bytes; a gap of at most 0x1000 after one's end; 0x2000 a run. */
	const uint64_t v[] = {0x10000, 0x10100, 0x11200, 0x12300, 0x12400, 0x20000,
			      0x20100, 0x20200, 0x20300, ~0ull - 0x80};
	size_t n = sizeof v / sizeof v[0], ends[16], k = 0;
	for (size_t a = 0, b; a < n; a = b)
		ends[k++] = b = gs_run_end(v, sizeof v[0], n, a, 0x100, 0x1000, 0x2000);
	/* 0x12300 would stretch the first run past 0x2000; 0x20000 is 0xdb00 past the end;
	 * an object that would wrap around the address space runs alone. */
	ck_assert_uint_eq(k, 4);
	ck_assert_uint_eq(ends[0], 3);
	ck_assert_uint_eq(ends[1], 5);
	ck_assert_uint_eq(ends[2], 9);
	ck_assert_uint_eq(ends[3], 10);
	const uint64_t z[] = {0, 0, 0x100};
	ck_assert_uint_eq(gs_run_end(z, sizeof z[0], 3, 0, 0x100, 0x1000, 0x2000), 1);

	uint8_t mem[0x300];
	for (size_t i = 0; i < sizeof mem; i++)
		mem[i] = (uint8_t)i;
	gs_run_copy c = {mem, 0x10000, 0x10300}, none = {0};
	uint32_t w;
	ck_assert(gs_run_read(&c, 0x10010, &w, 4));
	ck_assert_uint_eq(w, 0x13121110u);
	ck_assert(gs_run_read(&c, 0x102fc, &w, 4));  /* the last bytes */
	ck_assert(!gs_run_read(&c, 0x102fd, &w, 4)); /* one past the end */
	ck_assert(!gs_run_read(&c, 0xfffc, &w, 4));  /* before it */
	ck_assert(!gs_run_read(&none, 0x10010, &w, 4));
}
END_TEST

START_TEST(test_batch_claims_each_item_once)
{
	static claim_run r;
	atomic_init(&r.next, 0);
	for (size_t i = 0; i < ITEMS; i++)
		atomic_init(&r.seen[i], 0);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, claimer, &r), 0);
	claimer(&r);
	pthread_join(t, NULL);
	for (size_t i = 0; i < ITEMS; i++)
		ck_assert_msg(atomic_load(&r.seen[i]) == 1, "item %zu claimed %d times", i,
			      atomic_load(&r.seen[i]));
	size_t b, e;
	ck_assert(!gs_batch_claim(&r.next, ITEMS, 64, &b, &e)); /* nothing left */
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_strpool_one_copy_per_string);
	tcase_add_test(tc, test_strpool_survives_growth);
	tcase_add_test(tc, test_batch_claims_each_item_once);
	tcase_add_test(tc, test_radix_sort_matches_a_stable_sort);
	tcase_add_test(tc, test_strbuf_numbers_print_like_printf);
	tcase_add_test(tc, test_phases_add_up);
	tcase_add_test(tc, test_strings_from_a_snapshot_are_escaped);
	tcase_add_test(tc, test_chunks_keep_every_allocation);
	tcase_add_test(tc, test_runs_cut_where_neighbours_are_far);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
