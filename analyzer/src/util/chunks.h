/* A bump allocator over large chunks, freed all at once: for the tens of thousands of small
 * arrays a session keeps to its end (the goroutines' waits), where a malloc and a free each
 * (the free often from another thread than the malloc) cost more than the arrays. */
#ifndef GS_UTIL_CHUNKS_H
#define GS_UTIL_CHUNKS_H

#include <stddef.h>

typedef struct gs_chunk gs_chunk;
typedef struct gs_chunks {
	gs_chunk *head; /* the chunk being filled first, then the full ones */
} gs_chunks;

/* n bytes, 8-byte aligned, valid until gs_chunks_free; NULL when out of memory. */
void *gs_chunks_alloc(gs_chunks *c, size_t n);
/* Hands every chunk of src to dst (src is left empty). */
void gs_chunks_move(gs_chunks *dst, gs_chunks *src);
void gs_chunks_free(gs_chunks *c);

#endif
