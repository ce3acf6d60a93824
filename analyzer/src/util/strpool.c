#include "strpool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

static size_t find(char **slot, size_t cap, const char *s)
{
	size_t i = (size_t)gs_hash_bytes(s, strlen(s)) & (cap - 1);
	while (slot[i] && strcmp(slot[i], s) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

const char *gs_strpool_intern(gs_strpool *p, const char *s)
{
	if (!s || !*s)
		return "";
	if (2 * (p->n + 1) > p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **slot = calloc(cap, sizeof *slot);
		if (!slot)
			return NULL;
		for (size_t i = 0; i < p->cap; i++)
			if (p->slot[i])
				slot[find(slot, cap, p->slot[i])] = p->slot[i];
		free(p->slot);
		p->slot = slot;
		p->cap = cap;
	}
	size_t i = find(p->slot, p->cap, s);
	if (!p->slot[i]) {
		if (!(p->slot[i] = strdup(s)))
			return NULL;
		p->n++;
	}
	return p->slot[i];
}

void gs_strpool_free(gs_strpool *p)
{
	for (size_t i = 0; i < p->cap; i++)
		free(p->slot[i]);
	free(p->slot);
	p->slot = NULL;
	p->n = p->cap = 0;
}
