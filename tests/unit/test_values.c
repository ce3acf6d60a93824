/* Go values read from real cores: maps (classic, swiss, indirect keys, mid-growth),
 * interface dynamic types and context chains.
 *
 * GS_TEST_VALUECORES names the output directory of tests/unit/data/build-valuecores.sh:
 * one subdirectory per Go toolchain with valueprog, core and expected.txt (what the program
 * printed about its own values). Unset or empty is a failure, not a skip.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_check.h"

#include "../../analyzer/src/binary/dwarf_types.h"
#include "../../analyzer/src/binary/elf_file.h"
#include "../../analyzer/src/goruntime/context.h"
#include "../../analyzer/src/goruntime/iface.h"
#include "../../analyzer/src/goruntime/layout.h"
#include "../../analyzer/src/goruntime/maps.h"
#include "../../analyzer/src/target/target.h"

typedef struct snap {
	char dir[512];
	gs_target *t;
	gs_binary *b;
	gs_dwarf *d;
	gs_types *ty;
	gs_layout l; /* the runtime manifest (context chains read through it) */
	char go_version[64];
	long long small_count, big_count, bigkey_count, grow_count, dl_lo, dl_hi;
} snap;

static char **version_dirs(size_t *n)
{
	const char *root = getenv("GS_TEST_VALUECORES");
	ck_assert_msg(root && *root, "GS_TEST_VALUECORES is not set: run "
		      "tests/unit/data/build-valuecores.sh OUTDIR and point it there");
	DIR *dh = opendir(root);
	ck_assert_msg(dh, "GS_TEST_VALUECORES=%s: cannot open", root);
	char **v = calloc(64, sizeof *v);
	*n = 0;
	struct dirent *e;
	while ((e = readdir(dh)) && *n < 63) {
		if (e->d_name[0] == '.')
			continue;
		char p[1024];
		snprintf(p, sizeof p, "%s/%s/expected.txt", root, e->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		fclose(f);
		v[*n] = malloc(strlen(root) + strlen(e->d_name) + 2);
		sprintf(v[*n], "%s/%s", root, e->d_name);
		(*n)++;
	}
	closedir(dh);
	ck_assert_msg(*n > 0, "GS_TEST_VALUECORES=%s holds no <version>/expected.txt", root);
	return v;
}

static void snap_open(snap *s, const char *dir)
{
	gs_err err = { 0 };
	char p[1024];
	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	snprintf(p, sizeof p, "%s/expected.txt", dir);
	FILE *f = fopen(p, "r");
	ck_assert_msg(f, "%s: missing", p);
	char key[64], val[128];
	while (fscanf(f, "%63s %127s", key, val) == 2) {
		long long x = atoll(val);
		if (!strcmp(key, "go_version")) snprintf(s->go_version, sizeof s->go_version, "%.60s", val);
		else if (!strcmp(key, "small_count")) s->small_count = x;
		else if (!strcmp(key, "big_count")) s->big_count = x;
		else if (!strcmp(key, "bigkey_count")) s->bigkey_count = x;
		else if (!strcmp(key, "grow_count")) s->grow_count = x;
		else if (!strcmp(key, "deadline_lo")) s->dl_lo = x;
		else if (!strcmp(key, "deadline_hi")) s->dl_hi = x;
	}
	fclose(f);
	snprintf(p, sizeof p, "%s/core", dir);
	s->t = gs_core_target_open(p, &err);
	ck_assert_msg(s->t, "%s", err.msg);
	snprintf(p, sizeof p, "%s/valueprog", dir);
	s->b = gs_binary_open(p, &err);
	ck_assert_msg(s->b, "%s", err.msg);
	ck_assert_msg(!gs_binary_is_pie(s->b), "%s: expected a non-PIE build", p);
	for (size_t i = 0; i < gs_binary_nsegments(s->b); i++) {
		const gs_segment *g = gs_binary_segment(s->b, i);
		if (g->filesz)
			ck_assert_msg(gs_target_add_backing(s->t, p, g->vaddr, g->filesz, g->offset,
							    &err) == 0, "%s", err.msg);
	}
	s->d = gs_dwarf_open(s->b, &err);
	ck_assert_msg(s->d, "%s", err.msg);
	s->ty = gs_types_open(s->t, s->d, 0, NULL, &err);
	ck_assert_msg(s->ty, "%s: %s", s->go_version, err.msg);
	ck_assert_msg(gs_layout_resolve(&s->l, gs_runtime_fields, RT_NFIELDS, s->d, &err) == 0,
		      "%s: %s", s->go_version, err.msg);
}

static void snap_close(snap *s)
{
	gs_layout_free(&s->l);
	gs_types_close(s->ty);
	gs_dwarf_close(s->d);
	gs_binary_close(s->b);
	gs_target_close(s->t);
}

/* The map value of global `name`, its layout, and its count checked against want. */
static uint64_t global_map(snap *s, const char *name, gs_map_layout *l, long long want)
{
	gs_err err = { 0 };
	uint64_t addr, m, count;
	const gs_dtype *type;
	ck_assert_msg(gs_dwarf_global(s->d, name, &addr, &type, &err) == 0, "%s: %s",
		      s->go_version, err.msg);
	ck_assert_msg(gs_target_read_u64(s->t, addr, &m, &err) == 0, "%s", err.msg);
	ck_assert_msg(gs_map_layout_resolve(s->d, type, l, &err) == 0, "%s: %s", s->go_version,
		      err.msg);
	ck_assert_msg(gs_map_count(s->t, s->d, m, type, &count, &err) == 0, "%s", err.msg);
	ck_assert_msg((long long)count == want, "%s: %s count %llu, want %lld", s->go_version, name,
		      (unsigned long long)count, want);
	return m;
}

static int read_gostring(gs_target *t, uint64_t addr, char *buf, size_t cap)
{
	uint64_t h[2];
	if (gs_target_read(t, addr, h, sizeof h, NULL) < 0 || h[1] >= cap)
		return -1;
	if (h[1] && gs_target_read(t, h[0], buf, h[1], NULL) < 0)
		return -1;
	buf[h[1]] = '\0';
	return 0;
}

typedef struct collect {
	snap *s;
	int seen[1000];
	int bad;
	char why[256];
} collect;

static int visit_small(void *ctx, uint64_t k, uint64_t v)
{
	collect *c = ctx;
	static const struct { int64_t k; const char *v; } want[] = {
		{ 1, "one" }, { 2, "two" }, { 3, "three" }, { 42, "forty-two" }, { -7, "minus seven" },
	};
	int64_t key;
	char val[64];
	if (gs_target_read(c->s->t, k, &key, 8, NULL) < 0 || read_gostring(c->s->t, v, val, 64) < 0) {
		c->bad++;
		return 0;
	}
	for (size_t i = 0; i < 5; i++)
		if (want[i].k == key && !strcmp(want[i].v, val)) {
			c->seen[i]++;
			return 0;
		}
	snprintf(c->why, sizeof c->why, "unexpected %lld -> %s", (long long)key, val);
	c->bad++;
	return 0;
}

static int visit_big(void *ctx, uint64_t k, uint64_t v)
{
	collect *c = ctx;
	char key[32];
	int64_t val;
	int i;
	if (read_gostring(c->s->t, k, key, sizeof key) < 0 ||
	    gs_target_read(c->s->t, v, &val, 8, NULL) < 0 || sscanf(key, "k%d", &i) != 1 ||
	    i < 0 || i >= 1000 || val != 3 * i) {
		c->bad++;
		return 0;
	}
	c->seen[i]++;
	return 0;
}

static int visit_bigkey(void *ctx, uint64_t k, uint64_t v)
{
	collect *c = ctx;
	uint8_t key[200];
	int64_t val;
	if (gs_target_read(c->s->t, k, key, sizeof key, NULL) < 0 ||
	    gs_target_read(c->s->t, v, &val, 8, NULL) < 0 || key[0] >= 10 ||
	    key[199] != key[0] + 1 || val != key[0] * 10) {
		c->bad++;
		return 0;
	}
	c->seen[key[0]]++;
	return 0;
}

static int visit_grow(void *ctx, uint64_t k, uint64_t v)
{
	collect *c = ctx;
	int64_t key, val;
	if (gs_target_read(c->s->t, k, &key, 8, NULL) < 0 ||
	    gs_target_read(c->s->t, v, &val, 8, NULL) < 0 || key % 7 || key / 7 >= 209 ||
	    val != key / 7 + 1000) {
		c->bad++;
		return 0;
	}
	c->seen[key / 7]++;
	return 0;
}

static void check_all_once(snap *s, const char *name, collect *c, int n, int64_t visited)
{
	ck_assert_msg(c->bad == 0, "%s: %s: %d bad entries %s", s->go_version, name, c->bad, c->why);
	ck_assert_msg(visited == n, "%s: %s: visited %lld, want %d", s->go_version, name,
		      (long long)visited, n);
	for (int i = 0; i < n; i++)
		ck_assert_msg(c->seen[i] == 1, "%s: %s: entry %d seen %d times", s->go_version,
			      name, i, c->seen[i]);
}

static void check_maps(snap *s)
{
	gs_err err = { 0 };
	gs_map_layout l;
	collect *c = calloc(1, sizeof *c);
	c->s = s;
	uint64_t m = global_map(s, "main.smallMap", &l, s->small_count);
	int64_t n = gs_map_walk(s->t, &l, m, visit_small, c, &err);
	ck_assert_msg(n >= 0, "%s: %s", s->go_version, err.msg);
	check_all_once(s, "smallMap", c, 5, n);
	if (l.kind == GS_MAP_SWISS)
		ck_assert_msg(l.group_from_dwarf, "%s: swiss group layout not in DWARF", s->go_version);

	memset(c, 0, sizeof *c);
	c->s = s;
	m = global_map(s, "main.bigMap", &l, s->big_count);
	n = gs_map_walk(s->t, &l, m, visit_big, c, &err);
	ck_assert_msg(n >= 0, "%s: %s", s->go_version, err.msg);
	check_all_once(s, "bigMap", c, 1000, n);

	memset(c, 0, sizeof *c);
	c->s = s;
	m = global_map(s, "main.bigKeyMap", &l, s->bigkey_count);
	ck_assert_msg(l.indirect_key && !l.indirect_val, "%s: bigKeyMap keys should be indirect",
		      s->go_version);
	n = gs_map_walk(s->t, &l, m, visit_bigkey, c, &err);
	ck_assert_msg(n >= 0, "%s: %s", s->go_version, err.msg);
	check_all_once(s, "bigKeyMap", c, 10, n);

	memset(c, 0, sizeof *c);
	c->s = s;
	m = global_map(s, "main.growMap", &l, s->grow_count);
	if (l.kind == GS_MAP_CLASSIC) { /* the program arranges a growth in progress */
		uint64_t old = 0;
		ck_assert(gs_target_read_u64(s->t, m + l.h_oldbuckets, &old, NULL) == 0);
		ck_assert_msg(old != 0, "%s: growMap is not growing", s->go_version);
	}
	n = gs_map_walk(s->t, &l, m, visit_grow, c, &err);
	ck_assert_msg(n >= 0, "%s: %s", s->go_version, err.msg);
	check_all_once(s, "growMap", c, 209, n);
	free(c);
}

static void check_ifaces(snap *s)
{
	gs_err err = { 0 };
	uint64_t a, want, elem;
	gs_iface v;
	char name[128];
	ck_assert(gs_dwarf_global(s->d, "main.anyVal", &a, NULL, &err) == 0);
	ck_assert_msg(gs_iface_read(s->ty, a, true, &v, &err) == 0, "%s", err.msg);
	ck_assert_msg(gs_type_name(s->ty, v.type, name, sizeof name, &err) == 0, "%s", err.msg);
	ck_assert_msg(!strcmp(name, "*main.T"), "%s: anyVal type %s", s->go_version, name);
	ck_assert_msg(gs_type_addr_for_name(s->ty, "*main.T", &want, &err) == 0, "%s: %s",
		      s->go_version, err.msg);
	ck_assert_msg(want == v.type, "%s: *main.T at 0x%llx, anyVal's type 0x%llx", s->go_version,
		      (unsigned long long)want, (unsigned long long)v.type);
	ck_assert(gs_type_is(s->ty, v.type, "*main.T"));
	ck_assert(!gs_type_is(s->ty, v.type, "*main.Other"));
	ck_assert_msg(gs_type_addr_for_name(s->ty, "main.T", &elem, &err) == 0, "%s: %s",
		      s->go_version, err.msg);
	ck_assert_msg(gs_type_name(s->ty, elem, name, sizeof name, &err) == 0, "%s", err.msg);
	ck_assert_msg(!strcmp(name, "main.T"), "%s: main.T named %s", s->go_version, name);
	ck_assert(gs_type_addr_for_name(s->ty, "*main.NoSuchType", &elem, &err) < 0);
	ck_assert_int_eq(err.code, GS_ENOTFOUND);
	int64_t field;
	ck_assert(gs_target_read(s->t, v.data, &field, 8, NULL) == 0);
	ck_assert_int_eq(field, 7);

	ck_assert(gs_dwarf_global(s->d, "main.namerVal", &a, NULL, &err) == 0);
	ck_assert_msg(gs_iface_read(s->ty, a, false, &v, &err) == 0, "%s", err.msg);
	ck_assert(v.tab != 0);
	ck_assert_msg(v.type == want, "%s: namerVal type 0x%llx", s->go_version,
		      (unsigned long long)v.type);
	ck_assert(gs_target_read(s->t, v.data, &field, 8, NULL) == 0);
	ck_assert_int_eq(field, 8);
}

static void read_ctx(snap *s, const char *global, gs_ctx_info *ci)
{
	gs_err err = { 0 };
	uint64_t a;
	ck_assert(gs_dwarf_global(s->d, global, &a, NULL, &err) == 0);
	ck_assert_msg(gs_ctx_read(s->t, s->d, &s->l, s->ty, 0, a, ci, &err) == 0, "%s: %s: %s",
		      s->go_version, global, err.msg);
	ck_assert_msg(!ci->truncated, "%s: %s truncated: %s", s->go_version, global, ci->problem);
}

static void check_contexts(snap *s)
{
	gs_ctx_info *ci = calloc(1, sizeof *ci); /* the walker's cache starts empty */
	read_ctx(s, "main.ctxChain", ci);
	ck_assert_msg(ci->depth == 4, "%s: chain depth %zu", s->go_version, ci->depth);
	static const enum gs_ctx_kind want[] = { GS_CTX_VALUE, GS_CTX_TIMER, GS_CTX_CANCEL,
						 GS_CTX_BACKGROUND };
	for (size_t i = 0; i < 4; i++)
		ck_assert_msg(ci->layers[i].kind == want[i], "%s: layer %zu is %s (%s)",
			      s->go_version, i, gs_ctx_kind_name(ci->layers[i].kind),
			      ci->layers[i].type_name);
	ck_assert_str_eq(ci->layers[0].type_name, "*context.valueCtx");
	ck_assert_str_eq(ci->layers[1].type_name, "*context.timerCtx");
	ck_assert_msg(!ci->done, "%s: chain done: %s", s->go_version, ci->err);
	ck_assert(ci->has_deadline);
	ck_assert_msg(ci->deadline_unix_ns >= s->dl_lo && ci->deadline_unix_ns <= s->dl_hi,
		      "%s: deadline %lld outside [%lld, %lld]", s->go_version,
		      (long long)ci->deadline_unix_ns, s->dl_lo, s->dl_hi);

	read_ctx(s, "main.ctxCancelled", ci);
	ck_assert_int_eq(ci->depth, 2);
	ck_assert(ci->layers[0].kind == GS_CTX_CANCEL);
	ck_assert_msg(ci->done, "%s: cancelled context not done", s->go_version);
	ck_assert_str_eq(ci->err, "context canceled");
	ck_assert(!ci->has_deadline);

	read_ctx(s, "main.ctxExpired", ci);
	ck_assert(ci->layers[0].kind == GS_CTX_TIMER);
	ck_assert(ci->done);
	ck_assert_str_eq(ci->err, "context deadline exceeded");
	ck_assert(ci->has_deadline);
	free(ci);
}

START_TEST(test_values_real_cores)
{
	size_t n;
	char **dirs = version_dirs(&n);
	for (size_t i = 0; i < n; i++) {
		snap s;
		snap_open(&s, dirs[i]);
		check_maps(&s);
		check_ifaces(&s);
		check_contexts(&s);
		snap_close(&s);
		free(dirs[i]);
	}
	free(dirs);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("values");
	TCase *tc = tcase_create("real");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_values_real_cores);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
