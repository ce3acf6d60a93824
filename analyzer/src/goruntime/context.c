/* Walking context.Context chains. */
#include "context.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../util/strbuf.h"

/* time.Time's wall clock encoding (time/time.go). */
#define WALL_HAS_MONOTONIC (1ull << 63)
#define WALL_NSEC_MASK ((1ull << 30) - 1)
#define WALL_TO_INTERNAL 59453308800ll /* 1885-01-01 in seconds since year 1 */
#define UNIX_TO_INTERNAL 62135596800ll /* 1970-01-01 in seconds since year 1 */

int64_t gs_time_unix_ns(uint64_t wall, int64_t ext)
{
	int64_t sec;
	if (wall & WALL_HAS_MONOTONIC)
		sec = (int64_t)((wall << 1) >> 31) + WALL_TO_INTERNAL - UNIX_TO_INTERNAL;
	else
		sec = ext - UNIX_TO_INTERNAL;
	return sec * 1000000000ll + (int64_t)(wall & WALL_NSEC_MASK);
}

const char *gs_ctx_kind_name(enum gs_ctx_kind k)
{
	static const char *const names[] = {
		[GS_CTX_BACKGROUND] = "background", [GS_CTX_TODO] = "todo",
		[GS_CTX_EMPTY] = "empty", [GS_CTX_CANCEL] = "cancel", [GS_CTX_TIMER] = "timer",
		[GS_CTX_VALUE] = "value", [GS_CTX_WITHOUT_CANCEL] = "withoutCancel",
		[GS_CTX_AFTERFUNC] = "afterFunc", [GS_CTX_STOP] = "stop", [GS_CTX_OTHER] = "other",
	};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static enum gs_ctx_kind classify(const char *n, bool *pointer)
{
	static const struct { const char *name; enum gs_ctx_kind k; } known[] = {
		{ "context.backgroundCtx", GS_CTX_BACKGROUND }, { "context.todoCtx", GS_CTX_TODO },
		{ "context.emptyCtx", GS_CTX_EMPTY }, { "context.cancelCtx", GS_CTX_CANCEL },
		{ "context.timerCtx", GS_CTX_TIMER }, { "context.valueCtx", GS_CTX_VALUE },
		{ "context.withoutCancelCtx", GS_CTX_WITHOUT_CANCEL },
		{ "context.afterFuncCtx", GS_CTX_AFTERFUNC }, { "context.stopCtx", GS_CTX_STOP },
	};
	*pointer = n[0] == '*';
	if (*pointer)
		n++;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(n, known[i].name) == 0)
			return known[i].k;
	return GS_CTX_OTHER;
}

/* Text of the error value (type, data): the message of an *errors.errorString (that is
 * context.Canceled), "context deadline exceeded", else the dynamic type name. */
static void error_text(gs_target *t, gs_types *ty, uint64_t type, uint64_t data, char *buf,
		       size_t cap)
{
	char name[128];
	if (gs_type_name(ty, type, name, sizeof name, NULL) < 0) {
		snprintf(buf, cap, "error of unreadable type 0x%llx", (unsigned long long)type);
		return;
	}
	if (strcmp(name, "context.deadlineExceededError") == 0 ||
	    strcmp(name, "*context.deadlineExceededError") == 0) {
		snprintf(buf, cap, "context deadline exceeded");
		return;
	}
	if (strcmp(name, "*errors.errorString") == 0) {
		uint64_t hdr[2];
		if (gs_target_read(t, data, hdr, sizeof hdr, NULL) == 0) {
			size_t n = hdr[1] < cap - 1 ? (size_t)hdr[1] : cap - 1;
			if (gs_target_read(t, hdr[0], buf, n, NULL) == 0) {
				buf[n] = '\0';
				return;
			}
		}
	}
	snprintf(buf, cap, "%s", name);
}

/* The err of a cancelCtx at c: an error interface, or (1.25+) an atomic.Value whose v is
 * an empty interface (the manifest's via found it). */
static int read_cancel(gs_target *t, gs_types *ty, const gs_layout *l, uint64_t c,
		       gs_ctx_layer *ly, gs_err *err)
{
	if (!gs_layout_has(l, RT_CTX_CANCEL_ERR))
		return gs_errf(err, GS_ENOTFOUND, "no DWARF for context.cancelCtx.err");
	gs_iface e;
	if (gs_iface_read(ty, c + (uint64_t)l->offsets[RT_CTX_CANCEL_ERR],
			  l->via_found[RT_CTX_CANCEL_ERR], &e, err) < 0)
		return -1;
	ly->done = e.type != 0;
	if (ly->done)
		error_text(t, ty, e.type, e.data, ly->err, sizeof ly->err);
	return 0;
}

/* Field f of the struct at base, with its type's width; the target's own message when
 * the bytes are unreadable. */
static int read_field(gs_target *t, const gs_layout *l, int f, uint64_t base, uint64_t *v,
		      gs_err *err)
{
	uint8_t b[8];
	if (gs_layout_read(l, f, t, base, 0, v) == 0)
		return 0;
	if (gs_target_read(t, base + (uint64_t)l->offsets[f], b, l->widths[f], err) < 0)
		return -1;
	return gs_errf(err, GS_EINPUT, "%s.%s unreadable", l->specs[f].type, l->specs[f].names);
}

/* time.Time's wall and ext, each read with its type's width (both 8 bytes so far). */
static int read_deadline(gs_target *t, const gs_layout *l, uint64_t tc, gs_ctx_layer *ly,
			 gs_err *err)
{
	if (!gs_layout_has(l, RT_CTX_TIMER_DEADLINE) || !gs_layout_has(l, RT_TIME_WALL) ||
	    !gs_layout_has(l, RT_TIME_EXT))
		return gs_errf(err, GS_ENOTFOUND, "no DWARF for context.timerCtx.deadline");
	uint64_t at = tc + (uint64_t)l->offsets[RT_CTX_TIMER_DEADLINE], wall, ext;
	if (read_field(t, l, RT_TIME_WALL, at, &wall, err) < 0 ||
	    read_field(t, l, RT_TIME_EXT, at, &ext, err) < 0)
		return -1;
	ly->has_deadline = true;
	ly->deadline_unix_ns = gs_time_unix_ns(wall, (int64_t)ext);
	return 0;
}

/* Reads one layer; sets *parent to the address of the parent interface (0 = root). */
static int read_layer(gs_target *t, gs_dwarf *d, gs_types *ty, uint64_t bias,
		      const gs_layout *l, gs_ctx_layer *ly, uint64_t *parent, gs_err *err)
{
	bool pointer;
	*parent = 0;
	ly->kind = classify(ly->type_name, &pointer);
	uint64_t p = ly->data; /* the struct: a pointer, or a copy for non-pointer types */
	int64_t po = -1;
	switch (ly->kind) {
	case GS_CTX_BACKGROUND: case GS_CTX_TODO:
		return 0;
	case GS_CTX_EMPTY: { /* 1.19: *emptyCtx; which one is told by the globals */
		uint64_t a, v;
		if (gs_dwarf_global(d, "context.background", &a, NULL, NULL) == 0 &&
		    gs_target_read_u64(t, a + bias, &v, NULL) == 0 && v == ly->data)
			ly->kind = GS_CTX_BACKGROUND;
		else if (gs_dwarf_global(d, "context.todo", &a, NULL, NULL) == 0 &&
			 gs_target_read_u64(t, a + bias, &v, NULL) == 0 && v == ly->data)
			ly->kind = GS_CTX_TODO;
		return 0;
	}
	case GS_CTX_CANCEL:
		if (read_cancel(t, ty, l, p, ly, err) < 0)
			return -1;
		po = l->offsets[RT_CTX_CANCEL_PARENT];
		break;
	case GS_CTX_TIMER: case GS_CTX_AFTERFUNC: {
		int64_t co = l->offsets[ly->kind == GS_CTX_TIMER ? RT_CTX_TIMER_CANCEL
								 : RT_CTX_AFTERFUNC_CANCEL];
		if (co < 0)
			return gs_errf(err, GS_ENOTFOUND, "no DWARF for %s", ly->type_name);
		if (read_cancel(t, ty, l, p + (uint64_t)co, ly, err) < 0)
			return -1;
		if (ly->kind == GS_CTX_TIMER && read_deadline(t, l, p, ly, err) < 0)
			return -1;
		po = gs_layout_has(l, RT_CTX_CANCEL_PARENT) ? co + l->offsets[RT_CTX_CANCEL_PARENT]
							    : -1;
		break;
	}
	case GS_CTX_VALUE: po = l->offsets[RT_CTX_VALUE_PARENT]; break;
	case GS_CTX_WITHOUT_CANCEL: po = l->offsets[RT_CTX_WITHOUT_PARENT]; break;
	case GS_CTX_STOP: po = l->offsets[RT_CTX_STOP_PARENT]; break;
	case GS_CTX_OTHER:
		return gs_errf(err, GS_ENOTFOUND, "%s is not a context type this reader knows",
			       ly->type_name);
	}
	(void)pointer;
	if (po < 0)
		return gs_errf(err, GS_ENOTFOUND, "no DWARF for the parent of %s", ly->type_name);
	*parent = p + (uint64_t)po;
	return 0;
}

static void copy_name(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memmove(dst, src, n);
	dst[n] = '\0';
}

/* A handful of context types recur in every chain: name each once. */
static int cached_type_name(gs_ctx_info *out, gs_types *ty, uint64_t type_addr, char *buf,
			    size_t cap, gs_err *err)
{
	for (size_t i = 0; i < out->cache.nnames; i++)
		if (out->cache.names[i].type_addr == type_addr) {
			copy_name(buf, cap, out->cache.names[i].name);
			return 0;
		}
	int rc = gs_type_name(ty, type_addr, buf, cap, err);
	if (rc == 0 && out->cache.nnames < sizeof out->cache.names / sizeof out->cache.names[0]) {
		out->cache.names[out->cache.nnames].type_addr = type_addr;
		copy_name(out->cache.names[out->cache.nnames].name, sizeof out->cache.names[0].name,
			  buf);
		out->cache.nnames++;
	}
	return rc;
}

int gs_ctx_read(gs_target *t, gs_dwarf *d, const gs_layout *l, gs_types *ty, uint64_t bias,
		uint64_t iface_addr, gs_ctx_info *out, gs_err *err)
{
	/* Only the layers a walk fills are cleared: the struct is 20 KiB and callers walk the
	 * contexts of every stream. */
	memset(out, 0, offsetof(gs_ctx_info, layers));
	if (out->cache.dwarf != d) {
		out->cache.dwarf = d;
		out->cache.nnames = 0;
	}
	bool err_decided = false, deadline_decided = false;
	uint64_t at = iface_addr;
	for (size_t depth = 0;; depth++) {
		gs_iface v;
		gs_err lerr = { 0 };
		if (depth == GS_CTX_MAX_DEPTH) {
			out->truncated = true;
			snprintf(out->problem, sizeof out->problem, "deeper than %d layers",
				 GS_CTX_MAX_DEPTH);
			break;
		}
		if (gs_iface_read(ty, at, false, &v, depth ? &lerr : err) < 0) {
			if (depth == 0)
				return -1;
			out->truncated = true;
			snprintf(out->problem, sizeof out->problem, "%.190s", lerr.msg);
			break;
		}
		if (!v.tab) {
			out->nil = depth == 0;
			break;
		}
		gs_ctx_layer *ly = &out->layers[out->depth++];
		memset(ly, 0, sizeof *ly);
		ly->type_addr = v.type;
		ly->data = v.data;
		uint64_t parent = 0;
		int rc = cached_type_name(out, ty, v.type, ly->type_name, sizeof ly->type_name, &lerr);
		if (rc < 0) {
			snprintf(ly->type_name, sizeof ly->type_name, "?");
			ly->kind = GS_CTX_OTHER;
		} else {
			rc = read_layer(t, d, ty, bias, l, ly, &parent, &lerr);
		}
		if (rc < 0) {
			out->truncated = true;
			snprintf(out->problem, sizeof out->problem, "layer %zu at 0x%llx: %.150s", depth,
				 (unsigned long long)at, lerr.msg);
			break;
		}
		if (ly->kind == GS_CTX_CANCEL || ly->kind == GS_CTX_TIMER ||
		    ly->kind == GS_CTX_AFTERFUNC) {
			if (!err_decided) {
				out->done = ly->done;
				memcpy(out->err, ly->err, sizeof out->err);
				err_decided = true;
			}
		}
		if (ly->has_deadline && !deadline_decided) {
			out->has_deadline = true;
			out->deadline_unix_ns = ly->deadline_unix_ns;
			deadline_decided = true;
		}
		if (ly->kind == GS_CTX_WITHOUT_CANCEL)
			err_decided = deadline_decided = true;
		if (!parent)
			break;
		for (size_t i = 0; i + 1 < out->depth; i++)
			if (out->layers[i].data == ly->data && out->layers[i].type_addr == v.type) {
				out->truncated = true;
				snprintf(out->problem, sizeof out->problem,
					 "chain cycles back to layer %zu", i);
				return 0;
			}
		at = parent;
	}
	return 0;
}
