/* Private to the map walkers (classic_map.c, swiss_map.c): the state of one walk. */
#ifndef GS_GORUNTIME_MAPS_WALK_H
#define GS_GORUNTIME_MAPS_WALK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "maps.h"

typedef struct walk {
	gs_target *t;
	const gs_map_layout *l;
	uint64_t map;
	uint8_t *buf;
	int64_t visited, limit;
	gs_map_visit_fn fn;
	void *ctx;
	bool stop;
} walk;

static inline uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

#endif
