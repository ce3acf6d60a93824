/* Streaming decompression of a core into a sparse anonymous file (see core_decompress.h).
 *
 * Each format's loop reads the input IN_BUF bytes at a time and hands the decoder an output
 * buffer of OUT_BUF bytes; a full output buffer goes to the sparse writer, which splits it
 * into 4 KiB blocks and writes only the blocks that hold a non-zero byte. Output buffers are
 * flushed only when full, so the blocks fall on 4 KiB boundaries of the file.
 */
#include "core_decompress.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "../util/alloc.h"

#define BLOCK 4096u
#define IN_BUF ((size_t)256 << 10)
#define OUT_BUF ((size_t)1 << 20) /* a multiple of BLOCK */
/* liblzma's memory limit: xz -9 needs 65 MiB; far more means a hostile header. */
#define XZ_MEMLIMIT ((uint64_t)256 << 20)

enum gs_compression gs_compression_detect(const unsigned char *h, size_t n)
{
	static const unsigned char zstd[] = {0x28, 0xb5, 0x2f, 0xfd};
	static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
	static const unsigned char gz[] = {0x1f, 0x8b};
	static const unsigned char lz4[] = {0x04, 0x22, 0x4d, 0x18};
	if (n >= sizeof zstd && memcmp(h, zstd, sizeof zstd) == 0)
		return GS_COMPRESS_ZSTD;
	if (n >= sizeof xz && memcmp(h, xz, sizeof xz) == 0)
		return GS_COMPRESS_XZ;
	if (n >= sizeof gz && memcmp(h, gz, sizeof gz) == 0)
		return GS_COMPRESS_GZIP;
	if (n >= sizeof lz4 && memcmp(h, lz4, sizeof lz4) == 0)
		return GS_COMPRESS_LZ4;
	if (n >= 4 && memcmp(h, "BZh", 3) == 0 && h[3] >= '1' && h[3] <= '9')
		return GS_COMPRESS_BZIP2;
	return GS_COMPRESS_NONE;
}

const char *gs_compression_name(enum gs_compression c)
{
	switch (c) {
	case GS_COMPRESS_ZSTD: return "zstd";
	case GS_COMPRESS_XZ: return "xz";
	case GS_COMPRESS_GZIP: return "gzip";
	case GS_COMPRESS_LZ4: return "lz4";
	case GS_COMPRESS_BZIP2: return "bzip2";
	default: return "none";
	}
}

/* ---- the sparse writer ---- */

static int all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int write_all(int fd, const unsigned char *p, size_t n, uint64_t off, gs_err *err)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return gs_errf(err, GS_EINTERNAL,
				       "cannot write the decompressed core to $TMPDIR: %s",
				       w < 0 ? strerror(errno) : "short write");
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int gs_sparse_write(gs_sparse_out *o, const void *buf, size_t n, gs_err *err)
{
	const unsigned char *p = buf;
	size_t i = 0;
	while (i < n) {
		/* Skip a run of zero blocks, then write the run of data blocks after it. */
		while (i < n) {
			size_t k = n - i < BLOCK ? n - i : BLOCK;
			if (!all_zero(p + i, k))
				break;
			i += k;
		}
		size_t start = i;
		while (i < n) {
			size_t k = n - i < BLOCK ? n - i : BLOCK;
			if (all_zero(p + i, k))
				break;
			i += k;
		}
		if (i > start && write_all(o->fd, p + start, i - start, o->size + start, err) != 0)
			return -1;
	}
	o->size += n;
	return 0;
}

int gs_sparse_finish(gs_sparse_out *o, gs_err *err)
{
	if (ftruncate(o->fd, (off_t)o->size) != 0)
		return gs_errf(err, GS_EINTERNAL, "cannot size the decompressed core in $TMPDIR: %s",
			       strerror(errno));
	return 0;
}

int gs_anon_tmpfile(gs_err *err)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* No O_TMPFILE on this file system: a named file, unlinked before it is used. */
	char tmpl[4096];
	if (snprintf(tmpl, sizeof tmpl, "%s/grpcscope-core.XXXXXX", dir) >= (int)sizeof tmpl)
		return gs_errf(err, GS_EINTERNAL, "TMPDIR is too long");
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return gs_errf(err, GS_EINTERNAL, "cannot create a temporary file in %s: %s", dir,
			       strerror(errno));
	unlink(tmpl);
	return fd;
}

/* ---- the decoders ---- */

typedef struct dstate {
	int in_fd;
	const char *path, *format;
	uint64_t in_done, in_total;
	unsigned char *in, *out;
	size_t out_pos; /* bytes of out filled */
	gs_sparse_out so;
	gs_decompress_progress_fn progress;
	void *progress_ctx;
	int truncated;
	gs_err *err;
} dstate;

static void report(dstate *d, int finished)
{
	if (!d->progress)
		return;
	gs_decompress_progress p = {d->path, d->format, d->in_done, d->in_total,
				    d->so.size + d->out_pos, finished};
	d->progress(d->progress_ctx, &p);
}

/* Reads the next input chunk: its length, 0 at the end of the file, -1 on error. */
static ssize_t read_in(dstate *d)
{
	for (;;) {
		ssize_t r = pread(d->in_fd, d->in, IN_BUF, (off_t)d->in_done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			gs_errf(d->err, GS_EINPUT, "%s: cannot read: %s", d->path, strerror(errno));
			return -1;
		}
		d->in_done += (uint64_t)r;
		report(d, 0);
		return r;
	}
}

static int flush_out(dstate *d)
{
	if (gs_sparse_write(&d->so, d->out, d->out_pos, d->err) != 0)
		return -1;
	d->out_pos = 0;
	report(d, 0);
	return 0;
}

/* unread: bytes of the last input chunk the decoder had not consumed when it failed. */
static int corrupt(dstate *d, const char *why, size_t unread)
{
	return gs_errf(d->err, GS_EINPUT, "%s: corrupt %s data (%s) around compressed byte %" PRIu64
		       " of %" PRIu64, d->path, d->format, why, d->in_done - unread, d->in_total);
}

static int run_zstd(dstate *d)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	if (!z)
		return gs_errf(d->err, GS_EINTERNAL, "%s: cannot start the zstd decoder", d->path);
	size_t hint = 1; /* 0 once a frame is complete and flushed */
	int rc = -1;
	for (;;) {
		ssize_t n = read_in(d);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		ZSTD_inBuffer ib = {d->in, (size_t)n, 0};
		int full = 0;
		while (ib.pos < ib.size || full) {
			ZSTD_outBuffer ob = {d->out, OUT_BUF, d->out_pos};
			hint = ZSTD_decompressStream(z, &ob, &ib);
			if (ZSTD_isError(hint)) {
				if (ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge)
					gs_errf(d->err, GS_EINPUT,
						"%s: the zstd frame needs a window over 128 MiB; "
						"decompress it first (zstd -d --long=31)", d->path);
				else
					corrupt(d, ZSTD_getErrorName(hint), ib.size - ib.pos);
				goto out;
			}
			d->out_pos = ob.pos;
			full = d->out_pos == OUT_BUF;
			if (full && flush_out(d) != 0)
				goto out;
		}
	}
	d->truncated = hint != 0;
	rc = 0;
out:
	ZSTD_freeDStream(z);
	return rc;
}

static int run_xz(dstate *d)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r = lzma_stream_decoder(&s, XZ_MEMLIMIT, LZMA_CONCATENATED);
	if (r != LZMA_OK)
		return gs_errf(d->err, GS_EINTERNAL, "%s: cannot start the xz decoder (%d)", d->path,
			       (int)r);
	lzma_action action = LZMA_RUN;
	int rc = -1;
	s.next_out = d->out;
	s.avail_out = OUT_BUF;
	for (;;) {
		if (s.avail_in == 0 && action == LZMA_RUN) {
			ssize_t n = read_in(d);
			if (n < 0)
				goto out;
			s.next_in = d->in;
			s.avail_in = (size_t)n;
			if (n == 0)
				action = LZMA_FINISH;
		}
		r = lzma_code(&s, action);
		d->out_pos = OUT_BUF - s.avail_out;
		if (s.avail_out == 0) {
			if (flush_out(d) != 0)
				goto out;
			s.next_out = d->out;
			s.avail_out = OUT_BUF;
		}
		if (r == LZMA_STREAM_END)
			break;
		if (r == LZMA_BUF_ERROR && action == LZMA_FINISH) {
			d->truncated = 1; /* the input ended inside a stream */
			break;
		}
		if (r == LZMA_OK)
			continue;
		switch (r) {
		case LZMA_MEMLIMIT_ERROR:
			gs_errf(d->err, GS_EINPUT,
				"%s: the xz stream needs more than %" PRIu64 " MiB to decode", d->path,
				XZ_MEMLIMIT >> 20);
			break;
		case LZMA_OPTIONS_ERROR:
			corrupt(d, "unsupported options", s.avail_in);
			break;
		case LZMA_FORMAT_ERROR:
			corrupt(d, "not an xz stream", s.avail_in);
			break;
		case LZMA_MEM_ERROR:
			gs_errf(d->err, GS_EINTERNAL, "%s: out of memory decoding xz", d->path);
			break;
		case LZMA_DATA_ERROR: /* also a failed integrity check */
			corrupt(d, "compressed data is corrupt", s.avail_in);
			break;
		default:
			gs_errf(d->err, GS_EINTERNAL, "%s: the xz decoder failed (liblzma error %d)",
				d->path, (int)r);
		}
		goto out;
	}
	rc = 0;
out:
	lzma_end(&s);
	return rc;
}

static int run_gzip(dstate *d)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return gs_errf(d->err, GS_EINTERNAL, "%s: cannot start the gzip decoder", d->path);
	int rc = -1, in_member = 1;
	z.next_out = d->out;
	z.avail_out = OUT_BUF;
	for (;;) {
		if (z.avail_in == 0) {
			ssize_t n = read_in(d);
			if (n < 0)
				goto out;
			if (n == 0)
				break;
			z.next_in = d->in;
			z.avail_in = (uInt)n;
		}
		if (!in_member) { /* another member follows (gzip files concatenate) */
			if (inflateReset(&z) != Z_OK)
				goto bad;
			in_member = 1;
		}
		int r = inflate(&z, Z_NO_FLUSH);
		d->out_pos = OUT_BUF - z.avail_out;
		if (z.avail_out == 0) {
			if (flush_out(d) != 0)
				goto out;
			z.next_out = d->out;
			z.avail_out = OUT_BUF;
		}
		if (r == Z_STREAM_END)
			in_member = 0;
		else if (r == Z_MEM_ERROR)
			goto bad;
		else if (r != Z_OK && r != Z_BUF_ERROR) {
			corrupt(d, z.msg ? z.msg : "invalid data", z.avail_in);
			goto out;
		}
	}
	d->truncated = in_member;
	rc = 0;
	goto out;
bad:
	gs_errf(d->err, GS_EINTERNAL, "%s: the gzip decoder failed (%s)", d->path,
		z.msg ? z.msg : "out of memory");
out:
	inflateEnd(&z);
	return rc;
}

static int run_lz4(dstate *d)
{
	LZ4F_dctx *dc = NULL;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION)))
		return gs_errf(d->err, GS_EINTERNAL, "%s: cannot start the lz4 decoder", d->path);
	size_t hint = 1; /* 0 once a frame is complete */
	int rc = -1;
	for (;;) {
		ssize_t n = read_in(d);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		size_t pos = 0;
		int full = 0;
		while (pos < (size_t)n || full) {
			size_t dst = OUT_BUF - d->out_pos, src = (size_t)n - pos;
			hint = LZ4F_decompress(dc, d->out + d->out_pos, &dst, d->in + pos, &src, NULL);
			if (LZ4F_isError(hint)) {
				corrupt(d, LZ4F_getErrorName(hint), (size_t)n - pos);
				goto out;
			}
			pos += src;
			d->out_pos += dst;
			full = d->out_pos == OUT_BUF;
			if (full && flush_out(d) != 0)
				goto out;
			if (!full && src == 0 && dst == 0)
				break; /* no progress: wants more input */
		}
	}
	d->truncated = hint != 0;
	rc = 0;
out:
	LZ4F_freeDecompressionContext(dc);
	return rc;
}

int gs_core_decompress(int fd, const char *path, enum gs_compression format,
		       gs_decompress_progress_fn progress, void *progress_ctx, int *truncated,
		       gs_err *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return gs_errf(err, GS_EINPUT, "%s: cannot stat: %s", path, strerror(errno));
	if (format == GS_COMPRESS_BZIP2 || format == GS_COMPRESS_NONE)
		return gs_errf(err, GS_EINPUT, "%s: %s-compressed, which grpcscope does not read; "
			       "decompress it first", path, gs_compression_name(format));
	int out_fd = gs_anon_tmpfile(err);
	if (out_fd < 0)
		return gs_err_wrap(err, "%s: decompressing", path);
	dstate d = {
		.in_fd = fd, .path = path, .format = gs_compression_name(format),
		.in_total = (uint64_t)st.st_size, .so = {out_fd, 0},
		.progress = progress, .progress_ctx = progress_ctx, .err = err,
	};
	d.in = gs_malloc(IN_BUF, err);
	d.out = d.in ? gs_malloc(OUT_BUF, err) : NULL;
	report(&d, 0);
	int rc = d.out ? 0 : -1;
	switch (d.out ? format : GS_COMPRESS_NONE) {
	case GS_COMPRESS_NONE: break;
	case GS_COMPRESS_ZSTD: rc = run_zstd(&d); break;
	case GS_COMPRESS_XZ: rc = run_xz(&d); break;
	case GS_COMPRESS_GZIP: rc = run_gzip(&d); break;
	default: rc = run_lz4(&d); break;
	}
	if (rc == 0 && d.out_pos)
		rc = flush_out(&d);
	if (rc == 0)
		rc = gs_sparse_finish(&d.so, err);
	if (rc != 0 && err && err->code == GS_EINTERNAL && strncmp(err->msg, path, strlen(path)) != 0)
		gs_err_wrap(err, "%s: decompressing", path);
	report(&d, 1);
	free(d.in);
	free(d.out);
	if (rc != 0) {
		close(out_fd);
		return -1;
	}
	*truncated = d.truncated;
	return out_fd;
}
