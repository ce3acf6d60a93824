/* The copy of a paused live process that is analysed after it runs again.
 *
 * While the process is stopped, what the analysis will need is copied into an image: ranges
 * given by the layers above (a goroutine's stack, a heap span) in a few process_vm_readv
 * calls, every present page of the small anonymous mappings, and whatever was read one
 * page at a time meanwhile. Once the process is resumed, reads are served from the image
 * alone: the answer describes one instant, never a mix of before and after. Bytes the image
 * lacks are unreadable (and counted), never fetched from the running process.
 *
 * Extents are kept sorted and disjoint (a later copy of the same bytes, taken in the same
 * pause, is equal and is trimmed away); a NULL data pointer stands for a page the process
 * never touched, which reads as zeros.
 */
#ifndef GS_TARGET_LIVE_IMAGE_H
#define GS_TARGET_LIVE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct gs_image_ext {
	uint64_t addr, len;
	const uint8_t *data; /* NULL: zeros */
} gs_image_ext;

typedef struct gs_image {
	gs_image_ext *ext; /* sorted, disjoint */
	size_t n, cap;
	gs_image_ext *pending; /* added since the last gs_image_settle, unsorted */
	size_t npending, pcap;
	struct gs_image_block *blocks; /* owned copies */
	size_t nblocks, bcap;
	uint64_t (*regions)[2]; /* the readable mappings when copied: [start, end), sorted */
	size_t nregions, rcap;
	uint8_t *pool;    /* made present before the pause: copies land in it first */
	size_t pool_len, pool_used;
	uint64_t bytes;   /* bytes copied */
	uint64_t misses;  /* reads it could not serve once in use */
	uint64_t first_miss;
	bool nomem;       /* something was left out for want of memory: the target fails
			   * (gs_target_alloc_check once resumed) */
} gs_image;

void gs_image_free(gs_image *im);
/* Before the pause: memory for about len bytes of copies, made present now, so that the
 * kernel zeroes it while the process still runs rather than during the copy. */
void gs_image_reserve(gs_image *im, size_t len);
/* After the pause: hands back what the copies did not use of the reserve. */
void gs_image_trim(gs_image *im);
/* Adds [addr, addr+len) holding data (NULL: zeros); data must live as long as im. */
void gs_image_add(gs_image *im, uint64_t addr, uint64_t len, const uint8_t *data);
/* Copies n bytes from src into a new extent at addr (what a paused read returned). */
void gs_image_record(gs_image *im, uint64_t addr, const void *src, size_t n);
/* Sorts what was added and trims overlaps. */
void gs_image_settle(gs_image *im);
/* Copies the prefix of [addr, addr+n) the settled extents hold; returns its length. */
size_t gs_image_read(const gs_image *im, uint64_t addr, void *dst, size_t n);

/* The lowest extent start above addr (where bytes may be read again), UINT64_MAX if none. */
uint64_t gs_image_next(const gs_image *im, uint64_t addr);
/* 1 when addr was in a readable mapping of the process when its mappings were copied: a
 * read there that the image cannot serve is a miss, not an unmapped address. */
int gs_image_in_region(const gs_image *im, uint64_t addr);

struct gs_exec;
/* Copies ranges of pid's memory (sorted or not) into im with process_vm_readv, falling back
 * to pread on memfd for the pages of a range the kernel would not copy at once. Unreadable
 * pages are left out. With ex, a large copy is shared with one of its threads (process_vm_readv
 * and pread need no tracer thread). Returns the bytes copied. */
uint64_t gs_image_copy(gs_image *im, pid_t pid, int memfd, const uint64_t (*ranges)[2], size_t n,
		       struct gs_exec *ex);

/* Copies every present page of pid's private mappings that are writable or anonymous (a
 * page never touched is recorded as zeros; a file page not written by the process is left
 * to the file), except inside the sorted, disjoint skip ranges (whole: except every mapping
 * that meets one); with ex, shared as gs_image_copy does. Returns the bytes copied. */
uint64_t gs_image_copy_mappings(gs_image *im, pid_t pid, int memfd,
				const uint64_t (*skip)[2], size_t nskip, bool whole,
				struct gs_exec *ex);

#endif
