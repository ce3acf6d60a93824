#include "u64set.h"

#include <stdlib.h>


static size_t hash(uint64_t v, size_t mask)
{
	return (size_t)((v >> 3) * 0x9e3779b97f4a7c15ull >> 17) & mask;
}

bool gs_u64set_add(gs_u64set *s, uint64_t v)
{
	if (2 * (s->n + 1) > s->cap) {
		gs_u64set big = {calloc(s->cap ? s->cap * 2 : 64, 8), s->cap ? s->cap * 2 : 64, 0, false};
		if (!big.slot) {
			s->failed = true;
			return false;
		}
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i])
				gs_u64set_add(&big, s->slot[i]);
		free(s->slot);
		*s = big;
	}
	size_t h = hash(v, s->cap - 1);
	while (s->slot[h]) {
		if (s->slot[h] == v)
			return false;
		h = (h + 1) & (s->cap - 1);
	}
	s->slot[h] = v;
	s->n++;
	return true;
}

bool gs_u64set_has(const gs_u64set *s, uint64_t v)
{
	if (!s->cap)
		return false;
	size_t h = hash(v, s->cap - 1);
	while (s->slot[h]) {
		if (s->slot[h] == v)
			return true;
		h = (h + 1) & (s->cap - 1);
	}
	return false;
}

void gs_u64set_free(gs_u64set *s)
{
	free(s->slot);
	s->slot = NULL;
	s->cap = s->n = 0;
	s->failed = false;
}
