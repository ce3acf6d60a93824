/* A growable byte buffer for building text and JSON output. A failed allocation makes the
 * buffer failed for good: later appends are dropped, and whoever hands the text on checks
 * gs_strbuf_failed once at the end (the command layer turns it into "out of memory"). */
#ifndef GS_UTIL_STRBUF_H
#define GS_UTIL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct gs_strbuf {
	char *buf;
	size_t len, cap;
	/* Optional sink: when set, the contents are handed to it whenever they pass 1 MiB (and
	 * by gs_strbuf_flush), so a large report streams instead of piling up in memory. */
	void (*sink)(void *ctx, const char *p, size_t n);
	void *sink_ctx;
	bool failed; /* an allocation failed: the contents are cut short */
} gs_strbuf;

void gs_strbuf_init(gs_strbuf *sb);
void gs_strbuf_free(gs_strbuf *sb);
/* Appends with the sink and growth taken care of (the out-of-line path). */
void gs_strbuf_put_slow(gs_strbuf *sb, const void *p, size_t n);
static inline bool gs_strbuf_failed(const gs_strbuf *sb)
{
	return sb->failed;
}
/* Marks the buffer failed: what writes into it could not allocate something it needed (a
 * renderer's scratch), so the text is incomplete. */
void gs_strbuf_fail(gs_strbuf *sb);

/* Inline when the bytes fit before the sink's threshold: listings append millions of
 * small pieces. */
#define GS_STRBUF_SINK_AT (1u << 20)
static inline void gs_strbuf_put(gs_strbuf *sb, const void *p, size_t n)
{
	if (sb->len + n < sb->cap && (!sb->sink || sb->len + n < GS_STRBUF_SINK_AT)) {
		memcpy(sb->buf + sb->len, p, n);
		sb->len += n;
		sb->buf[sb->len] = '\0';
		return;
	}
	gs_strbuf_put_slow(sb, p, n);
}

static inline void gs_strbuf_putc(gs_strbuf *sb, char c)
{
	gs_strbuf_put(sb, &c, 1);
}

static inline void gs_strbuf_puts(gs_strbuf *sb, const char *s)
{
	gs_strbuf_put(sb, s, strlen(s));
}
void gs_strbuf_printf(gs_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Decimal and 0x-prefixed lowercase hex, as %llu, %lld and 0x%llx print them, without
 * printf's cost (listings print these tens of thousands of times). */
void gs_strbuf_put_u64(gs_strbuf *sb, unsigned long long v);
void gs_strbuf_put_i64(gs_strbuf *sb, long long v);
void gs_strbuf_put_hex(gs_strbuf *sb, unsigned long long v);
/* Appends s as a JSON string literal, quotes included. */
void gs_strbuf_json_str(gs_strbuf *sb, const char *s);
/* s as it may be shown on a terminal: control characters (C0, DEL, C1) and bytes that are
 * not UTF-8 escaped (\n, \t, \r, else \xNN or \u00NN); with quote, '"' and '\\' too (a DOT
 * label). Returns s itself when nothing needs escaping, else buf (cut to cap). */
const char *gs_text_safe(const char *s, char *buf, size_t cap, bool quote);
#define GS_SAFE(s, buf) gs_text_safe((s), (buf), sizeof(buf), false)
/* Hands what is buffered to the sink (no-op without one). */
void gs_strbuf_flush(gs_strbuf *sb);
/* Detaches the NUL-terminated contents; the buffer is reset. NULL when the buffer failed
 * (its contents are freed) or the empty string cannot be allocated. */
char *gs_strbuf_take(gs_strbuf *sb);

#endif
