/* The HTML report's building blocks: escaping of snapshot strings, and the wait-for graph's
 * SVG with either layout (Graphviz when it loads, the own one otherwise): hostile labels
 * (markup, quotes, DOT syntax) come out as text, never as markup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gs_check.h"
#include "../../analyzer/src/report/svg_graph.h"
#include "../../analyzer/src/util/strbuf.h"

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

START_TEST(test_html_esc_every_special_character)
{
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_html_esc(&sb, "a<b>&\"c'd</script>");
	gs_strbuf_putc(&sb, '\0');
	ck_assert_str_eq(sb.buf, "a&lt;b&gt;&amp;&quot;c&#39;d&lt;/script&gt;");
	sb.len = 0;
	gs_html_esc(&sb, "");
	gs_html_esc(&sb, "plain /svc.Echo/Bidi");
	gs_strbuf_putc(&sb, '\0');
	ck_assert_str_eq(sb.buf, "plain /svc.Echo/Bidi");
	gs_strbuf_free(&sb);
}
END_TEST

static void hostile_graph(gs_graph *g)
{
	for (int i = 0; i < 3; i++) {
		gs_gnode *n = gs_graph_node(g);
		snprintf(n->id, sizeof n->id, "node-g%d", i);
		n->cls = "goroutine";
		snprintf(n->label[0], sizeof n->label[0], "goroutine %d: <script>alert(1)</script>", i);
		snprintf(n->label[1], sizeof n->label[1], "\"];} digraph x {a -> b \\ & '");
		snprintf(n->href, sizeof n->href, "#group-%d", i + 1);
	}
	gs_graph_edge(g, 0, 1, "blames", false);
	gs_graph_edge(g, 1, 2, "<b>", false);
	gs_graph_edge(g, 2, 1, "back", true);
}

static void check_svg(bool own)
{
	if (own)
		setenv("GRPCSCOPE_OWN_LAYOUT", "1", 1);
	else
		unsetenv("GRPCSCOPE_OWN_LAYOUT");
	gs_graph g = {0};
	hostile_graph(&g);
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	const char *engine = NULL;
	gs_graph_svg(&g, &sb, &engine);
	gs_strbuf_putc(&sb, '\0');
	ck_assert_ptr_nonnull(engine);
	ck_assert_msg(strncmp(sb.buf, "<svg", 4) == 0, "%s: starts with <svg", engine);
	ck_assert_msg(!strstr(sb.buf, "<script") && !strstr(sb.buf, "<b>"),
		      "%s: label markup is escaped", engine);
	ck_assert_msg(count(sb.buf, "class=\"node goroutine\"") == 3, "%s: three nodes", engine);
	ck_assert_msg(strstr(sb.buf, "id=\"node-g2\"") || strstr(sb.buf, "id=\"node&#45;g2\""),
		      "%s: node ids kept", engine);
	ck_assert_msg(strstr(sb.buf, "cycle"), "%s: the cycle edge is marked", engine);
	gs_strbuf_free(&sb);
	gs_graph_free(&g);
}

START_TEST(test_svg_own_layout)
{
	check_svg(true);
}
END_TEST

START_TEST(test_svg_default_layout)
{
	check_svg(false);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_html_esc_every_special_character);
	tcase_add_test(tc, test_svg_own_layout);
	tcase_add_test(tc, test_svg_default_layout);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
