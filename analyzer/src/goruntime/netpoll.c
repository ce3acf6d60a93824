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

#define CHUNK_SIZE (256u << 10)
#define MAX_CHUNKS 4096

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

static uint64_t word(const uint8_t *chunk, uint64_t off)
{
	uint64_t v;
	memcpy(&v, chunk + off, 8);
	return v;
}

/* Reads the chunks from the list head at address `list` through t. */
static void build_from(gs_rt *rt, gs_target *t, uint64_t list)
{
	gs_netpoll_index *ni = &rt->netpoll;
	ni->built = true;
	const gs_layout *l = &rt->layout;
	const int64_t *o = l->offsets;
	uint64_t head;
	/* The scan reads whole words at every offset of a chunk: the four fields must be words
	 * (checked once here against their types, not per offset). */
	if (!list || o[RT_PD_SELF] < 0 || o[RT_PD_RG] < 0 || o[RT_PD_WG] < 0 || o[RT_PD_FD] < 0 ||
	    l->widths[RT_PD_SELF] != 8 || l->widths[RT_PD_RG] != 8 || l->widths[RT_PD_WG] != 8 ||
	    l->widths[RT_PD_FD] != 8 || gs_target_read_u64(t, list, &head, NULL) < 0)
		return;
	uint64_t maxoff = (uint64_t)o[RT_PD_SELF];
	if ((uint64_t)o[RT_PD_RG] > maxoff)
		maxoff = (uint64_t)o[RT_PD_RG];
	uint8_t *chunk = malloc(CHUNK_SIZE);
	if (!chunk) {
		ni->nomem = true;
		return;
	}
	for (unsigned c = 0; head && c < MAX_CHUNKS; c++) {
		if (gs_target_read(t, head, chunk, CHUNK_SIZE, NULL) < 0)
			break;
		for (uint64_t off = 8; off + maxoff + 8 <= CHUNK_SIZE; off += 8) {
			uint64_t p = head + off;
			if (word(chunk, off + (uint64_t)o[RT_PD_SELF]) != p)
				continue;
			int64_t fd = (int64_t)word(chunk, off + (uint64_t)o[RT_PD_FD]);
			uint64_t rg = word(chunk, off + (uint64_t)o[RT_PD_RG]);
			uint64_t wg = word(chunk, off + (uint64_t)o[RT_PD_WG]);
			if (rg > 2)
				add_waiter(ni, rg, p, fd, false);
			if (wg > 2)
				add_waiter(ni, wg, p, fd, true);
		}
		head = word(chunk, 0);
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
