/* Map walkers over synthetic memory: hand-built classic maps (overflow chains, growth in
 * progress, same-size growth, indirect keys) and swiss maps (single group, directory with
 * a table spanning several slots), and corrupt maps that must fail with a message, never
 * hang: cyclic overflow chains, absurd B, unreadable buckets. Also time.Time decoding. */
#include <stdlib.h>
#include <string.h>

#include "gs_check.h"

#include "../../analyzer/src/goruntime/context.h"
#include "../../analyzer/src/goruntime/maps.h"
#include "../../analyzer/src/target/target.h"

/* A fake address space: a few regions of zeroed bytes. */
typedef struct region {
	uint64_t base;
	size_t size;
	uint8_t *bytes;
} region;
typedef struct mem {
	region r[16];
	size_t n;
} mem;

static size_t mem_read(void *ctx, uint64_t addr, void *dst, size_t n)
{
	mem *m = ctx;
	for (size_t i = 0; i < m->n; i++) {
		region *r = &m->r[i];
		if (addr >= r->base && addr < r->base + r->size) {
			size_t avail = r->base + r->size - addr;
			size_t k = n < avail ? n : avail;
			memcpy(dst, r->bytes + (addr - r->base), k);
			return k;
		}
	}
	return 0;
}

static uint8_t *mem_add(mem *m, uint64_t base, size_t size)
{
	region *r = &m->r[m->n++];
	r->base = base;
	r->size = size;
	r->bytes = calloc(1, size);
	return r->bytes;
}

static void put64(mem *m, uint64_t addr, uint64_t v)
{
	for (size_t i = 0; i < m->n; i++) {
		region *r = &m->r[i];
		if (addr >= r->base && addr + 8 <= r->base + r->size) {
			memcpy(r->bytes + (addr - r->base), &v, 8);
			return;
		}
	}
	ck_abort_msg("put64 outside the fake memory at 0x%llx", (unsigned long long)addr);
}

static void put8(mem *m, uint64_t addr, uint8_t v)
{
	for (size_t i = 0; i < m->n; i++) {
		region *r = &m->r[i];
		if (addr >= r->base && addr < r->base + r->size) {
			r->bytes[addr - r->base] = v;
			return;
		}
	}
	ck_abort_msg("put8 outside the fake memory at 0x%llx", (unsigned long long)addr);
}

static gs_target *mem_target(mem *m)
{
	gs_err err = { 0 };
	gs_target_callbacks cb = { .ctx = m, .read = mem_read };
	gs_target *t = gs_callback_target_new(&cb, &err);
	ck_assert_msg(t, "%s", err.msg);
	return t;
}

static void mem_free(mem *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].bytes);
	m->n = 0;
}

/* Collects int64 keys and values; stop_after > 0 stops the walk. */
typedef struct seen {
	gs_target *t;
	int64_t keys[256], vals[256];
	size_t n;
	size_t stop_after;
} seen;

static int collect(void *ctx, uint64_t k, uint64_t v)
{
	seen *s = ctx;
	if (s->n < 256) {
		gs_target_read(s->t, k, &s->keys[s->n], 8, NULL);
		gs_target_read(s->t, v, &s->vals[s->n], 8, NULL);
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

static bool has(const seen *s, int64_t k, int64_t v)
{
	size_t hits = 0;
	for (size_t i = 0; i < s->n && i < 256; i++)
		if (s->keys[i] == k)
			hits += s->vals[i] == v ? 1 : 100;
	return hits == 1;
}

/* The callback target caches pages: every walk after a change to the fake memory gets a
 * fresh target. */
static int64_t walk(mem *m, const gs_map_layout *l, uint64_t addr, seen *s, gs_err *err)
{
	gs_target *t = mem_target(m);
	s->t = t;
	s->n = 0;
	int64_t n = gs_map_walk(t, l, addr, collect, s, err);
	gs_target_close(t);
	return n;
}

/* hmap{count@0 flags@8 B@9 buckets@16 oldbuckets@24 nevacuate@32},
 * bucket<int64,int64>{tophash@0 keys@8 values@72 overflow@136} (144 bytes). */
static gs_map_layout classic_layout(void)
{
	gs_map_layout l = { 0 };
	l.kind = GS_MAP_CLASSIC;
	l.key_size = l.val_size = 8;
	l.h_count = 0, l.h_flags = 8, l.h_B = 9, l.h_buckets = 16, l.h_oldbuckets = 24;
	l.h_nevacuate = 32;
	l.bucket_size = 144, l.b_tophash = 0, l.b_keys = 8, l.b_values = 72, l.b_overflow = 136;
	l.b_key_stride = l.b_val_stride = 8;
	return l;
}

#define HMAP 0x1000
#define BUCKETS 0x10000
#define OLD 0x20000
#define OVF 0x30000

static void hmap(mem *m, uint64_t count, uint8_t flags, uint8_t B, uint64_t buckets, uint64_t old)
{
	put64(m, HMAP, count);
	put8(m, HMAP + 8, flags);
	put8(m, HMAP + 9, B);
	put64(m, HMAP + 16, buckets);
	put64(m, HMAP + 24, old);
}

static void cell(mem *m, uint64_t bucket, int slot, uint8_t tophash, int64_t k, int64_t v)
{
	put8(m, bucket + slot, tophash);
	put64(m, bucket + 8 + 8 * slot, (uint64_t)k);
	put64(m, bucket + 72 + 8 * slot, (uint64_t)v);
}

START_TEST(test_classic_map_overflow_chain)
{
	mem m = { 0 };
	mem_add(&m, HMAP, 64);
	mem_add(&m, BUCKETS, 2 * 144);
	mem_add(&m, OVF, 144);
	gs_target *t = mem_target(&m);
	gs_map_layout l = classic_layout();
	hmap(&m, 12, 0, 1, BUCKETS, 0);
	for (int s = 0; s < 8; s++)
		cell(&m, BUCKETS, s, 5 + s, s, 100 + s);
	put64(&m, BUCKETS + 136, OVF);
	cell(&m, OVF, 0, 9, 8, 108);
	cell(&m, OVF, 3, 200, 9, 109);
	cell(&m, OVF, 4, 1, 77, 77); /* emptyOne: deleted */
	cell(&m, BUCKETS + 144, 2, 0xff, 10, 110);
	cell(&m, BUCKETS + 144, 7, 5, 11, 111);
	seen s = { .t = t };
	gs_err err = { 0 };
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), 12);
	for (int k = 0; k < 12; k++)
		ck_assert_msg(has(&s, k, 100 + k), "key %d", k);
	uint64_t count;
	ck_assert_int_eq(gs_map_count_layout(t, &l, HMAP, &count, &err), 0);
	ck_assert_uint_eq(count, 12);
	ck_assert_int_eq(gs_map_walk(t, &l, 0, collect, &s, &err), 0); /* nil map */
	seen stop = { .t = t, .stop_after = 3 };
	ck_assert_int_eq(gs_map_walk(t, &l, HMAP, collect, &stop, &err), 3);
	gs_target_close(t);
	mem_free(&m);
}
END_TEST

/* Doubling growth: B=2 (4 new buckets), 2 old buckets. Old bucket 0 is evacuated into new 0
 * and 2; old bucket 1 (with an overflow bucket) is not, so new 1 and 3 must be ignored. */
START_TEST(test_classic_map_growing)
{
	mem m = { 0 };
	mem_add(&m, HMAP, 64);
	mem_add(&m, BUCKETS, 4 * 144);
	mem_add(&m, OLD, 2 * 144);
	mem_add(&m, OVF, 144);
	gs_target *t = mem_target(&m);
	gs_map_layout l = classic_layout();
	hmap(&m, 6, 0, 2, BUCKETS, OLD);
	put64(&m, HMAP + 32, 1); /* nevacuate */
	cell(&m, OLD, 0, 2, 1, 101);  /* evacuatedX: stale copy */
	cell(&m, OLD, 1, 3, 2, 102);  /* evacuatedY */
	cell(&m, BUCKETS, 0, 7, 1, 101);
	cell(&m, BUCKETS + 2 * 144, 5, 8, 2, 102);
	cell(&m, OLD + 144, 0, 9, 3, 103);
	cell(&m, OLD + 144, 6, 10, 4, 104);
	put64(&m, OLD + 144 + 136, OVF);
	cell(&m, OVF, 1, 11, 5, 105);
	cell(&m, OVF, 2, 12, 6, 106);
	cell(&m, BUCKETS + 144, 0, 9, 99, 999);     /* not visible until evacuated */
	cell(&m, BUCKETS + 3 * 144, 0, 9, 98, 998);
	seen s = { .t = t };
	gs_err err = { 0 };
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), 6);
	for (int k = 1; k <= 6; k++)
		ck_assert_msg(has(&s, k, 100 + k), "key %d", k);

	/* Same-size growth: B=1, 2 old buckets; old 0 evacuated, old 1 not. */
	mem_free(&m);
	mem_add(&m, HMAP, 64);
	mem_add(&m, BUCKETS, 2 * 144);
	mem_add(&m, OLD, 2 * 144);
	hmap(&m, 3, 8, 1, BUCKETS, OLD);
	cell(&m, OLD, 0, 4, 0, 0); /* evacuatedEmpty */
	cell(&m, BUCKETS, 3, 6, 1, 101);
	cell(&m, OLD + 144, 1, 6, 2, 102);
	cell(&m, OLD + 144, 2, 6, 3, 103);
	cell(&m, BUCKETS + 144, 0, 9, 97, 997);
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), 3);
	for (int k = 1; k <= 3; k++)
		ck_assert_msg(has(&s, k, 100 + k), "same-size key %d", k);
	gs_target_close(t);
	mem_free(&m);
}
END_TEST

START_TEST(test_classic_map_indirect_key)
{
	mem m = { 0 };
	mem_add(&m, HMAP, 64);
	mem_add(&m, BUCKETS, 144);
	mem_add(&m, OVF, 4 * 200);
	gs_target *t = mem_target(&m);
	gs_map_layout l = classic_layout();
	l.key_size = 200;
	l.indirect_key = true;
	hmap(&m, 4, 0, 0, BUCKETS, 0);
	for (int s = 0; s < 4; s++) {
		put8(&m, BUCKETS + s, 5);
		put64(&m, BUCKETS + 8 + 8 * s, OVF + 200 * s); /* the slot holds *[200]byte */
		put64(&m, OVF + 200 * s, 40 + s);
		put64(&m, BUCKETS + 72 + 8 * s, 140 + s);
	}
	seen s = { .t = t };
	gs_err err = { 0 };
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), 4);
	for (int k = 0; k < 4; k++)
		ck_assert_msg(has(&s, 40 + k, 140 + k), "key %d", k);
	gs_target_close(t);
	mem_free(&m);
}
END_TEST

START_TEST(test_classic_map_corrupt)
{
	mem m = { 0 };
	mem_add(&m, HMAP, 64);
	mem_add(&m, BUCKETS, 144);
	mem_add(&m, OVF, 2 * 144);
	gs_target *t = mem_target(&m);
	gs_map_layout l = classic_layout();
	gs_err err = { 0 };
	seen s = { .t = t };

	/* A bucket whose overflow points to itself. */
	hmap(&m, 1, 0, 0, BUCKETS, 0);
	put64(&m, BUCKETS + 136, BUCKETS);
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "cycles"), "%s", err.msg);

	/* A longer cycle: B -> O1 -> O2 -> O1. */
	put64(&m, BUCKETS + 136, OVF);
	put64(&m, OVF + 136, OVF + 144);
	put64(&m, OVF + 144 + 136, OVF);
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "cycles"), "%s", err.msg);

	/* Absurd B. */
	hmap(&m, 1, 0, 200, BUCKETS, 0);
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "absurd B"), "%s", err.msg);

	/* B plausible but only one bucket readable. */
	hmap(&m, 1, 0, 4, BUCKETS, 0);
	put64(&m, BUCKETS + 136, 0);
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "bucket unreadable at 0x10090"), "%s", err.msg);
	ck_assert_int_eq(err.code, GS_EMEM);

	/* Unreadable buckets and header. */
	hmap(&m, 1, 0, 0, 0xdead0000, 0);
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "map at 0x1000: bucket unreadable at 0xdead0000"), "%s",
		      err.msg);
	ck_assert_int_eq(walk(&m, &l, 0xbad000, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "map at 0xbad000"), "%s", err.msg);

	/* Growing but the old buckets are gone. */
	hmap(&m, 1, 0, 1, BUCKETS, 0xdead0000);
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "old bucket unreadable"), "%s", err.msg);

	/* More live cells than the count allows: a chain of 10 full buckets, count 1. */
	mem_add(&m, 0x40000, 10 * 144);
	hmap(&m, 1, 0, 0, 0x40000, 0);
	for (int b = 0; b < 10; b++) {
		for (int i = 0; i < 8; i++)
			put8(&m, 0x40000 + 144 * b + i, 5);
		put64(&m, 0x40000 + 144 * b + 136, b < 9 ? 0x40000 + 144 * (b + 1) : 0);
	}
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "more entries"), "%s", err.msg);
	hmap(&m, 80, 0, 0, 0x40000, 0);
	ck_assert_int_eq(walk(&m, &l, HMAP, &s, &err), 80);
	gs_target_close(t);
	mem_free(&m);
}
END_TEST

/* maps.Map{used@0 dirPtr@16 dirLen@24}, table{used@0 index@8 groups{data@16 lengthMask@24}}
 * (32 bytes), group{ctrl@0 slots [8]{key int64; elem int64}@8} (136 bytes). */
static gs_map_layout swiss_layout(void)
{
	gs_map_layout l = { 0 };
	l.kind = GS_MAP_SWISS;
	l.key_size = l.val_size = 8;
	l.m_used = 0, l.m_dirptr = 16, l.m_dirlen = 24;
	l.t_size = 32, l.t_used = 0, l.t_index = 8, l.t_groups_data = 16, l.t_groups_mask = 24;
	l.group_size = 136, l.g_ctrl = 0, l.g_key_off = 8, l.g_key_stride = 16;
	l.g_val_off = 16, l.g_val_stride = 16;
	return l;
}

#define MAP 0x1000
#define DIR 0x2000
#define TABLES 0x3000
#define GROUPS 0x10000

static void slot(mem *m, uint64_t g, int i, uint8_t ctrl, int64_t k, int64_t v)
{
	put8(m, g + i, ctrl);
	put64(m, g + 8 + 16 * i, (uint64_t)k);
	put64(m, g + 16 + 16 * i, (uint64_t)v);
}

static void empty_group(mem *m, uint64_t g)
{
	for (int i = 0; i < 8; i++)
		put8(m, g + i, 0x80);
}

START_TEST(test_swiss_map_small)
{
	mem m = { 0 };
	mem_add(&m, MAP, 48);
	mem_add(&m, GROUPS, 136);
	gs_target *t = mem_target(&m);
	gs_map_layout l = swiss_layout();
	put64(&m, MAP, 3);
	put64(&m, MAP + 16, GROUPS);
	empty_group(&m, GROUPS);
	slot(&m, GROUPS, 0, 0x12, 1, 101);
	slot(&m, GROUPS, 3, 0x7f, 2, 102);
	slot(&m, GROUPS, 4, 0xfe, 66, 666); /* deleted */
	slot(&m, GROUPS, 7, 0x00, 3, 103);
	seen s = { .t = t };
	gs_err err = { 0 };
	ck_assert_int_eq(walk(&m, &l, MAP, &s, &err), 3);
	for (int k = 1; k <= 3; k++)
		ck_assert_msg(has(&s, k, 100 + k), "key %d", k);
	uint64_t count;
	ck_assert_int_eq(gs_map_count_layout(t, &l, MAP, &count, &err), 0);
	ck_assert_uint_eq(count, 3);
	gs_target_close(t);
	mem_free(&m);
}
END_TEST

/* dirLen 4 (globalDepth 2): table A (localDepth 1) fills slots 0 and 1, B slot 2, C slot 3.
 * Each table has 2 groups. A stale table at slot 3's old index must not count. */
START_TEST(test_swiss_map_directory)
{
	mem m = { 0 };
	mem_add(&m, MAP, 48);
	mem_add(&m, DIR, 32);
	mem_add(&m, TABLES, 4 * 32);
	mem_add(&m, GROUPS, 8 * 136);
	gs_target *t = mem_target(&m);
	gs_map_layout l = swiss_layout();
	uint64_t A = TABLES, B = TABLES + 32, C = TABLES + 64;
	put64(&m, MAP, 9);
	put64(&m, MAP + 16, DIR);
	put64(&m, MAP + 24, 4);
	put64(&m, DIR, A);
	put64(&m, DIR + 8, A);
	put64(&m, DIR + 16, B);
	put64(&m, DIR + 24, C);
	uint64_t tabs[3] = { A, B, C }, idx[3] = { 0, 2, 3 };
	for (int i = 0; i < 3; i++) {
		put64(&m, tabs[i] + 8, idx[i]);
		put64(&m, tabs[i] + 16, GROUPS + 2 * 136 * i);
		put64(&m, tabs[i] + 24, 1);
		empty_group(&m, GROUPS + 2 * 136 * i);
		empty_group(&m, GROUPS + 2 * 136 * i + 136);
	}
	int k = 1;
	for (int g = 0; g < 6; g++)
		for (int i = 0; i < (g % 2 ? 1 : 2); i++, k++)
			slot(&m, GROUPS + 136 * g, 2 * i + 1, 0x33, k, 100 + k);
	seen s = { .t = t };
	gs_err err = { 0 };
	ck_assert_int_eq(walk(&m, &l, MAP, &s, &err), 9);
	for (int j = 1; j <= 9; j++)
		ck_assert_msg(has(&s, j, 100 + j), "key %d", j);

	/* Corrupt: a table pointer that is unreadable, absurd lengthMask, absurd dirLen. */
	put64(&m, DIR + 16, 0xdead0000);
	ck_assert_int_eq(walk(&m, &l, MAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "table unreadable at 0xdead0000"), "%s", err.msg);
	put64(&m, DIR + 16, B);
	put64(&m, B + 24, 0xffffffffff);
	ck_assert_int_eq(walk(&m, &l, MAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "lengthMask"), "%s", err.msg);
	put64(&m, B + 24, 1);
	put64(&m, B + 16, 0xdead0000);
	ck_assert_int_eq(walk(&m, &l, MAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "group unreadable at 0xdead0000"), "%s", err.msg);
	put64(&m, MAP + 24, (uint64_t)1 << 40);
	ck_assert_int_eq(walk(&m, &l, MAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "absurd directory length"), "%s", err.msg);
	put64(&m, MAP + 24, 8); /* directory runs past its readable end */
	put64(&m, B + 16, GROUPS + 2 * 136);
	ck_assert_int_eq(walk(&m, &l, MAP, &s, &err), -1);
	ck_assert_msg(strstr(err.msg, "directory unreadable at 0x2020"), "%s", err.msg);
	gs_target_close(t);
	mem_free(&m);
}
END_TEST

START_TEST(test_time_decoding)
{
	/* Without monotonic reading: ext = seconds since year 1. */
	ck_assert_int_eq(gs_time_unix_ns(5, 62135596800ll + 1700000000ll),
			 1700000000ll * 1000000000ll + 5);
	/* With: 33-bit seconds since 1885 in wall. */
	uint64_t sec = 1700000000ull + 62135596800ull - 59453308800ull;
	uint64_t wall = (1ull << 63) | (sec << 30) | 123456789;
	ck_assert_int_eq(gs_time_unix_ns(wall, 999), 1700000000ll * 1000000000ll + 123456789);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("maps");
	TCase *tc = tcase_create("synthetic");
	tcase_add_test(tc, test_classic_map_overflow_chain);
	tcase_add_test(tc, test_classic_map_growing);
	tcase_add_test(tc, test_classic_map_indirect_key);
	tcase_add_test(tc, test_classic_map_corrupt);
	tcase_add_test(tc, test_swiss_map_small);
	tcase_add_test(tc, test_swiss_map_directory);
	tcase_add_test(tc, test_time_decoding);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
