/* Live sampling's progressing chain steps as why-blocked renders them (report/why_blocked.c),
 * from a hand-built diagnosis: a stuck goroutine's chain reaches one that moved between
 * samples. JSON says "progressing": true on that step only, the text says "(progressing)"
 * where the step is named (its own header, the chain line, its group); without the mark
 * (every command but sampling) nothing says it. */
#include <stdlib.h>
#include <string.h>

#include "gs_check.h"
#include "mock_model.h"
#include "../../analyzer/src/report/why_blocked.h"

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* 1 (stuck) blames 2, reached through its chain; 2 progressing or not. */
static void build(mock *m, gs_diagnosis *d, bool progressing)
{
	gs_goroutine *a = mock_g(m, 1, GS_G_WAITING, "select");
	mock_stack(m, a, "runtime.gopark", "runtime.selectgo", "main.send", NULL);
	gs_goroutine *b = mock_g(m, 2, GS_G_WAITING, "sleep");
	mock_stack(m, b, "runtime.gopark", "time.Sleep", "main.slowReader", NULL);
	memset(d, 0, sizeof *d);
	d->v = calloc(2, sizeof *d->v);
	ck_assert_ptr_nonnull(d->v);
	d->n = 2;
	d->v[0] = (gs_verdict){.goid = 1, .code = "send-flow-control", .stream = -1};
	d->v[0].summary = strdup("waits to send: the peer does not read");
	d->v[0].chain = malloc(sizeof *d->v[0].chain);
	d->v[0].chain[0] = 2;
	d->v[0].nchain = 1;
	d->v[1] = (gs_verdict){.goid = 2, .code = "app-not-reading", .stream = -1, .reached = true,
			       .progressing = progressing};
	d->v[1].summary = strdup("holds received bytes that no goroutine reads");
}

static char *render(mock *m, const gs_diagnosis *d, enum gs_format fmt)
{
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_report_why_blocked(mock_rt(m), mock_grpc(m), d, fmt, &sb);
	gs_strbuf_putc(&sb, '\0');
	return sb.buf;
}

START_TEST(progressing_step_is_said_everywhere)
{
	mock *m = mock_new();
	gs_diagnosis d;
	build(m, &d, true);
	char *j = render(m, &d, GS_FMT_JSON);
	ck_assert_uint_eq(count(j, "\"progressing\":true"), 1);
	const char *two = strstr(j, "{\"goroutine\":2,");
	ck_assert_ptr_nonnull(two);
	ck_assert_ptr_nonnull(strstr(two, "\"reached\":true,\"progressing\":true"));
	char *all = render(m, &d, GS_FMT_TEXT_ALL);
	ck_assert_ptr_nonnull(strstr(all, "goroutine 2: app-not-reading  (reached through a chain) (progressing)\n"));
	ck_assert_ptr_nonnull(strstr(all, "  next: goroutine 2 (app-not-reading) (progressing)\n"));
	char *grp = render(m, &d, GS_FMT_TEXT);
	ck_assert_ptr_nonnull(strstr(grp, "app-not-reading: 1 goroutine (reached through chains) (progressing)"));
	ck_assert_ptr_nonnull(strstr(grp, "  next: goroutine 2 (app-not-reading, group "));
	ck_assert_uint_eq(count(grp, ") (progressing)"), 2);
	free(j);
	free(all);
	free(grp);
	gs_diagnosis_free(&d);
	mock_free(m);
}
END_TEST

START_TEST(without_the_mark_nothing_changes)
{
	mock *m = mock_new();
	gs_diagnosis d;
	build(m, &d, false);
	enum gs_format f[] = {GS_FMT_JSON, GS_FMT_TEXT_ALL, GS_FMT_TEXT, GS_FMT_DOT};
	for (size_t i = 0; i < 4; i++) {
		char *o = render(m, &d, f[i]);
		ck_assert_ptr_null(strstr(o, "progressing"));
		free(o);
	}
	gs_diagnosis_free(&d);
	mock_free(m);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("diag_progressing");
	TCase *tc = tcase_create("progressing");
	tcase_add_test(tc, progressing_step_is_said_everywhere);
	tcase_add_test(tc, without_the_mark_nothing_changes);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
