/* Classic Go maps (hmap + buckets, Go <= 1.23 and noswissmap builds), including a map caught
 * half-way through an incremental growth.
 *
 * During growth the runtime moves ("evacuates") old buckets into the new array one at a
 * time; an old bucket is evacuated as a whole and marks its first tophash with 2..4. Until
 * then its entries live only in the old bucket. So: for each new bucket index, if the old
 * bucket it comes from is not evacuated, its entries are read there (once, from the lower
 * of the two new indices it splits into), else from the new bucket. No hashing needed. */
#include "maps.h"
#include "maps_walk.h"

#include <stdlib.h>
#include <string.h>

#include "../util/strbuf.h"

/* tophash values (runtime/map.go). */
enum { TH_EMPTY_ONE = 1, TH_EVAC_EMPTY = 4, TH_MIN = 5 };
#define FLAG_SAME_SIZE_GROW 8
/* 2^28 buckets = 2G slots: far beyond any real heap; beyond it B is corrupt. */
#define MAX_B 28
/* Overflow chains are short in practice (the runtime grows a map that has too many). */
#define MAX_CHAIN 65536


static int visit_chain(walk *w, uint64_t b, gs_err *err)
{
	const gs_map_layout *l = w->l;
	uint64_t tortoise = b;
	uint64_t power = 1, lam = 0;
	for (uint64_t n = 0; b && !w->stop; n++) {
		if (n >= MAX_CHAIN)
			return gs_errf(err, GS_EINPUT,
				       "map at 0x%llx: overflow chain longer than %d at 0x%llx",
				       (unsigned long long)w->map, MAX_CHAIN, (unsigned long long)b);
		if (gs_target_read(w->t, b, w->buf, l->bucket_size, NULL) < 0)
			return gs_err_memf(err, b, "map at 0x%llx: bucket unreadable at 0x%llx",
					   (unsigned long long)w->map, (unsigned long long)b);
		for (unsigned s = 0; s < 8 && !w->stop; s++) {
			uint8_t th = w->buf[l->b_tophash + s];
			if (th < TH_MIN)
				continue;
			uint64_t k = b + l->b_keys + s * l->b_key_stride;
			uint64_t v = b + l->b_values + s * l->b_val_stride;
			if (l->indirect_key)
				k = get_u64(w->buf + l->b_keys + s * 8);
			if (l->indirect_val)
				v = get_u64(w->buf + l->b_values + s * 8);
			if ((l->indirect_key && !k) || (l->indirect_val && !v))
				return gs_errf(err, GS_EINPUT,
					       "map at 0x%llx: nil indirect key or value in bucket "
					       "0x%llx slot %u", (unsigned long long)w->map,
					       (unsigned long long)b, s);
			if (++w->visited > w->limit)
				return gs_errf(err, GS_EINPUT,
					       "map at 0x%llx: more entries than its count allows "
					       "(corrupt buckets?)", (unsigned long long)w->map);
			if (w->fn && w->fn(w->ctx, k, v))
				w->stop = true;
		}
		uint64_t next = get_u64(w->buf + l->b_overflow);
		if (next == tortoise || next == b)
			return gs_errf(err, GS_EINPUT, "map at 0x%llx: overflow chain cycles at 0x%llx",
				       (unsigned long long)w->map, (unsigned long long)next);
		if (++lam == power) { /* Brent: move the tortoise at powers of two */
			tortoise = next;
			power <<= 1;
			lam = 0;
		}
		b = next;
	}
	return 0;
}

int64_t gs_classic_map_walk(gs_target *t, const gs_map_layout *l, uint64_t map_ptr,
			    gs_map_visit_fn fn, void *ctx, gs_err *err)
{
	uint8_t h[64];
	uint64_t hsize = l->h_nevacuate + 8;
	if (l->h_buckets + 8 > hsize)
		hsize = l->h_buckets + 8;
	if (l->h_oldbuckets + 8 > hsize)
		hsize = l->h_oldbuckets + 8;
	if (hsize > sizeof h || l->bucket_size < l->b_overflow + 8 || l->bucket_size > (1u << 16))
		return gs_errf(err, GS_EINPUT, "map at 0x%llx: implausible classic map layout",
			       (unsigned long long)map_ptr);
	if (gs_target_read(t, map_ptr, h, hsize, NULL) < 0)
		return gs_errf(err, GS_EMEM, "map at 0x%llx: header unreadable",
			       (unsigned long long)map_ptr);
	uint64_t count = get_u64(h + l->h_count);
	uint8_t flags = h[l->h_flags], B = h[l->h_B];
	uint64_t buckets = get_u64(h + l->h_buckets), old = get_u64(h + l->h_oldbuckets);
	if (B > MAX_B)
		return gs_errf(err, GS_EINPUT, "map at 0x%llx: absurd B=%u",
			       (unsigned long long)map_ptr, B);
	if (!buckets) {
		if (count)
			return gs_errf(err, GS_EINPUT, "map at 0x%llx: count %llu but no buckets",
				       (unsigned long long)map_ptr, (unsigned long long)count);
		return 0;
	}
	uint64_t nb = 1ull << B;
	uint64_t nold = (flags & FLAG_SAME_SIZE_GROW) ? nb : nb >> 1;
	if (old && !nold)
		return gs_errf(err, GS_EINPUT, "map at 0x%llx: growing with B=0",
			       (unsigned long long)map_ptr);
	walk w = { .t = t, .l = l, .map = map_ptr, .fn = fn, .ctx = ctx };
	w.limit = count > (1ull << 40) ? INT64_MAX : (int64_t)(count * 2 + 64);
	w.buf = gs_xmalloc(l->bucket_size);
	int rc = 0;
	for (uint64_t i = 0; i < nb && !w.stop && rc == 0; i++) {
		if (old) {
			uint64_t ob = old + (i & (nold - 1)) * l->bucket_size;
			uint8_t th0;
			if (gs_target_read(t, ob + l->b_tophash, &th0, 1, NULL) < 0) {
				rc = gs_err_memf(err, ob, "map at 0x%llx: old bucket unreadable at 0x%llx",
						 (unsigned long long)map_ptr, (unsigned long long)ob);
				break;
			}
			bool evacuated = th0 > TH_EMPTY_ONE && th0 <= TH_EVAC_EMPTY;
			if (!evacuated) {
				if (i < nold)
					rc = visit_chain(&w, ob, err);
				continue;
			}
		}
		rc = visit_chain(&w, buckets + i * l->bucket_size, err);
	}
	free(w.buf);
	return rc < 0 ? -1 : w.visited;
}
