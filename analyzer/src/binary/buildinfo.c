#include "buildinfo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "varint.h"

#define BUILDINFO_MAGIC "\xff Go buildinf:"
#define BUILDINFO_MAGIC_LEN 14
#define BUILDINFO_HDR 32
/* Strings longer than this are corruption; real modinfo is a few kilobytes. */
#define MAX_STRING (16u << 20)

typedef struct blob {
	const uint8_t *p;
	size_t len;
} blob;

static char *dup_n(const void *p, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Outside its section the magic can also be just a string (this library holds one), so
 * the rest of the header must look right too: 1.18+ pads bytes 16-31 with zeros. */
static bool plausible_header(const uint8_t *p)
{
	static const uint8_t zeros[16];
	if (memcmp(p, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) != 0)
		return false;
	if (p[15] & 2)
		return memcmp(p + 16, zeros, 16) == 0;
	return p[14] == 4 || p[14] == 8;
}

/* The header's location: the section, or (sections stripped) a 16-byte aligned magic in
 * a loaded segment, as debug/buildinfo searches for it. */
static int find_header(gs_binary *b, blob *out, gs_err *err)
{
	const gs_section *s = gs_binary_section(b, ".go.buildinfo");
	if (s) {
		const uint8_t *d = gs_binary_section_data(b, s, err);
		if (!d)
			return -1;
		*out = (blob){d, s->size};
		return 0;
	}
	for (size_t i = 0; i < gs_binary_nsegments(b); i++) {
		const gs_segment *seg = gs_binary_segment(b, i);
		size_t avail;
		const uint8_t *p = gs_binary_ptr(b, seg->vaddr, &avail);
		if (!p)
			continue;
		size_t start = (size_t)((16 - (seg->vaddr & 15)) & 15);
		for (size_t off = start; off + BUILDINFO_HDR <= avail; off += 16) {
			if (plausible_header(p + off)) {
				*out = (blob){p + off, avail - off};
				return 0;
			}
		}
	}
	return gs_errf(err, GS_EINPUT, "%s: no Go build info (.go.buildinfo)", gs_binary_path(b));
}

/* 1.18+: uvarint length, then the bytes, right after the header. */
static int inline_string(const blob *bi, size_t *pos, blob *out)
{
	uint64_t n;
	if (!gs_uvarint(bi->p, bi->len, pos, 64, &n) || n > bi->len - *pos)
		return -1;
	*out = (blob){bi->p + *pos, (size_t)n};
	*pos += (size_t)n;
	return 0;
}

/* Before 1.18: a pointer to a Go string header {data, len} in the data segment. */
static int pointer_string(gs_binary *b, const uint8_t *ptr, unsigned ptrsize, blob *out)
{
	uint64_t hdr_addr = 0, data = 0, len = 0;
	uint8_t hdr[16];
	memcpy(&hdr_addr, ptr, ptrsize);
	if (gs_binary_read(b, hdr_addr, hdr, 2 * ptrsize) < 0)
		return -1;
	memcpy(&data, hdr, ptrsize);
	memcpy(&len, hdr + ptrsize, ptrsize);
	if (len == 0) {
		*out = (blob){(const uint8_t *)"", 0};
		return 0;
	}
	size_t avail;
	const uint8_t *p = gs_binary_ptr(b, data, &avail);
	if (!p || len > MAX_STRING || len > avail)
		return -1;
	*out = (blob){p, (size_t)len};
	return 0;
}

/* The tab-separated field `i` of a line (0-based), or an empty blob. */
static blob field(const char *line, size_t len, int i)
{
	size_t start = 0;
	for (size_t k = 0; k <= len; k++) {
		if (k == len || line[k] == '\t') {
			if (i-- == 0)
				return (blob){(const uint8_t *)line + start, k - start};
			start = k + 1;
		}
	}
	return (blob){(const uint8_t *)"", 0};
}

static bool has_prefix(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(line, prefix, n) == 0;
}

int gs_buildinfo_parse_modinfo(const char *text, size_t len, gs_buildinfo *out)
{
	/* cmd/go frames modinfo in two 16-byte sentinels; the runtime strips them the same way. */
	if (len >= 33 && text[len - 17] == '\n') {
		text += 16;
		len -= 32;
	}
	size_t cap = 0;
	bool nomem = false;
	gs_strbuf settings;
	gs_strbuf_init(&settings);
	while (len > 0) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl ? (size_t)(nl - text) : len;
		if (has_prefix(text, n, "path\t") && !out->main_path) {
			blob v = field(text, n, 1);
			nomem |= !(out->main_path = dup_n(v.p, v.len));
		} else if (has_prefix(text, n, "dep\t")) {
			if (out->ndeps == cap) {
				gs_module *d = gs_reallocarray(out->deps, cap ? 2 * cap : 16, sizeof *d, NULL);
				if (!d) {
					nomem = true;
					break;
				}
				out->deps = d;
				cap = cap ? 2 * cap : 16;
			}
			blob p = field(text, n, 1), v = field(text, n, 2);
			out->deps[out->ndeps++] = (gs_module){dup_n(p.p, p.len), dup_n(v.p, v.len)};
			nomem |= !out->deps[out->ndeps - 1].path || !out->deps[out->ndeps - 1].version;
		} else if (has_prefix(text, n, "=>\t") && out->ndeps > 0) {
			/* A replacement of the dep before it: its version is what was built, unless
			 * it is a directory (no version). */
			blob v = field(text, n, 2);
			gs_module *m = &out->deps[out->ndeps - 1];
			if (v.len > 0) {
				free(m->version);
				nomem |= !(m->version = dup_n(v.p, v.len));
			}
		} else if (has_prefix(text, n, "build\t")) {
			gs_strbuf_put(&settings, text + 6, n - 6);
			gs_strbuf_putc(&settings, '\n');
		}
		if (!nl)
			break;
		len -= n + 1;
		text = nl + 1;
	}
	if (settings.len > 0 || gs_strbuf_failed(&settings))
		nomem |= !(out->settings = gs_strbuf_take(&settings));
	gs_strbuf_free(&settings);
	return nomem ? -1 : 0;
}

int gs_buildinfo_read(gs_binary *b, gs_buildinfo *out, gs_err *err)
{
	memset(out, 0, sizeof *out);
	const char *path = gs_binary_path(b);
	blob bi = {NULL, 0};
	if (find_header(b, &bi, err) < 0)
		return -1;
	if (bi.len < BUILDINFO_HDR || memcmp(bi.p, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) != 0)
		return gs_errf(err, GS_EINPUT, "%s: bad Go build info header", path);
	unsigned ptrsize = bi.p[14], flags = bi.p[15];
	blob version = {NULL, 0}, modinfo = {NULL, 0};
	if (flags & 2) {
		size_t pos = BUILDINFO_HDR;
		if (inline_string(&bi, &pos, &version) < 0 || inline_string(&bi, &pos, &modinfo) < 0)
			return gs_errf(err, GS_EINPUT, "%s: Go build info truncated", path);
	} else {
		if (flags & 1)
			return gs_errf(err, GS_EINPUT, "%s: big-endian Go build info is not supported",
				       path);
		if (ptrsize != 4 && ptrsize != 8)
			return gs_errf(err, GS_EINPUT, "%s: bad Go build info pointer size %u", path,
				       ptrsize);
		if (pointer_string(b, bi.p + 16, ptrsize, &version) < 0 ||
		    pointer_string(b, bi.p + 16 + ptrsize, ptrsize, &modinfo) < 0)
			return gs_errf(err, GS_EINPUT, "%s: Go build info points outside the file",
				       path);
	}
	if (version.len == 0)
		return gs_errf(err, GS_EINPUT, "%s: Go build info has no Go version", path);
	out->go_version = dup_n(version.p, version.len);
	if (!out->go_version || gs_buildinfo_parse_modinfo((const char *)modinfo.p, modinfo.len, out)) {
		gs_buildinfo_free(out);
		return gs_errf(err, GS_EINTERNAL, "%s: reading Go build info: out of memory", path);
	}
	return 0;
}

void gs_buildinfo_free(gs_buildinfo *bi)
{
	if (!bi)
		return;
	for (size_t i = 0; i < bi->ndeps; i++) {
		free(bi->deps[i].path);
		free(bi->deps[i].version);
	}
	free(bi->deps);
	free(bi->go_version);
	free(bi->main_path);
	free(bi->settings);
	memset(bi, 0, sizeof *bi);
}

const char *gs_buildinfo_module_version(const gs_buildinfo *bi, const char *path)
{
	for (size_t i = 0; i < bi->ndeps; i++) {
		if (strcmp(bi->deps[i].path, path) == 0)
			return bi->deps[i].version;
	}
	return NULL;
}
