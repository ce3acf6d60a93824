#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *gs_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

void *gs_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		abort();
	return p;
}

void *gs_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

char *gs_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(gs_xmalloc(n), s, n);
}

void gs_strbuf_init(gs_strbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->sink = NULL;
	sb->sink_ctx = NULL;
}

void gs_strbuf_flush(gs_strbuf *sb)
{
	if (sb->sink && sb->len) {
		sb->sink(sb->sink_ctx, sb->buf, sb->len);
		sb->len = 0;
		sb->buf[0] = '\0';
	}
}

void gs_strbuf_free(gs_strbuf *sb)
{
	free(sb->buf);
	gs_strbuf_init(sb);
}

static void reserve(gs_strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	sb->buf = gs_xrealloc(sb->buf, cap);
	sb->cap = cap;
}

void gs_strbuf_put_u64(gs_strbuf *sb, unsigned long long v)
{
	char b[24];
	size_t i = sizeof b;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	gs_strbuf_put(sb, b + i, sizeof b - i);
}

void gs_strbuf_put_i64(gs_strbuf *sb, long long v)
{
	if (v < 0) {
		gs_strbuf_putc(sb, '-');
		gs_strbuf_put_u64(sb, 0ull - (unsigned long long)v);
	} else {
		gs_strbuf_put_u64(sb, (unsigned long long)v);
	}
}

void gs_strbuf_put_hex(gs_strbuf *sb, unsigned long long v)
{
	char b[24];
	size_t i = sizeof b;
	do {
		b[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	b[--i] = 'x';
	b[--i] = '0';
	gs_strbuf_put(sb, b + i, sizeof b - i);
}

void gs_strbuf_put_slow(gs_strbuf *sb, const void *p, size_t n)
{
	reserve(sb, n);
	memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	if (sb->sink && sb->len >= GS_STRBUF_SINK_AT)
		gs_strbuf_flush(sb);
}

void gs_strbuf_printf(gs_strbuf *sb, const char *fmt, ...)
{
	va_list ap, ap2;
	if (sb->cap - sb->len < 128)
		reserve(sb, 128);
	va_start(ap, fmt);
	va_copy(ap2, ap);
	/* Format straight into the free space; only a line longer than it is formatted twice. */
	size_t room = sb->cap - sb->len;
	int n = vsnprintf(sb->buf + sb->len, room, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n >= room) {
		reserve(sb, (size_t)n);
		vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap2);
	}
	va_end(ap2);
	if (n > 0) {
		sb->len += (size_t)n;
		if (sb->sink && sb->len >= GS_STRBUF_SINK_AT)
			gs_strbuf_flush(sb);
	} else if (sb->buf) {
		sb->buf[sb->len] = '\0';
	}
}

void gs_strbuf_json_str(gs_strbuf *sb, const char *s)
{
	gs_strbuf_putc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': gs_strbuf_puts(sb, "\\\""); break;
		case '\\': gs_strbuf_puts(sb, "\\\\"); break;
		case '\n': gs_strbuf_puts(sb, "\\n"); break;
		case '\t': gs_strbuf_puts(sb, "\\t"); break;
		case '\r': gs_strbuf_puts(sb, "\\r"); break;
		default:
			if (*p < 0x20)
				gs_strbuf_printf(sb, "\\u%04x", *p);
			else
				gs_strbuf_putc(sb, (char)*p);
		}
	}
	gs_strbuf_putc(sb, '"');
}

char *gs_strbuf_take(gs_strbuf *sb)
{
	char *s = sb->buf ? sb->buf : gs_xstrdup("");
	gs_strbuf_init(sb);
	return s;
}
