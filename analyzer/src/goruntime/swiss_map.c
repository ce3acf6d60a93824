/* Swiss-table Go maps (Go >= 1.24, internal/runtime/maps).
 *
 * A small map (dirLen == 0) is one group at dirPtr. Otherwise dirPtr is an array of dirLen
 * table pointers in which a table of localDepth < globalDepth fills several consecutive
 * slots; table.index is the first of them, so a table is visited only at its own index.
 * Growth is not incremental: the directory always references complete tables. */
#include "maps.h"
#include "maps_walk.h"

#include <stdlib.h>
#include <string.h>

#include "../util/strbuf.h"

/* Directory length is 2^globalDepth; a table has at most 1024 slots = 128 groups. */
#define MAX_DIRLEN (1ull << 24)
#define MAX_GROUPS (1ull << 16)


static int visit_group(walk *w, uint64_t g, gs_err *err)
{
	const gs_map_layout *l = w->l;
	if (gs_target_read(w->t, g, w->buf, l->group_size, NULL) < 0)
		return gs_err_memf(err, g, "map at 0x%llx: group unreadable at 0x%llx",
				   (unsigned long long)w->map, (unsigned long long)g);
	uint64_t ctrl = get_u64(w->buf + l->g_ctrl);
	for (unsigned s = 0; s < 8 && !w->stop; s++) {
		if ((ctrl >> (8 * s)) & 0x80) /* empty or deleted */
			continue;
		uint64_t ko = l->g_key_off + s * l->g_key_stride;
		uint64_t vo = l->g_val_off + s * l->g_val_stride;
		uint64_t k = l->indirect_key ? get_u64(w->buf + ko) : g + ko;
		uint64_t v = l->indirect_val ? get_u64(w->buf + vo) : g + vo;
		if ((l->indirect_key && !k) || (l->indirect_val && !v))
			return gs_errf(err, GS_EINPUT,
				       "map at 0x%llx: nil indirect key or value in group 0x%llx "
				       "slot %u", (unsigned long long)w->map, (unsigned long long)g, s);
		if (++w->visited > w->limit)
			return gs_errf(err, GS_EINPUT,
				       "map at 0x%llx: more entries than its count allows "
				       "(corrupt groups?)", (unsigned long long)w->map);
		if (w->fn && w->fn(w->ctx, k, v))
			w->stop = true;
	}
	return 0;
}

static bool slot_fits(uint64_t off, uint64_t stride, bool indirect, uint64_t size,
		      uint64_t group)
{
	uint64_t last = off + 7 * stride + (indirect ? 8 : size);
	return last <= group;
}

int64_t gs_swiss_map_walk(gs_target *t, const gs_map_layout *l, uint64_t map_ptr,
			  gs_map_visit_fn fn, void *ctx, gs_err *err)
{
	if (l->group_size < l->g_ctrl + 8 || l->group_size > (1u << 16) || l->t_size > 256 ||
	    l->t_index + 8 > l->t_size || l->t_groups_data + 8 > l->t_size ||
	    l->t_groups_mask + 8 > l->t_size ||
	    !slot_fits(l->g_key_off, l->g_key_stride, l->indirect_key, l->key_size, l->group_size) ||
	    !slot_fits(l->g_val_off, l->g_val_stride, l->indirect_val, l->val_size, l->group_size))
		return gs_errf(err, GS_EINPUT, "map at 0x%llx: implausible swiss map layout",
			       (unsigned long long)map_ptr);
	uint64_t used, dir, dirlen;
	if (gs_target_read_u64(t, map_ptr + l->m_used, &used, NULL) < 0 ||
	    gs_target_read_u64(t, map_ptr + l->m_dirptr, &dir, NULL) < 0 ||
	    gs_target_read_u64(t, map_ptr + l->m_dirlen, &dirlen, NULL) < 0)
		return gs_errf(err, GS_EMEM, "map at 0x%llx: header unreadable",
			       (unsigned long long)map_ptr);
	if (!dir) {
		if (used)
			return gs_errf(err, GS_EINPUT, "map at 0x%llx: used %llu but no directory",
				       (unsigned long long)map_ptr, (unsigned long long)used);
		return 0;
	}
	if ((int64_t)dirlen < 0 || dirlen > MAX_DIRLEN)
		return gs_errf(err, GS_EINPUT, "map at 0x%llx: absurd directory length %lld",
			       (unsigned long long)map_ptr, (long long)dirlen);
	walk w = { .t = t, .l = l, .map = map_ptr, .fn = fn, .ctx = ctx };
	w.limit = used > (1ull << 40) ? INT64_MAX : (int64_t)(used * 2 + 64);
	w.buf = gs_xmalloc(l->group_size);
	uint8_t tab[256];
	int rc = 0;
	if (dirlen == 0)
		rc = visit_group(&w, dir, err);
	for (uint64_t i = 0; i < dirlen && !w.stop && rc == 0; i++) {
		uint64_t tp;
		if (gs_target_read_u64(t, dir + 8 * i, &tp, NULL) < 0) {
			rc = gs_err_memf(err, (dir + 8 * i), "map at 0x%llx: directory unreadable at 0x%llx",
					 (unsigned long long)map_ptr, (unsigned long long)(dir + 8 * i));
			break;
		}
		if (gs_target_read(t, tp, tab, l->t_size, NULL) < 0) {
			rc = gs_err_memf(err, tp, "map at 0x%llx: table unreadable at 0x%llx",
					 (unsigned long long)map_ptr, (unsigned long long)tp);
			break;
		}
		if (get_u64(tab + l->t_index) != i)
			continue; /* another directory slot of the same table, or stale */
		uint64_t data = get_u64(tab + l->t_groups_data);
		uint64_t mask = get_u64(tab + l->t_groups_mask);
		if (mask >= MAX_GROUPS || ((mask + 1) & mask)) {
			rc = gs_errf(err, GS_EINPUT,
				     "map at 0x%llx: table 0x%llx has absurd lengthMask 0x%llx",
				     (unsigned long long)map_ptr, (unsigned long long)tp,
				     (unsigned long long)mask);
			break;
		}
		for (uint64_t g = 0; g <= mask && !w.stop && rc == 0; g++)
			rc = visit_group(&w, data + g * l->group_size, err);
	}
	free(w.buf);
	return rc < 0 ? -1 : w.visited;
}
