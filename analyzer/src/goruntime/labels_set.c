/* Operations on a label set once read (no target, no model): lookups, filters, rendering,
 * comparison. Apart from labels.c so that hand-built models (tests/unit) link them. */
#include "labels.h"

#include <string.h>

const char *gs_labels_get(const gs_labels *l, const char *key)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (strcmp(l->kv[i].key, key) == 0)
			return l->kv[i].value;
	return NULL;
}

bool gs_labels_match(const gs_labels *l, const char *const *filters, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(filters[i], '=');
		size_t klen = eq ? (size_t)(eq - filters[i]) : strlen(filters[i]);
		bool hit = false;
		for (size_t k = 0; l && k < l->n && !hit; k++)
			hit = strlen(l->kv[k].key) == klen &&
			      memcmp(l->kv[k].key, filters[i], klen) == 0 &&
			      (!eq || strcmp(l->kv[k].value, eq + 1) == 0);
		if (!hit)
			return false;
	}
	return true;
}

void gs_labels_text(const gs_labels *l, gs_strbuf *out)
{
	char e1[512], e2[512];
	if (l->problem) {
		gs_strbuf_printf(out, "unreadable (%s)", l->problem);
		return;
	}
	for (size_t i = 0; i < l->n; i++)
		gs_strbuf_printf(out, "%s%s=%s", i ? ", " : "", GS_SAFE(l->kv[i].key, e1),
				 GS_SAFE(l->kv[i].value, e2));
}

void gs_labels_json(const gs_labels *l, gs_strbuf *out)
{
	if (l->problem) {
		gs_strbuf_puts(out, "null");
		return;
	}
	gs_strbuf_putc(out, '{');
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			gs_strbuf_putc(out, ',');
		gs_strbuf_json_str(out, l->kv[i].key);
		gs_strbuf_putc(out, ':');
		gs_strbuf_json_str(out, l->kv[i].value);
	}
	gs_strbuf_putc(out, '}');
}

bool gs_labels_equal(const gs_labels *a, const gs_labels *b)
{
	if (a == b)
		return true;
	if (!a || !b || a->problem || b->problem || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->kv[i].key, b->kv[i].key) || strcmp(a->kv[i].value, b->kv[i].value))
			return false;
	return true;
}
