/* pprof labels and _Gleaked over real cores of the labels scenario, patched
 * (tests/fuzz/memimage.h): a goroutine marked leaked by hand where the runtime could not
 * mark it (Go 1.19 and 1.24 have no leak detection), and label sets made implausible (absurd
 * lengths, pointers into unmapped memory) in both layouts: the map of Go 1.19 and the
 * slice of Go 1.24. Every command must finish and say the labels are unreadable, never
 * show garbage. Snapshots come from GS_FIXTURES (default fixtures/out). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gs_check.h"

#include "../fuzz/imgsession.h"
#include "../../analyzer/src/goruntime/labels.h"

#define UNMAPPED 0x00000dead0000000ull

/* The last is for test_leaked_by_hand only: a Go with _Gleaked (1.26+, constants table);
 * in an older one the status it writes is no status of that runtime. */
static const char *const snaps[] = {"go119-grpc133/labels", "go124-grpc164/labels",
				    "go127-grpc181/labels"};

static void open_fix(imgfix *f, size_t i)
{
	const char *root = getenv("GS_FIXTURES") ? getenv("GS_FIXTURES") : "fixtures/out";
	char dir[512], core[1024];
	snprintf(dir, sizeof dir, "%s/%s", root, snaps[i]);
	snprintf(core, sizeof core, "%s/core", dir);
	ck_assert_msg(access(core, R_OK) == 0, "labels: snapshot %s missing (make fixtures)", dir);
	ck_assert_int_eq(imgfix_open(f, dir), 0);
}

/* A goroutine whose label key is `key` with value `value` (pristine image). */
static gs_goroutine find_labelled(imgfix *f, const char *key, const char *value)
{
	gs_err err = {0};
	gs_session *s = imgfix_session(f, &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	gs_goroutine found = {0};
	for (size_t i = 0; i < gs_rt_ngoroutines(s->rt) && !found.addr; i++) {
		gs_goroutine *g = gs_rt_goroutine(s->rt, i);
		const char *v = gs_labels_get(gs_rt_labels(s->rt, g), key);
		if (v && strcmp(v, value) == 0)
			found = *g;
	}
	found.frames = NULL;
	found.waits = NULL;
	found.stack_error = NULL;
	imgfix_session_close(s);
	ck_assert_msg(found.addr, "no goroutine labelled %s=%s", key, value);
	return found;
}

static int64_t off(imgfix *f, enum gs_rt_field fld)
{
	gs_err err = {0};
	gs_session *s = imgfix_session(f, &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	int64_t o = gs_rt_off(s->rt, fld);
	imgfix_session_close(s);
	ck_assert_int_ge(o, 0);
	return o;
}

/* Runs cmd and returns its output (to gs_free); the command must succeed. */
static char *run_ok(imgfix *f, const char *what, const char *cmd, const char *a1, const char *a2)
{
	gs_err err = {0};
	gs_session *s = imgfix_session(f, &err);
	ck_assert_msg(s != NULL, "%s: %s", what, err.msg);
	char *out = NULL;
	int rc = imgfix_run(s, &out, cmd, a1, a2, NULL);
	imgfix_session_close(s);
	ck_assert_msg(rc == 0 && out, "%s: %s exit %d", what, cmd, rc);
	return out;
}

START_TEST(test_leaked_by_hand)
{
	imgfix f;
	open_fix(&f, 2);
	gs_goroutine g = find_labelled(&f, "job", "leaky");
	int64_t so = off(&f, RT_G_STATUS);
	uint32_t st;
	ck_assert_int_eq(mi_read_base(&f.mi, g.addr + (uint64_t)so, &st, 4), 0);
	/* Go 1.27 marks it once a leak-detecting GC ran; if none did, we do (10 = _Gleaked). */
	ck_assert_msg(st == GS_G_WAITING || st == GS_G_LEAKED, "status %u", st);
	st = GS_G_LEAKED;
	mi_write(&f.mi, g.addr + (uint64_t)so, &st, 4);
	char want[160];
	char *out = run_ok(&f, "leaked", "goroutines", NULL, NULL);
	snprintf(want, sizeof want, "goroutine %llu [chan receive (leaked)] main.leakyWaits",
		 (unsigned long long)g.goid);
	ck_assert_msg(strstr(out, want), "goroutines does not say %s:\n%s", want, out);
	gs_free(out);
	out = run_ok(&f, "leaked", "goroutines", "--json", NULL);
	snprintf(want, sizeof want, "{\"id\":%llu,\"status\":\"leaked\",\"wait_reason\":\"chan receive\"",
		 (unsigned long long)g.goid);
	ck_assert_msg(strstr(out, want), "goroutines --json lacks %s", want);
	gs_free(out);
	/* why-blocked lists it uninvited: the runtime's finding, with what it waits on */
	out = run_ok(&f, "leaked", "why-blocked", "--json", NULL);
	snprintf(want, sizeof want, "{\"goroutine\":%llu,\"verdict\":\"leaked\",", (unsigned long long)g.goid);
	char *v = strstr(out, want);
	ck_assert_msg(v, "why-blocked --json lacks %s:\n%s", want, out);
	ck_assert_msg(strstr(v, "status _Gleaked") && strstr(v, "waits: receive on chan 0x") &&
			      strstr(v, "\"labels\":{\"job\":\"leaky\"}"),
		      "leaked verdict lacks its evidence or labels: %.600s", v);
	gs_free(out);
	imgfix_close(&f);
}
END_TEST

/* Every command works and each patched set reads as unreadable, in text and JSON. */
static void expect_unreadable(imgfix *f, const char *what, uint64_t goid, const char *why)
{
	char *out = run_ok(f, what, "goroutines", NULL, NULL);
	char line[64];
	snprintf(line, sizeof line, "goroutine %llu [", (unsigned long long)goid);
	const char *l = strstr(out, line);
	ck_assert_msg(l, "%s: goroutine %llu not listed", what, (unsigned long long)goid);
	const char *eol = strchr(l, '\n');
	const char *lab = strstr(l, "  labels: unreadable (");
	ck_assert_msg(lab && lab < eol, "%s: goroutine %llu: %.*s", what, (unsigned long long)goid,
		      (int)(eol - l), l);
	ck_assert_msg(strstr(lab, why) && strstr(lab, why) < eol, "%s: reason lacks '%s': %.*s",
		      what, why, (int)(eol - lab), lab);
	gs_free(out);
	out = run_ok(f, what, "goroutines", "--json", NULL);
	ck_assert_msg(strstr(out, "\"labels\":null"), "%s: JSON labels not null", what);
	gs_free(out);
	gs_free(run_ok(f, what, "why-blocked", "--json", NULL));
	out = run_ok(f, what, "goroutines", "--group", "label:job");
	ck_assert_msg(strstr(out, "\njob unreadable: 1 goroutine\n") || !strncmp(out, "job unreadable: 1 goroutine\n", 28),
		      "%s: --group label:job does not set the unreadable apart:\n%s", what, out);
	gs_free(out);
	gs_free(run_ok(f, what, "why-blocked", "--label", "request_id"));
}

START_TEST(test_labels_implausible)
{
	imgfix f;
	open_fix(&f, (size_t)_i);
	gs_goroutine g = find_labelled(&f, "job", "leaky");
	int64_t lo = off(&f, RT_G_LABELS);
	/* g.labels into unmapped memory */
	mi_write_u64(&f.mi, g.addr + (uint64_t)lo, UNMAPPED);
	expect_unreadable(&f, "labels pointer unmapped", g.goid, "unreadable");
	mi_reset(&f.mi);
	if (_i == 0) {
		/* Go 1.19: *labelMap is a map: its hmap pointer unmapped, then a count of 2^40 */
		uint64_t m;
		ck_assert_int_eq(mi_read_base(&f.mi, g.labels, &m, 8), 0);
		mi_write_u64(&f.mi, g.labels, UNMAPPED);
		expect_unreadable(&f, "hmap unmapped", g.goid, "unreadable");
		mi_reset(&f.mi);
		mi_write_u64(&f.mi, m, 1ull << 40); /* hmap.count is its first word */
		expect_unreadable(&f, "hmap count absurd", g.goid, "entries");
	} else {
		/* Go 1.24: a slice of {key, value string}: length beyond capacity, then a key of
		 * a gigabyte, then the array unmapped */
		uint64_t hdr[3];
		ck_assert_int_eq(mi_read_base(&f.mi, g.labels, hdr, sizeof hdr), 0);
		ck_assert_uint_eq(hdr[1], 1);
		mi_write_u64(&f.mi, g.labels + 8, hdr[2] + 1000);
		expect_unreadable(&f, "slice length", g.goid, "length");
		mi_reset(&f.mi);
		mi_write_u64(&f.mi, hdr[0] + 8, 1ull << 30);
		expect_unreadable(&f, "key length", g.goid, "bytes long");
		mi_reset(&f.mi);
		mi_write_u64(&f.mi, g.labels, UNMAPPED);
		expect_unreadable(&f, "array unmapped", g.goid, "unreadable");
	}
	/* the others keep theirs */
	mi_write_u64(&f.mi, g.addr + (uint64_t)lo, UNMAPPED);
	char *out = run_ok(&f, "others", "goroutines", "--label", "request_id=req-b");
	ck_assert_msg(strstr(out, "3 goroutines shown"), "--label request_id=req-b:\n%s", out);
	gs_free(out);
	imgfix_close(&f);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("labels");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_leaked_by_hand);
	tcase_add_loop_test(tc, test_labels_implausible, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
