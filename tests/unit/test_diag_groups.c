/* Grouping verdicts by root cause (diagnose/groups.c) and the cycles of the wait-for graph
 * (diagnose/cycles.c, rendered by report/findings.c), on hand-built programs and on
 * hand-built diagnoses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analyzer/src/diagnose/cycles.h"
#include "../../analyzer/src/diagnose/groups.h"
#include "../../analyzer/src/report/findings.h"
#include "gs_check.h"
#include "diag_check.h"

static gs_goroutine *receiver(mock *m, uint64_t goid, gs_stream *s)
{
	gs_goroutine *g = mock_g(m, goid, GS_G_WAITING, "select");
	mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_RECV,
		   s->side == GS_CLIENT ? "main.client" : "main.(*server).Bidi", NULL);
	mock_wait_recv(m, g, s);
	if (s->side == GS_SERVER)
		mock_handler(m, s, g);
	return g;
}

static void check_partition(const gs_diagnosis *dg, const gs_vgroups *gr)
{
	size_t total = 0;
	for (size_t j = 0; j < gr->n; j++) {
		total += gr->g[j].n;
		for (size_t k = 0; k < gr->g[j].n; k++) {
			size_t v = gr->g[j].members[k];
			ck_assert_uint_eq(gr->group_of[v], j);
			ck_assert_str_eq(dg->v[v].code, gr->g[j].code);
			ck_assert_int_eq(gs_vgroups_verdict(gr, dg->v[v].goid), (long)v);
		}
	}
	ck_assert_uint_eq(total, dg->n);
	ck_assert_int_eq(gs_vgroups_verdict(gr, 999999), -1);
}

/* Three clients silent on the same method from the same place: one group; a fourth on
 * another method is a group of its own. */
START_TEST(groups_identical_verdicts)
{
	mock *m = mock_new();
	gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_stream *s[4];
	for (int i = 0; i < 4; i++)
		s[i] = mock_stream(m, t, 1 + 2 * (uint32_t)i, i < 3 ? METHOD : "/svc.Echo/Other");
	for (int i = 0; i < 4; i++)
		receiver(m, 10 + (uint64_t)i, s[i]);
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_uint_eq(dg.n, 4);
	gs_vgroups gr;
	gs_group_verdicts(mock_rt(m), mock_grpc(m), &dg, &gr);
	ck_assert_uint_eq(gr.n, 2);
	ck_assert_uint_eq(gr.g[0].n, 3);
	ck_assert_str_eq(gr.g[0].method, METHOD);
	ck_assert_str_eq(gr.g[0].reason, "select");
	ck_assert_str_eq(gr.g[0].top->function, T_RECV);
	ck_assert_uint_eq(dg.v[gr.g[0].members[0]].goid, 10); /* members by goroutine id */
	ck_assert_uint_eq(gr.g[1].n, 1);
	ck_assert_str_eq(gr.g[1].method, "/svc.Echo/Other");
	ck_assert_int_eq(gr.g[0].next, -1);
	check_partition(&dg, &gr);
	gs_vgroups_free(&gr);
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Two stream openers wait on the one goroutine that holds the only stream: its group blocks
 * three goroutines and comes first although it has one member. */
START_TEST(groups_root_cause_first)
{
	mock *m = mock_new();
	gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	t->max_concurrent = 1;
	gs_stream *cs = mock_stream(m, t, 1, METHOD);
	receiver(m, 11, cs);
	for (uint64_t id = 20; id < 22; id++) {
		gs_goroutine *g = mock_g(m, id, GS_G_WAITING, "select");
		mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_NEWSTREAM, "main.call", NULL);
		mock_wait_quota(m, g, t);
	}
	gs_diagnosis dg = diagnose_all(m);
	gs_vgroups gr;
	gs_group_verdicts(mock_rt(m), mock_grpc(m), &dg, &gr);
	ck_assert_uint_eq(gr.n, 2);
	ck_assert_str_eq(gr.g[0].code, "peer-silent");
	ck_assert_uint_eq(gr.g[0].n, 1);
	ck_assert_uint_eq(gr.g[0].blocks, 3);
	ck_assert_str_eq(gr.g[1].code, "stream-quota");
	ck_assert_uint_eq(gr.g[1].n, 2);
	ck_assert_uint_eq(gr.g[1].blocks, 2);
	ck_assert_int_eq(gr.g[1].next, 0);
	check_partition(&dg, &gr);
	gs_vgroups_free(&gr);
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* The grouped text's diagnosis: the same codes, streams, chains and groups as the full one;
 * each group's first member with its summary and evidence as the full one has them, the
 * other members without words. */
START_TEST(groups_brief_verdicts)
{
	mock *m = mock_new();
	gs_transport *t = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	t->max_concurrent = 1;
	gs_stream *cs = mock_stream(m, t, 1, METHOD);
	receiver(m, 11, cs);
	for (uint64_t id = 20; id < 23; id++) {
		gs_goroutine *g = mock_g(m, id, GS_G_WAITING, "select");
		mock_stack(m, g, "runtime.gopark", "runtime.selectgo", T_NEWSTREAM, "main.call", NULL);
		mock_wait_quota(m, g, t);
	}
	gs_diagnosis full = diagnose_all(m), brief;
	gs_rt *rt = mock_rt(m);
	gs_grpc *g = mock_grpc(m);
	gs_err e = {0};
	ck_assert_int_eq(gs_diagnose_set_grouped(&rt, &g, 1, NULL, 0, &brief, &e), 0);
	ck_assert_ptr_nonnull(brief.groups);
	gs_vgroups gr;
	gs_group_verdicts(rt, g, &full, &gr);
	ck_assert_uint_eq(brief.n, full.n);
	ck_assert_uint_eq(brief.groups->n, gr.n);
	for (size_t j = 0; j < gr.n; j++) {
		ck_assert_uint_eq(brief.groups->g[j].n, gr.g[j].n);
		ck_assert_uint_eq(brief.groups->g[j].blocks, gr.g[j].blocks);
		ck_assert_int_eq(brief.groups->g[j].next, gr.g[j].next);
	}
	for (size_t i = 0; i < full.n; i++) {
		const gs_verdict *a = &full.v[i], *b = &brief.v[i];
		ck_assert_uint_eq(a->goid, b->goid);
		ck_assert_str_eq(a->code, b->code);
		ck_assert_int_eq(a->stream, b->stream);
		ck_assert_uint_eq(a->nchain, b->nchain);
		for (size_t k = 0; k < a->nchain; k++)
			ck_assert_uint_eq(a->chain[k], b->chain[k]);
		bool speaks = brief.groups->g[brief.groups->group_of[i]].members[0] == i;
		ck_assert_uint_eq(b->nevidence, speaks ? a->nevidence : 0);
		ck_assert_str_eq(b->summary, speaks ? a->summary : "");
		for (size_t k = 0; speaks && k < a->nevidence; k++)
			ck_assert_str_eq(a->evidence[k], b->evidence[k]);
	}
	gs_vgroups_free(&gr);
	gs_diagnosis_free(&full);
	gs_diagnosis_free(&brief);
	mock_free(m);
}
END_TEST

/* A client and its in-process handler each wait for the other: one cycle, found once,
 * starting at the client; text and JSON name it. */
START_TEST(cycles_mutual_wait)
{
	mock *m = mock_new();
	gs_transport *ct = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_stream *cs = mock_stream(m, ct, 1, METHOD);
	gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
	gs_stream *ss = mock_stream(m, st, 1, METHOD);
	receiver(m, 20, ss);
	receiver(m, 30, cs);
	gs_diagnosis dg = diagnose_all(m);
	gs_cycles cy;
	gs_find_cycles(mock_grpc(m), &dg, &cy);
	ck_assert_uint_eq(cy.n, 1);
	ck_assert_uint_eq(cy.c[0].n, 2);
	ck_assert_uint_eq(cy.c[0].nothers, 0);
	size_t a = cy.c[0].members[0], b = cy.c[0].members[1];
	ck_assert_uint_eq(dg.v[a].goid, 30); /* the client side first, whatever the ids */
	ck_assert_uint_eq(dg.v[b].goid, 20);
	ck_assert(gs_cycles_edge(&cy, a, b) && gs_cycles_edge(&cy, b, a));
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_report_cycles_text(mock_grpc(m), &dg, &cy, true, &sb);
	gs_strbuf_putc(&sb, '\0');
	ck_assert_msg(strstr(sb.buf, "1 cycle in the wait-for graph: each goroutine waits on the next"), "%s", sb.buf);
	ck_assert_msg(strstr(sb.buf, "cycle 1: goroutines 30 -> 20 -> 30 wait on each other\n"
				     "    - goroutine 30 (peer-silent) on client stream 1 /svc.Echo/Bidi (0x"),
		      "%s", sb.buf);
	sb.len = 0;
	gs_report_cycles_json(mock_grpc(m), &dg, &cy, true, &sb);
	gs_strbuf_putc(&sb, '\0');
	ck_assert_msg(strncmp(sb.buf, ",{\"finding\":\"cycle\",\"summary\":\"goroutines 30 -> 20 -> 30 wait on "
				      "each other: each goroutine waits on the next;", 87) == 0, "%s", sb.buf);
	ck_assert_msg(strstr(sb.buf, "\"stream\":null,\"evidence\":[\"goroutine 30 (peer-silent) on client stream 1 "
				     "/svc.Echo/Bidi (0x"), "%s", sb.buf);
	ck_assert_msg(strstr(sb.buf, "\"goroutines\":[30,20],\"steps\":[{\"goroutine\":30,"
				     "\"verdict\":\"peer-silent\",\"stream\":{"), "%s", sb.buf);
	ck_assert_msg(strstr(sb.buf, "\"methods\":[\"/svc.Echo/Bidi\"],\"others\":[]}"), "%s", sb.buf);
	gs_strbuf_free(&sb);
	gs_cycles_free(&cy);
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

/* Diagnoses written out by hand: verdict i has goroutine id goid[i], code code[i] and the
 * chain given as a list ending in 0. */
typedef struct hand {
	gs_diagnosis dg;
	gs_verdict v[8];
	uint64_t chains[8][4];
	bool co[8][4];
} hand;

static void hand_verdict(hand *h, uint64_t goid, const char *code, const uint64_t *chain,
			 const bool *co)
{
	gs_verdict *v = &h->v[h->dg.n];
	memset(v, 0, sizeof *v);
	v->goid = goid;
	v->code = code;
	v->summary = (char *)""; /* not the diagnosis' to free */
	v->summary_pooled = true;
	v->stream = -1;
	size_t n = 0;
	for (; chain[n]; n++) {
		h->chains[h->dg.n][n] = chain[n];
		h->co[h->dg.n][n] = co && co[n];
	}
	v->chain = h->chains[h->dg.n];
	v->nchain = n;
	v->co = co ? h->co[h->dg.n] : NULL;
	h->dg.n++;
	h->dg.v = h->v;
}

/* 1 -> 2 -> 3 -> 1 with 4 <-> 2 hanging on: one component of four, one cycle of three
 * starting at the least verdict (handler-blocked), 4 named as also caught; 5 blames a
 * goroutine without a verdict and is on no cycle. */
START_TEST(cycles_component_with_extra_member)
{
	hand h = {0};
	hand_verdict(&h, 1, "peer-silent", (uint64_t[]){2, 0}, NULL);
	hand_verdict(&h, 2, "handler-blocked", (uint64_t[]){3, 4, 0}, NULL);
	hand_verdict(&h, 3, "peer-silent", (uint64_t[]){1, 0}, NULL);
	hand_verdict(&h, 4, "peer-silent", (uint64_t[]){2, 0}, NULL);
	hand_verdict(&h, 5, "peer-silent", (uint64_t[]){99, 0}, NULL);
	gs_cycles cy;
	gs_find_cycles(NULL, &h.dg, &cy);
	ck_assert_uint_eq(cy.n, 1);
	ck_assert_uint_eq(cy.c[0].n, 3);
	ck_assert_uint_eq(h.v[cy.c[0].members[0]].goid, 2);
	ck_assert_uint_eq(h.v[cy.c[0].members[1]].goid, 3);
	ck_assert_uint_eq(h.v[cy.c[0].members[2]].goid, 1);
	ck_assert_uint_eq(cy.c[0].nothers, 1);
	ck_assert_uint_eq(h.v[cy.c[0].others[0]].goid, 4);
	ck_assert(!gs_cycles_edge(&cy, 4, 0)); /* 5 -> 1: different components */
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_report_cycles_text(NULL, &h.dg, &cy, true, &sb);
	gs_strbuf_putc(&sb, '\0');
	ck_assert_msg(strstr(sb.buf, "cycle 1: goroutines 2 -> 3 -> 1 -> 2 wait on each other\n"
				     "    - goroutine 2 (handler-blocked)\n"
				     "    - goroutine 3 (peer-silent)\n"
				     "    - goroutine 1 (peer-silent)\n"
				     "    - also caught in it: goroutine 4\n"), "%s", sb.buf);
	gs_strbuf_free(&sb);
	gs_cycles_free(&cy);
}
END_TEST

/* A chain that ends, and two goroutines that only name each other as parked on the same
 * channel: no cycle, and no text at all. */
START_TEST(cycles_none)
{
	hand h = {0};
	hand_verdict(&h, 1, "peer-silent", (uint64_t[]){2, 0}, NULL);
	hand_verdict(&h, 2, "handler-blocked", (uint64_t[]){3, 0}, NULL);
	hand_verdict(&h, 3, "handler-blocked", (uint64_t[]){0}, NULL);
	hand_verdict(&h, 4, "handler-blocked", (uint64_t[]){5, 0}, (bool[]){true});
	hand_verdict(&h, 5, "handler-blocked", (uint64_t[]){4, 0}, (bool[]){true});
	gs_cycles cy;
	gs_find_cycles(NULL, &h.dg, &cy);
	ck_assert_uint_eq(cy.n, 0);
	ck_assert(!gs_cycles_edge(&cy, 3, 4));
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_report_cycles_text(NULL, &h.dg, &cy, false, &sb);
	gs_report_cycles_json(NULL, &h.dg, &cy, true, &sb);
	ck_assert_uint_eq(sb.len, 0);
	gs_strbuf_free(&sb);
	gs_cycles_free(&cy);
	/* The same two with the links as real waits are a cycle. */
	h.v[3].co = h.v[4].co = NULL;
	gs_find_cycles(NULL, &h.dg, &cy);
	ck_assert_uint_eq(cy.n, 1);
	gs_cycles_free(&cy);
}
END_TEST

/* Cycles of one shape fold into one entry of the grouped text, with their count. */
START_TEST(cycles_grouped_text)
{
	hand h = {0};
	hand_verdict(&h, 1, "peer-silent", (uint64_t[]){2, 0}, NULL);
	hand_verdict(&h, 2, "peer-silent", (uint64_t[]){1, 0}, NULL);
	hand_verdict(&h, 3, "peer-silent", (uint64_t[]){4, 0}, NULL);
	hand_verdict(&h, 4, "peer-silent", (uint64_t[]){3, 0}, NULL);
	hand_verdict(&h, 5, "send-flow-control", (uint64_t[]){6, 0}, NULL);
	hand_verdict(&h, 6, "app-not-reading", (uint64_t[]){5, 0}, NULL);
	gs_cycles cy;
	gs_find_cycles(NULL, &h.dg, &cy);
	ck_assert_uint_eq(cy.n, 3);
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_report_cycles_text(NULL, &h.dg, &cy, false, &sb);
	gs_strbuf_putc(&sb, '\0');
	ck_assert_msg(strstr(sb.buf, "3 cycles in the wait-for graph"), "%s", sb.buf);
	ck_assert_msg(strstr(sb.buf, "cycle 1: 2 alike, peer-silent -> peer-silent\n"
				     "  goroutines 1 -> 2, 3 -> 4\n"
				     "  the first: goroutines 1 -> 2 -> 1 wait on each other\n"), "%s", sb.buf);
	ck_assert_msg(strstr(sb.buf, "cycle 2: goroutines 6 -> 5 -> 6 wait on each other\n"), "%s", sb.buf);
	gs_strbuf_free(&sb);
	gs_cycles_free(&cy);
}
END_TEST

/* Built through the rules, not by hand: three goroutines, each the handler of one server
 * stream and the client of the next (1 -> 3 -> 5 -> 1 across one in-process connection),
 * form one cycle of three; two handlers parked on the same mutex name each other as
 * co-waiters only, and make no cycle. */
START_TEST(cycles_from_rules_three_and_co_waiters)
{
	mock *m = mock_new();
	gs_transport *ct = mock_transport(m, GS_CLIENT, "127.0.0.1:40000", "127.0.0.1:50051");
	gs_stream *cs[3] = {mock_stream(m, ct, 1, METHOD), mock_stream(m, ct, 3, METHOD),
			    mock_stream(m, ct, 5, METHOD)};
	gs_transport *st = mock_transport(m, GS_SERVER, "127.0.0.1:50051", "127.0.0.1:40000");
	gs_stream *ss[3] = {mock_stream(m, st, 1, METHOD), mock_stream(m, st, 3, METHOD),
			    mock_stream(m, st, 5, METHOD)};
	gs_stream *s7 = mock_stream(m, st, 7, "/svc.Echo/Lock"), *s9 = mock_stream(m, st, 9, "/svc.Echo/Lock");
	const uint64_t ids[3] = {30, 20, 21}; /* ids[i] handles ss[i] and receives on cs[(i + 1) % 3] */
	for (int i = 0; i < 3; i++) {
		gs_goroutine *g = receiver(m, ids[i], cs[(i + 1) % 3]);
		mock_handler(m, ss[i], g);
	}
	gs_stream *locked[2] = {s7, s9};
	for (int i = 0; i < 2; i++) {
		gs_goroutine *h = mock_g(m, 40 + (uint64_t)i, GS_G_WAITING, "sync.Mutex.Lock");
		mock_stack(m, h, "runtime.gopark", "sync.(*Mutex).Lock", "main.(*server).Lock", NULL);
		mock_wait(m, h, GS_WAIT_SEMA, 0xc0dd00);
		mock_handler(m, locked[i], h);
	}
	gs_diagnosis dg = diagnose_all(m);
	ck_assert_uint_eq(dg.n, 5);
	for (int i = 0; i < 3; i++) {
		const gs_verdict *v = mock_verdict(&dg, ids[i]);
		ck_assert_ptr_nonnull(v);
		ck_assert_msg(mock_blames(v, ids[(i + 1) % 3]), "%llu does not blame %llu: %s",
			      (unsigned long long)ids[i], (unsigned long long)ids[(i + 1) % 3], v->summary);
	}
	const gs_verdict *l40 = mock_verdict(&dg, 40), *l41 = mock_verdict(&dg, 41);
	ck_assert(l40 && l41 && mock_blames(l40, 41) && mock_blames(l41, 40));
	ck_assert_ptr_nonnull(l40->co);
	gs_cycles cy;
	gs_find_cycles(mock_grpc(m), &dg, &cy);
	ck_assert_uint_eq(cy.n, 1);
	ck_assert_uint_eq(cy.c[0].n, 3);
	ck_assert_uint_eq(cy.c[0].nothers, 0);
	for (size_t k = 0; k < 3; k++) {
		uint64_t goid = dg.v[cy.c[0].members[k]].goid;
		ck_assert(goid == 20 || goid == 21 || goid == 30);
		/* each member waits on the next */
		ck_assert(mock_blames(&dg.v[cy.c[0].members[k]], dg.v[cy.c[0].members[(k + 1) % 3]].goid));
	}
	gs_cycles_free(&cy);
	gs_diagnosis_free(&dg);
	mock_free(m);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("diag_groups");
	TCase *tc = tcase_create("groups");
	tcase_add_test(tc, groups_identical_verdicts);
	tcase_add_test(tc, groups_root_cause_first);
	tcase_add_test(tc, groups_brief_verdicts);
	tcase_add_test(tc, cycles_mutual_wait);
	tcase_add_test(tc, cycles_component_with_extra_member);
	tcase_add_test(tc, cycles_none);
	tcase_add_test(tc, cycles_grouped_text);
	tcase_add_test(tc, cycles_from_rules_three_and_co_waiters);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
