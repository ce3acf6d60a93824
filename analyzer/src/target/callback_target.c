/* Target over a host debugger (gdb, lldb): memory comes from its read callback, threads
 * are pushed by the wrapper. The debugger already knows about file-backed memory, so
 * backing regions are rarely needed here, but they work the same. */
#include "target_impl.h"

#include <stdlib.h>

#include "../util/alloc.h"

static size_t cb_read(gs_target *t, uint64_t addr, void *dst, size_t n)
{
	const gs_target_callbacks *cb = t->impl;
	size_t k = cb->read(cb->ctx, addr, dst, n);
	return k > n ? n : k;
}

static void cb_destroy(gs_target *t)
{
	free(t->impl);
}

/* No next hook: a debugger's reads succeed or fail in whole pages. */
static const gs_target_ops cb_ops = { .read = cb_read, .destroy = cb_destroy };

gs_target *gs_callback_target_new(const gs_target_callbacks *cb, gs_err *err)
{
	if (!cb || !cb->read) {
		gs_errf(err, GS_EINPUT, "debugger: no read callback");
		return NULL;
	}
	gs_target_callbacks *copy = gs_malloc(sizeof *copy, err);
	if (!copy)
		return NULL;
	*copy = *cb;
	gs_target *t = gs_target_new(GS_TARGET_CALLBACKS, "debugger", &cb_ops, copy, err);
	if (!t)
		free(copy);
	return t;
}
