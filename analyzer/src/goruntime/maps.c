/* Map layout resolution from DWARF, and the entry points that pick a walker. */
#include "maps.h"
#include "layout.h"

#include <string.h>

static const gs_dtype *peel(const gs_dtype *t)
{
	for (int i = 0; t && t->kind == GS_DK_TYPEDEF && i < 64; i++)
		t = t->elem;
	return t;
}

/* The struct a pointer type points to (typedefs looked through). */
static const gs_dtype *pointee(const gs_dtype *t)
{
	t = peel(t);
	if (!t || t->kind != GS_DK_POINTER)
		return NULL;
	return peel(t->elem);
}

/* Alignment of a Go type from its DWARF shape: scalars align to their size, aggregates to
 * their most aligned member, at most the pointer size. */
static uint64_t type_align(const gs_dtype *t, int depth)
{
	t = peel(t);
	if (!t || depth > 16)
		return 1;
	if (t->kind == GS_DK_ARRAY)
		return type_align(t->elem, depth + 1);
	if (t->nmembers) {
		uint64_t a = 1;
		for (size_t i = 0; i < t->nmembers; i++) {
			uint64_t m = type_align(t->members[i].type, depth + 1);
			if (m > a)
				a = m;
		}
		return a;
	}
	if (t->size >= 8)
		return 8;
	if (t->size >= 4)
		return 4;
	if (t->size >= 2)
		return 2;
	return 1;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return a ? (v + a - 1) / a * a : v;
}

/* Member `names` of s; a member the walkers read as a scalar or a word must have the kind
 * `want` (GS_FK_ANY: not read directly), so that its width is its type's, not assumed:
 * a map type is known only at run time (its buckets and groups are generated per key and
 * value type), so this is the manifest's check done here. */
static int member(const gs_dtype *s, const char *names, enum gs_fkind want, uint64_t *off,
		  const gs_dtype **type, const char *what, gs_err *err)
{
	const gs_dmember *m = s ? gs_dwarf_member(s, names) : NULL;
	if (!m)
		return gs_errf(err, GS_ENOTFOUND, "map type %s: %s has no member %s", what,
			       s && s->name ? s->name : "?", names);
	uint8_t w;
	enum gs_fkind k = gs_fkind_of(m->type, &w);
	if (!gs_fkind_fits(want, k))
		return gs_errf(err, GS_EINPUT, "map type %s: %s.%s is a %s, the reader expects a %s",
			       what, s->name ? s->name : "?", m->name, gs_fkind_name(k),
			       gs_fkind_name(want));
	*off = m->offset;
	if (type)
		*type = m->type;
	return 0;
}

/* Stride of the [8]X array member: X's size. */
static uint64_t array_stride(const gs_dtype *arr)
{
	arr = peel(arr);
	if (arr && arr->kind == GS_DK_ARRAY && arr->elem)
		return peel(arr->elem) ? peel(arr->elem)->size : 0;
	return arr && arr->size ? arr->size / 8 : 0;
}

static int resolve_classic(const gs_dtype *h, const char *what, gs_map_layout *l, gs_err *err)
{
	const gs_dtype *bt = NULL, *kt = NULL, *vt = NULL;
	l->kind = GS_MAP_CLASSIC;
	if (member(h, "count", GS_FK_X64, &l->h_count, NULL, what, err) < 0 ||
	    member(h, "flags", GS_FK_U8, &l->h_flags, NULL, what, err) < 0 ||
	    member(h, "B", GS_FK_U8, &l->h_B, NULL, what, err) < 0 ||
	    member(h, "buckets", GS_FK_WORD, &l->h_buckets, &bt, what, err) < 0 ||
	    member(h, "oldbuckets", GS_FK_WORD, &l->h_oldbuckets, NULL, what, err) < 0 ||
	    member(h, "nevacuate", GS_FK_ANY, &l->h_nevacuate, NULL, what, err) < 0)
		return -1;
	const gs_dtype *b = pointee(bt);
	if (!b || !b->nmembers)
		return gs_errf(err, GS_ENOTFOUND, "map type %s: no bucket type", what);
	if (member(b, "tophash|topbits", GS_FK_ANY, &l->b_tophash, NULL, what, err) < 0 ||
	    member(b, "keys", GS_FK_ANY, &l->b_keys, &kt, what, err) < 0 ||
	    member(b, "values|elems", GS_FK_ANY, &l->b_values, &vt, what, err) < 0 ||
	    member(b, "overflow", GS_FK_WORD, &l->b_overflow, NULL, what, err) < 0)
		return -1;
	l->bucket_size = b->size;
	l->b_key_stride = l->indirect_key ? 8 : array_stride(kt);
	l->b_val_stride = l->indirect_val ? 8 : array_stride(vt);
	return 0;
}

static int resolve_swiss(gs_dwarf *d, const gs_dtype *m, const gs_dtype *kt, const gs_dtype *vt,
			 const char *what, gs_map_layout *l, gs_err *err)
{
	const gs_dtype *dt = NULL, *gt = NULL, *gd = NULL;
	uint64_t groups = 0, off;
	l->kind = GS_MAP_SWISS;
	if (member(m, "used", GS_FK_X64, &l->m_used, NULL, what, err) < 0 ||
	    member(m, "dirPtr", GS_FK_WORD, &l->m_dirptr, &dt, what, err) < 0 ||
	    member(m, "dirLen", GS_FK_X64, &l->m_dirlen, NULL, what, err) < 0)
		return -1;
	/* dirPtr is typed **table<K,V>. */
	const gs_dtype *tp = pointee(dt);
	const gs_dtype *tab = tp && tp->kind == GS_DK_POINTER ? pointee(tp) : NULL;
	if (!tab) {
		tab = gs_dwarf_type(d, "internal/runtime/maps.table", NULL);
		tab = peel(tab);
	}
	if (!tab || !tab->nmembers)
		return gs_errf(err, GS_ENOTFOUND, "map type %s: no table type", what);
	l->t_size = tab->size;
	if (member(tab, "used", GS_FK_ANY, &l->t_used, NULL, what, err) < 0 ||
	    member(tab, "index", GS_FK_X64, &l->t_index, NULL, what, err) < 0 ||
	    member(tab, "groups", GS_FK_ANY, &groups, &gt, what, err) < 0 ||
	    member(peel(gt), "data", GS_FK_WORD, &off, &gd, what, err) < 0)
		return -1;
	l->t_groups_data = groups + off;
	if (member(peel(gt), "lengthMask", GS_FK_X64, &off, NULL, what, err) < 0)
		return -1;
	l->t_groups_mask = groups + off;

	/* The group: from DWARF when the data pointer is typed with it (it is, 1.24-1.27). */
	const gs_dtype *g = pointee(gd);
	const gs_dmember *ctrl = g ? gs_dwarf_member(g, "ctrl") : NULL;
	const gs_dmember *slots = g ? gs_dwarf_member(g, "slots") : NULL;
	const gs_dmember *keys = g ? gs_dwarf_member(g, "keys") : NULL;
	const gs_dmember *elems = g ? gs_dwarf_member(g, "elems") : NULL;
	if (ctrl && slots) {
		const gs_dtype *arr = peel(slots->type);
		const gs_dtype *slot = arr && arr->kind == GS_DK_ARRAY ? peel(arr->elem) : NULL;
		const gs_dmember *sk = slot ? gs_dwarf_member(slot, "key") : NULL;
		const gs_dmember *se = slot ? gs_dwarf_member(slot, "elem") : NULL;
		if (sk && se) {
			l->group_size = g->size;
			l->g_ctrl = ctrl->offset;
			l->g_key_off = slots->offset + sk->offset;
			l->g_val_off = slots->offset + se->offset;
			l->g_key_stride = l->g_val_stride = slot->size;
			l->group_from_dwarf = true;
			return 0;
		}
	} else if (ctrl && keys && elems) { /* GOEXPERIMENT=mapsplitgroup */
		l->group_size = g->size;
		l->g_ctrl = ctrl->offset;
		l->g_key_off = keys->offset;
		l->g_val_off = elems->offset;
		l->g_key_stride = array_stride(keys->type);
		l->g_val_stride = array_stride(elems->type);
		l->group_from_dwarf = true;
		return 0;
	}
	/* Computed like the compiler's group type: ctrl word, then 8 x struct{key K; elem V}. */
	uint64_t ks = l->indirect_key ? 8 : l->key_size, vs = l->indirect_val ? 8 : l->val_size;
	uint64_t ka = l->indirect_key ? 8 : type_align(kt, 0);
	uint64_t va = l->indirect_val ? 8 : type_align(vt, 0);
	uint64_t sa = ka > va ? ka : va;
	uint64_t eoff = align_up(ks, va);
	uint64_t ssize = align_up(eoff + vs, sa);
	l->g_ctrl = 0;
	l->g_key_off = 8;
	l->g_val_off = 8 + eoff;
	l->g_key_stride = l->g_val_stride = ssize;
	l->group_size = align_up(8 + 8 * ssize, 8);
	l->group_from_dwarf = false;
	return 0;
}

int gs_map_layout_resolve(gs_dwarf *d, const gs_dtype *map_type, gs_map_layout *l, gs_err *err)
{
	memset(l, 0, sizeof *l);
	const gs_dtype *t = map_type;
	for (int i = 0; t && t->kind != GS_DK_MAP && t->kind == GS_DK_TYPEDEF && i < 64; i++)
		t = t->elem;
	const char *what = map_type && map_type->name ? map_type->name : "?";
	if (!t || t->kind != GS_DK_MAP)
		return gs_errf(err, GS_EINPUT, "%s is not a map type", what);
	const gs_dtype *h = pointee(t->underlying);
	if (!h || !h->nmembers)
		return gs_errf(err, GS_ENOTFOUND, "map type %s: no runtime representation in DWARF",
			       what);
	const gs_dtype *kt = peel(t->key), *vt = peel(t->elem);
	l->key_size = kt ? kt->size : 0;
	l->val_size = vt ? vt->size : 0;
	l->indirect_key = l->key_size > GS_MAP_MAX_INLINE;
	l->indirect_val = l->val_size > GS_MAP_MAX_INLINE;
	if (gs_dwarf_member(h, "buckets"))
		return resolve_classic(h, what, l, err);
	if (gs_dwarf_member(h, "dirPtr"))
		return resolve_swiss(d, h, kt, vt, what, l, err);
	return gs_errf(err, GS_ENOTFOUND, "map type %s: %s is neither a classic nor a swiss map",
		       what, h->name ? h->name : "?");
}

int gs_map_count_layout(gs_target *t, const gs_map_layout *l, uint64_t map_ptr,
			uint64_t *count, gs_err *err)
{
	*count = 0;
	if (!map_ptr)
		return 0;
	uint64_t off = l->kind == GS_MAP_CLASSIC ? l->h_count : l->m_used;
	if (gs_target_read_u64(t, map_ptr + off, count, err) < 0)
		return gs_err_wrap(err, "map at 0x%llx: header unreadable",
				   (unsigned long long)map_ptr);
	return 0;
}

int64_t gs_map_walk(gs_target *t, const gs_map_layout *l, uint64_t map_ptr, gs_map_visit_fn fn,
		    void *ctx, gs_err *err)
{
	if (!map_ptr)
		return 0;
	if (l->kind == GS_MAP_CLASSIC)
		return gs_classic_map_walk(t, l, map_ptr, fn, ctx, err);
	return gs_swiss_map_walk(t, l, map_ptr, fn, ctx, err);
}

int64_t gs_map_iter(gs_target *t, gs_dwarf *d, uint64_t map_ptr, const gs_dtype *map_type,
		    gs_map_visit_fn fn, void *ctx, gs_err *err)
{
	gs_map_layout l;
	if (gs_map_layout_resolve(d, map_type, &l, err) < 0)
		return -1;
	return gs_map_walk(t, &l, map_ptr, fn, ctx, err);
}

int gs_map_count(gs_target *t, gs_dwarf *d, uint64_t map_ptr, const gs_dtype *map_type,
		 uint64_t *count, gs_err *err)
{
	gs_map_layout l;
	if (gs_map_layout_resolve(d, map_type, &l, err) < 0)
		return -1;
	return gs_map_count_layout(t, &l, map_ptr, count, err);
}
