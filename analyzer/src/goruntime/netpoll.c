/* Goroutines in IO wait and the file descriptors they wait on.
 *
 * Nothing points from a g to its pollDesc. pollDescs live in persistentalloc chunks
 * (runtime.persistentChunks, each chunk's first word links to the previous one); an open
 * pollDesc has pd.self == pd, and pd.rg / pd.wg hold the *g parked to read / write (values
 * 0..2 are states, not goroutines). The chunks are scanned once per session.
 */
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "model_internal.h"

/* runtime.persistentChunkSize, 256 KiB in Go 1.19-1.27 (not in the constants table: see
 * ARCHITECTURE.md) */
#define CHUNK_SIZE (256u << 10)
#define MAX_CHUNKS 4096
/* pd.rg / pd.wg values below this are states (pdNil 0, pdReady 1, pdWait 2), not a *g */
#define PD_FIRST_G 3

static int cmp_pw(const void *a, const void *b)
{
	const gs_poll_waiter *x = a, *y = b;
	return x->g < y->g ? -1 : x->g > y->g;
}

static void add_waiter(gs_netpoll_index *ni, uint64_t g, uint64_t pd, int64_t fd, bool write)
{
	if (ni->n % 64 == 0) {
		gs_poll_waiter *v = gs_reallocarray(ni->w, ni->n + 64, sizeof *v, NULL);
		if (!v) {
			ni->nomem = true;
			return;
		}
		ni->w = v;
	}
	ni->w[ni->n++] = (gs_poll_waiter){g, pd, fd, write};
}

/* Reads the chunks from the list head at address `list` through t. */
static void build_from(gs_rt *rt, gs_target *t, uint64_t list)
{
	gs_netpoll_index *ni = &rt->netpoll;
	ni->built = true;
	const gs_layout *l = &rt->layout;
	const int64_t *o = l->offsets;
	uint64_t head;
	/* Each field is read with its type's width (gs_layout_get); self, rg and wg are compared
	 * with addresses, so they must be words (checked once against their types). */
	if (!list || o[RT_PD_SELF] < 0 || o[RT_PD_RG] < 0 || o[RT_PD_WG] < 0 || o[RT_PD_FD] < 0 ||
	    l->widths[RT_PD_SELF] != 8 || l->widths[RT_PD_RG] != 8 || l->widths[RT_PD_WG] != 8 ||
	    gs_target_read_u64(t, list, &head, NULL) < 0)
		return;
	/* the pollDesc's extent the scan reads: its last field read, to its end */
	uint64_t maxoff = 0;
	static const int read[] = {RT_PD_SELF, RT_PD_RG, RT_PD_WG, RT_PD_FD};
	for (size_t i = 0; i < sizeof read / sizeof read[0]; i++)
		if ((uint64_t)o[read[i]] + l->widths[read[i]] > maxoff)
			maxoff = (uint64_t)o[read[i]] + l->widths[read[i]];
	uint8_t *chunk = malloc(CHUNK_SIZE);
	if (!chunk) {
		ni->nomem = true;
		return;
	}
	for (unsigned c = 0; head && c < MAX_CHUNKS; c++) {
		if (gs_target_read(t, head, chunk, CHUNK_SIZE, NULL) < 0)
			break;
		for (uint64_t off = 8; off + maxoff <= CHUNK_SIZE; off += 8) {
			uint64_t p = head + off;
			int64_t at = (int64_t)off;
			if (gs_layout_get(l, RT_PD_SELF, chunk, CHUNK_SIZE, at) != p)
				continue;
			int64_t fd = (int64_t)gs_layout_get(l, RT_PD_FD, chunk, CHUNK_SIZE, at);
			uint64_t rg = gs_layout_get(l, RT_PD_RG, chunk, CHUNK_SIZE, at);
			uint64_t wg = gs_layout_get(l, RT_PD_WG, chunk, CHUNK_SIZE, at);
			if (rg >= PD_FIRST_G)
				add_waiter(ni, rg, p, fd, false);
			if (wg >= PD_FIRST_G)
				add_waiter(ni, wg, p, fd, true);
		}
		memcpy(&head, chunk, sizeof head); /* a chunk's first word: the previous chunk */
	}
	free(chunk);
	if (ni->n)
		qsort(ni->w, ni->n, sizeof *ni->w, cmp_pw);
}

uint64_t gs_netpoll_list(gs_rt *rt)
{
	uint64_t list;
	return gs_rt_global(rt, "runtime.persistentChunks", &list, NULL) == 0 ? list : 0;
}

void gs_netpoll_build_from(gs_rt *rt, gs_target *t, uint64_t list)
{
	if (!rt->netpoll.built)
		build_from(rt, t, list);
}

void gs_netpoll_build(gs_rt *rt)
{
	if (!rt->netpoll.built)
		build_from(rt, rt->target, gs_netpoll_list(rt));
}

bool gs_netpoll_lookup(gs_rt *rt, uint64_t gaddr, gs_waitobj *out)
{
	gs_netpoll_build(rt);
	gs_poll_waiter key = {gaddr, 0, 0, false};
	gs_poll_waiter *hit =
		rt->netpoll.n ? bsearch(&key, rt->netpoll.w, rt->netpoll.n, sizeof key, cmp_pw) : NULL;
	if (!hit)
		return false;
	*out = (gs_waitobj){hit->write ? GS_WAIT_NETPOLL_WRITE : GS_WAIT_NETPOLL_READ, hit->pd, 0,
			    hit->fd};
	return true;
}

void gs_netpoll_index_free(gs_netpoll_index *ni)
{
	free(ni->w);
	memset(ni, 0, sizeof *ni);
}
