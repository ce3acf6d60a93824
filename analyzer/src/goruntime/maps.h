/* Go maps: iterating the entries of a map value in a frozen process.
 *
 * Two layouts exist. Classic maps (Go <= 1.23, and 1.24/1.25 built with
 * GOEXPERIMENT=noswissmap) are an hmap with 2^B buckets of 8 slots plus overflow chains, and
 * may be caught half-way through an incremental growth (oldbuckets != 0). Swiss maps
 * (Go >= 1.24) are a directory of tables of 8-slot groups, or a single group for small maps.
 *
 * The layout (offsets and sizes) is a plain struct resolved once from the DWARF of the
 * linker-synthesized map types (`*hash<K,V>`/`bucket<K,V>`, or `*map<K,V>`/`table<K,V>`/
 * `groupReference<K,V>` and the compiler's group type `noalg.map.group[K]V`); the walkers
 * take that struct, so they can be tested over synthetic memory. Walks are bounded (entry
 * count, chain length, cycle detection): a corrupt map yields an error naming the map and
 * the address that was wrong, never a hang.
 *
 * What the key and value bytes mean is the caller's business: the visitor receives their
 * addresses in target memory, with indirect (> 128 byte) keys and values already followed.
 */
#ifndef GS_GORUNTIME_MAPS_H
#define GS_GORUNTIME_MAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "../binary/dwarf_types.h"
#include "../target/target.h"
#include "../util/err.h"

enum gs_map_kind { GS_MAP_CLASSIC, GS_MAP_SWISS };

/* Largest key or value the runtime stores inline (MapMaxKeyBytes/MapMaxElemBytes, and the
 * swiss equivalents); larger ones are stored as pointers. */
#define GS_MAP_MAX_INLINE 128

typedef struct gs_map_layout {
	enum gs_map_kind kind;
	uint64_t key_size, val_size;     /* sizes of K and V themselves */
	bool indirect_key, indirect_val; /* slots hold *K / *V */

	/* Classic: hmap members and the bucket<K,V> struct. */
	uint64_t h_count, h_flags, h_B, h_buckets, h_oldbuckets, h_nevacuate;
	uint64_t bucket_size, b_tophash, b_keys, b_values, b_overflow;
	uint64_t b_key_stride, b_val_stride; /* key_size/val_size, or 8 when indirect */

	/* Swiss: maps.Map, maps.table, the group. Slot i of a group has its key at
	 * g_key_off + i*g_key_stride and its value at g_val_off + i*g_val_stride (covers the
	 * interleaved layout and 1.27's mapsplitgroup). */
	uint64_t m_used, m_dirptr, m_dirlen;
	uint64_t t_size, t_used, t_index, t_groups_data, t_groups_mask;
	uint64_t group_size, g_ctrl, g_key_off, g_key_stride, g_val_off, g_val_stride;
	bool group_from_dwarf; /* slot layout read from DWARF (else computed from K/V sizes) */
} gs_map_layout;

/* Called for each entry; return 0 to continue, non-zero to stop the walk. */
typedef int (*gs_map_visit_fn)(void *ctx, uint64_t key_addr, uint64_t val_addr);

/* Resolves the layout of map_type: the DWARF type of the map value (the `map[K]V` typedef
 * or a named type over it). GS_ENOTFOUND when the synthesized types are absent. */
int gs_map_layout_resolve(gs_dwarf *d, const gs_dtype *map_type, gs_map_layout *out,
			  gs_err *err);

/* Walks the map whose value (the *hmap / *maps.Map pointer; 0 = nil map) is map_ptr.
 * Returns the number of entries visited, or -1 (GS_EMEM / GS_EINPUT with
 * "map at 0x...: ..."). */
int64_t gs_map_walk(gs_target *t, const gs_map_layout *l, uint64_t map_ptr,
		    gs_map_visit_fn fn, void *ctx, gs_err *err);
/* The count word (len(m)); 0 for a nil map. */
int gs_map_count_layout(gs_target *t, const gs_map_layout *l, uint64_t map_ptr,
			uint64_t *count, gs_err *err);

/* Both of the above in one call, resolving the layout from DWARF each time (cheap: the
 * types are cached by gs_dwarf). */
int64_t gs_map_iter(gs_target *t, gs_dwarf *d, uint64_t map_ptr, const gs_dtype *map_type,
		    gs_map_visit_fn fn, void *ctx, gs_err *err);
int gs_map_count(gs_target *t, gs_dwarf *d, uint64_t map_ptr, const gs_dtype *map_type,
		 uint64_t *count, gs_err *err);

/* Internal: the two walkers (classic_map.c, swiss_map.c). */
int64_t gs_classic_map_walk(gs_target *t, const gs_map_layout *l, uint64_t map_ptr,
			    gs_map_visit_fn fn, void *ctx, gs_err *err);
int64_t gs_swiss_map_walk(gs_target *t, const gs_map_layout *l, uint64_t map_ptr,
			  gs_map_visit_fn fn, void *ctx, gs_err *err);

#endif
