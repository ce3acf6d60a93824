#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gs_strbuf_init(gs_strbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->sink = NULL;
	sb->sink_ctx = NULL;
	sb->failed = false;
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

/* False when the room cannot be had: the buffer is then failed, and its cap lowered so
 * the inline append always takes the slow path, which drops what it is given. */
static bool reserve(gs_strbuf *sb, size_t extra)
{
	if (sb->failed)
		return false;
	if (sb->len + extra + 1 <= sb->cap)
		return true;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < sb->len + extra + 1 && cap <= SIZE_MAX / 2)
		cap *= 2;
	char *buf = cap < sb->len + extra + 1 ? NULL : realloc(sb->buf, cap);
	if (!buf) {
		gs_strbuf_fail(sb);
		return false;
	}
	sb->buf = buf;
	sb->cap = cap;
	return true;
}

void gs_strbuf_fail(gs_strbuf *sb)
{
	sb->failed = true;
	sb->cap = sb->buf ? sb->len + 1 : 0;
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
	if (!reserve(sb, n))
		return;
	memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	if (sb->sink && sb->len >= GS_STRBUF_SINK_AT)
		gs_strbuf_flush(sb);
}

void gs_strbuf_printf(gs_strbuf *sb, const char *fmt, ...)
{
	va_list ap, ap2;
	if (sb->cap - sb->len < 128 && !reserve(sb, 128))
		return;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	/* Format straight into the free space; only a line longer than it is formatted twice. */
	size_t room = sb->cap - sb->len;
	int n = vsnprintf(sb->buf + sb->len, room, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n >= room) {
		if (!reserve(sb, (size_t)n)) {
			sb->buf[sb->len] = '\0';
			va_end(ap2);
			return;
		}
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

/* Length of the well-formed UTF-8 sequence at p (1-4), 0 when p starts none (stray
 * continuation byte, overlong form, surrogate, beyond U+10FFFF, cut short). */
static size_t utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	size_t n;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000;
	else
		return 0;
	unsigned cp = c & (0x3f >> (n - 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* U+0080..U+009F: C1 controls, which some terminals obey as escape sequences. */
static bool is_c1(const unsigned char *p, size_t n)
{
	return n == 2 && p[0] == 0xc2 && p[1] < 0xa0;
}

/* Strings come from the snapshot: whatever bytes they hold, the JSON stays valid UTF-8.
 * A byte that is not part of well-formed UTF-8 becomes U+FFFD; control characters
 * (C0, DEL, C1) are escaped. */
void gs_strbuf_json_str(gs_strbuf *sb, const char *s)
{
	gs_strbuf_putc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		switch (*p) {
		case '"': gs_strbuf_puts(sb, "\\\""); p++; continue;
		case '\\': gs_strbuf_puts(sb, "\\\\"); p++; continue;
		case '\n': gs_strbuf_puts(sb, "\\n"); p++; continue;
		case '\t': gs_strbuf_puts(sb, "\\t"); p++; continue;
		case '\r': gs_strbuf_puts(sb, "\\r"); p++; continue;
		default: break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			gs_strbuf_printf(sb, "\\u%04x", *p);
			p++;
			continue;
		}
		size_t n = utf8_len(p);
		if (n == 0) {
			gs_strbuf_puts(sb, "\\ufffd");
			p++;
		} else if (is_c1(p, n)) {
			gs_strbuf_printf(sb, "\\u%04x", p[1]);
			p += n;
		} else {
			gs_strbuf_put(sb, p, n);
			p += n;
		}
	}
	gs_strbuf_putc(sb, '"');
}

/* The escape for the byte(s) at p in text, in esc: its length, 0 when they are shown as
 * they are; *used: how many bytes of p it stands for. */
static size_t text_escape(const unsigned char *p, bool quote, char esc[8], size_t *used)
{
	size_t n = *p < 0x80 ? 1 : utf8_len(p);
	*used = n ? n : 1;
	switch (*p) {
	case '\n': memcpy(esc, "\\n", 3); return 2;
	case '\t': memcpy(esc, "\\t", 3); return 2;
	case '\r': memcpy(esc, "\\r", 3); return 2;
	case '"':
	case '\\':
		if (!quote)
			return 0;
		esc[0] = '\\';
		esc[1] = (char)*p;
		return 2;
	default: break;
	}
	if (*p < 0x20 || *p == 0x7f || n == 0)
		return (size_t)snprintf(esc, 8, "\\x%02x", *p);
	if (is_c1(p, n))
		return (size_t)snprintf(esc, 8, "\\u%04x", p[1]);
	return 0;
}

const char *gs_text_safe(const char *s, char *buf, size_t cap, bool quote)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];
	size_t used, k = 0;
	for (; *p; p += used)
		if (text_escape(p, quote, esc, &used))
			break;
	if (!*p || cap == 0)
		return s; /* the common case: nothing to escape */
	for (p = (const unsigned char *)s; *p; p += used) {
		size_t e = text_escape(p, quote, esc, &used);
		const char *src = e ? esc : (const char *)p;
		size_t len = e ? e : used;
		if (k + len >= cap)
			break;
		memcpy(buf + k, src, len);
		k += len;
	}
	buf[k] = '\0';
	return buf;
}

char *gs_strbuf_take(gs_strbuf *sb)
{
	if (sb->failed) {
		gs_strbuf_free(sb);
		return NULL;
	}
	char *s = sb->buf ? sb->buf : strdup("");
	gs_strbuf_init(sb);
	return s;
}
