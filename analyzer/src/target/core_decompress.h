/* Compressed core files, decompressed once into a sparse temporary file.
 *
 * Cores reach the people who read them compressed: systemd-coredump stores zstd, tickets
 * carry gzip or xz, some pipelines use lz4. The format is told by the file's first bytes
 * (its magic), never by its name, and decoded by Debian's libraries (libzstd, liblzma, zlib,
 * liblz4) in a stream: fixed buffers, so memory does not grow with the core. Beyond them
 * the decoders keep their format's window: at most 128 MiB for zstd (libzstd's default
 * limit; frames made with --long=31 are refused with a hint), 256 MiB for xz (xz -9 needs
 * 65 MiB), 32 KiB for gzip, 4 MiB for lz4.
 *
 * The output goes to an anonymous file in $TMPDIR (default /tmp): opened with O_TMPFILE, or
 * created and unlinked at once where the file system lacks it, so nothing stays behind even
 * if the process is killed. A core is mostly zeros (reserved heap, untouched stacks): every
 * all-zero 4 KiB block is seeked over instead of written, so the file is sparse and a 2 GB
 * core holding 15 MB of data costs about 15 MB of disk. The core target then reads the
 * temporary file exactly as it reads an uncompressed core: the answers are the same.
 *
 * A stream that ends early (a download cut short) is not an error here: what it held is
 * the beginning of the core, which the core target analyses as a truncated core (warning
 * and missing bytes included) when its headers and notes arrived — the kernel writes them
 * first, gcore last. A stream whose data is corrupt is an error (GS_EINPUT); the formats'
 * checksums (on by default in the zstd, xz, gzip and lz4 tools) catch corruption at the
 * latest at the end of the stream. Corruption that makes a gzip stream look longer than
 * the file (gzip has no block checksums) cannot be told from a cut.
 */
#ifndef GS_TARGET_CORE_DECOMPRESS_H
#define GS_TARGET_CORE_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

enum gs_compression {
	GS_COMPRESS_NONE,
	GS_COMPRESS_ZSTD,
	GS_COMPRESS_XZ,
	GS_COMPRESS_GZIP,
	GS_COMPRESS_LZ4,
	GS_COMPRESS_BZIP2, /* recognised only to say it is not read */
};

/* Where a decompression stands, for a progress line. in_total is the compressed file's
 * size; finished is 1 on the last call (success or failure). */
typedef struct gs_decompress_progress {
	const char *path;
	const char *format; /* "zstd", "xz", "gzip", "lz4" */
	uint64_t in_done, in_total;
	uint64_t out_done;
	int finished;
} gs_decompress_progress;

/* Called when decompression starts, about every MiB of input or output, and at the end.
 * It must not call back into the target. */
typedef void (*gs_decompress_progress_fn)(void *ctx, const gs_decompress_progress *p);

/* The format of a file from its first n bytes. */
enum gs_compression gs_compression_detect(const unsigned char *head, size_t n);
const char *gs_compression_name(enum gs_compression c);

/* Decompresses the whole of fd (a compressed file named path, read from offset 0) into a
 * sparse anonymous temporary file and returns its descriptor, open read-write, at its
 * decompressed size. *truncated is set to 1 when the compressed stream ended before its
 * end marker (the output is then the part that was there). On error returns -1 with err
 * naming path: GS_EINPUT for corrupt or unsupported data, GS_EINTERNAL for a temporary
 * file that cannot be made or written (no space in $TMPDIR). progress may be NULL. */
int gs_core_decompress(int fd, const char *path, enum gs_compression format,
		       gs_decompress_progress_fn progress, void *progress_ctx, int *truncated,
		       gs_err *err);

/* The sparse writer on its own, for tests: writes n bytes at the file's current logical
 * end, seeking over all-zero 4 KiB blocks. */
typedef struct gs_sparse_out {
	int fd;
	uint64_t size; /* logical size so far */
} gs_sparse_out;

int gs_sparse_write(gs_sparse_out *o, const void *buf, size_t n, gs_err *err);
/* Sets the file's size to the logical size (trailing zeros are a hole too). */
int gs_sparse_finish(gs_sparse_out *o, gs_err *err);
/* An anonymous read-write file in $TMPDIR (or /tmp); -1 with err on failure. */
int gs_anon_tmpfile(gs_err *err);

#endif
