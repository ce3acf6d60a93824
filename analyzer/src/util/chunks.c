#include "chunks.h"

#include <stdlib.h>


#define CHUNK_BYTES ((size_t)64 << 10)

struct gs_chunk {
	gs_chunk *next;
	size_t used, cap;
	_Alignas(8) unsigned char data[];
};

static gs_chunk *new_chunk(size_t cap, gs_chunk *next)
{
	gs_chunk *k = malloc(sizeof *k + cap);
	if (!k)
		return NULL;
	k->next = next;
	k->used = 0;
	k->cap = cap;
	return k;
}

void *gs_chunks_alloc(gs_chunks *c, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if (n > CHUNK_BYTES / 4) { /* large: a chunk of its own, behind the one being filled */
		gs_chunk *k = new_chunk(n, NULL);
		if (!k)
			return NULL;
		k->used = n;
		if (c->head) {
			k->next = c->head->next;
			c->head->next = k;
		} else {
			c->head = k;
		}
		return k->data;
	}
	if (!c->head || c->head->cap - c->head->used < n) {
		gs_chunk *k = new_chunk(CHUNK_BYTES, c->head);
		if (!k)
			return NULL;
		c->head = k;
	}
	void *p = c->head->data + c->head->used;
	c->head->used += n;
	return p;
}

void gs_chunks_move(gs_chunks *dst, gs_chunks *src)
{
	if (!src->head)
		return;
	gs_chunk *tail = src->head;
	while (tail->next)
		tail = tail->next;
	/* dst keeps filling its own current chunk: src's go after it. */
	if (dst->head) {
		tail->next = dst->head->next;
		dst->head->next = src->head;
	} else {
		dst->head = src->head;
	}
	src->head = NULL;
}

void gs_chunks_free(gs_chunks *c)
{
	for (gs_chunk *k = c->head, *next; k; k = next) {
		next = k->next;
		free(k);
	}
	c->head = NULL;
}
