/* Compressed cores (target/core_decompress.c): each format, compressed here with its own
 * library, comes back byte for byte; zero blocks become holes in the temporary file; the
 * temporary file leaves nothing in $TMPDIR; a cut stream gives its prefix and says so; a
 * corrupt one is an input error naming the file; the core target reads a compressed core,
 * and a cut one as a truncated core. */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "gs_check.h"
#include "../../analyzer/src/target/core_decompress.h"
#include "../../analyzer/src/target/target.h"

#define MiB ((size_t)1 << 20)
#define PLAIN_SIZE (8 * MiB + 100) /* not a whole number of blocks */

typedef struct buf {
	unsigned char *p;
	size_t n;
} buf;

/* Looks like a core: mostly zero, with runs of data here and there (and at the very end,
 * so the last, partial block is data). */
static buf plain(void)
{
	buf b = {calloc(1, PLAIN_SIZE), PLAIN_SIZE};
	uint32_t x = 12345;
	for (size_t i = 0; i < 3 * 4096 + 17; i++) /* headers */
		b.p[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 16);
	for (size_t i = 3 * MiB + 4096; i < 3 * MiB + 5 * 4096; i++)
		b.p[i] = (unsigned char)(i * 7);
	for (size_t i = PLAIN_SIZE - 50; i < PLAIN_SIZE; i++)
		b.p[i] = 0xab;
	return b;
}

static buf compress_zstd(buf in)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1); /* as the zstd tool does */
	buf out = {malloc(ZSTD_compressBound(in.n)), 0};
	out.n = ZSTD_compress2(c, out.p, ZSTD_compressBound(in.n), in.p, in.n);
	ck_assert(!ZSTD_isError(out.n));
	ZSTD_freeCCtx(c);
	return out;
}

static buf compress_xz(buf in)
{
	size_t cap = lzma_stream_buffer_bound(in.n);
	buf out = {malloc(cap), 0};
	ck_assert_int_eq(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, in.p, in.n, out.p,
						 &out.n, cap), LZMA_OK);
	return out;
}

static buf compress_gzip(buf in)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	ck_assert_int_eq(deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	size_t cap = deflateBound(&z, in.n);
	buf out = {malloc(cap), 0};
	z.next_in = in.p;
	z.avail_in = (uInt)in.n;
	z.next_out = out.p;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	out.n = z.total_out;
	deflateEnd(&z);
	return out;
}

static buf compress_lz4(buf in)
{
	LZ4F_preferences_t prefs;
	memset(&prefs, 0, sizeof prefs);
	prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled; /* as lz4 does */
	size_t cap = LZ4F_compressFrameBound(in.n, &prefs);
	buf out = {malloc(cap), 0};
	out.n = LZ4F_compressFrame(out.p, cap, in.p, in.n, &prefs);
	ck_assert(!LZ4F_isError(out.n));
	return out;
}

static const struct {
	enum gs_compression format;
	buf (*compress)(buf);
} formats[] = {
	{GS_COMPRESS_ZSTD, compress_zstd},
	{GS_COMPRESS_XZ, compress_xz},
	{GS_COMPRESS_GZIP, compress_gzip},
	{GS_COMPRESS_LZ4, compress_lz4},
};
#define NFORMATS (sizeof formats / sizeof formats[0])

/* A fresh $TMPDIR for the temporary files, and a place for the inputs. */
typedef struct dirs {
	char tmp[64], in[64], path[96];
} dirs;

static void make_dirs(dirs *d)
{
	strcpy(d->tmp, "/tmp/gs-dtmp-XXXXXX");
	strcpy(d->in, "/tmp/gs-din-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d->tmp));
	ck_assert_ptr_nonnull(mkdtemp(d->in));
	setenv("TMPDIR", d->tmp, 1);
}

static int dir_is_empty(const char *path)
{
	DIR *dir = opendir(path);
	ck_assert_ptr_nonnull(dir);
	int n = 0;
	for (struct dirent *e; (e = readdir(dir));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(dir);
	return n == 0;
}

static void remove_dirs(dirs *d)
{
	ck_assert_msg(dir_is_empty(d->tmp), "nothing left in TMPDIR");
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", d->tmp, d->in);
	ck_assert_int_eq(system(cmd), 0);
	unsetenv("TMPDIR");
}

/* Writes b as a file and opens it. */
static int input(dirs *d, const char *name, const void *p, size_t n)
{
	snprintf(d->path, sizeof d->path, "%s/%s", d->in, name);
	FILE *f = fopen(d->path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
	int fd = open(d->path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static unsigned char *read_all(int fd, size_t n)
{
	unsigned char *p = malloc(n ? n : 1);
	ck_assert_int_eq(pread(fd, p, n, 0), (ssize_t)n);
	return p;
}

static uint64_t disk_bytes(int fd)
{
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

static uint64_t file_size(int fd)
{
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	return (uint64_t)st.st_size;
}

START_TEST(test_decompress_detects_by_content)
{
	static const unsigned char zst[] = {0x28, 0xb5, 0x2f, 0xfd, 0x24},
				   xz[] = {0xfd, '7', 'z', 'X', 'Z', 0, 0},
				   gz[] = {0x1f, 0x8b, 8}, lz4[] = {0x04, 0x22, 0x4d, 0x18, 0x64},
				   bz2[] = {'B', 'Z', 'h', '9', '1'}, elf[] = {0x7f, 'E', 'L', 'F', 2};
	ck_assert_int_eq(gs_compression_detect(zst, sizeof zst), GS_COMPRESS_ZSTD);
	ck_assert_int_eq(gs_compression_detect(xz, sizeof xz), GS_COMPRESS_XZ);
	ck_assert_int_eq(gs_compression_detect(gz, sizeof gz), GS_COMPRESS_GZIP);
	ck_assert_int_eq(gs_compression_detect(lz4, sizeof lz4), GS_COMPRESS_LZ4);
	ck_assert_int_eq(gs_compression_detect(bz2, sizeof bz2), GS_COMPRESS_BZIP2);
	ck_assert_int_eq(gs_compression_detect(elf, sizeof elf), GS_COMPRESS_NONE);
	ck_assert_int_eq(gs_compression_detect(xz, 3), GS_COMPRESS_NONE); /* too short */
	ck_assert_int_eq(gs_compression_detect(zst, 0), GS_COMPRESS_NONE);
}
END_TEST

START_TEST(test_decompress_zero_blocks_are_holes)
{
	dirs d;
	make_dirs(&d);
	gs_err err = {0};
	int fd = gs_anon_tmpfile(&err);
	ck_assert_msg(fd >= 0, "%s", err.msg);
	ck_assert_msg(dir_is_empty(d.tmp), "the temporary file has no name");
	/* 64 MiB of which two blocks hold data, written a MiB at a time, then 100 zero bytes. */
	gs_sparse_out so = {fd, 0};
	unsigned char *chunk = calloc(1, MiB);
	for (size_t i = 0; i < 64; i++) {
		memset(chunk, 0, MiB);
		if (i == 0)
			memset(chunk + 10, 0x5a, 20);
		if (i == 5)
			chunk[4096 + 4095] = 1;
		ck_assert_int_eq(gs_sparse_write(&so, chunk, MiB, &err), 0);
	}
	memset(chunk, 0, 100);
	ck_assert_int_eq(gs_sparse_write(&so, chunk, 100, &err), 0);
	ck_assert_int_eq(gs_sparse_finish(&so, &err), 0);
	ck_assert_uint_eq(file_size(fd), 64 * MiB + 100);
	ck_assert_msg(disk_bytes(fd) <= 64 << 10, "64 MiB with two data blocks takes %llu bytes",
		      (unsigned long long)disk_bytes(fd));
	/* The file system agrees where the holes are. */
	ck_assert_int_eq(lseek(fd, 0, SEEK_HOLE), 4096);
	ck_assert_int_eq(lseek(fd, 4096, SEEK_DATA), (off_t)(5 * MiB + 4096));
	ck_assert_int_eq(lseek(fd, 5 * MiB + 4096, SEEK_HOLE), (off_t)(5 * MiB + 8192));
	unsigned char got[64];
	ck_assert_int_eq(pread(fd, got, sizeof got, 0), (ssize_t)sizeof got);
	for (size_t i = 0; i < sizeof got; i++)
		ck_assert_uint_eq(got[i], i >= 10 && i < 30 ? 0x5a : 0);
	ck_assert_int_eq(pread(fd, got, 2, 5 * MiB + 8191), 2);
	ck_assert_uint_eq(got[0], 1);
	ck_assert_uint_eq(got[1], 0);
	free(chunk);
	close(fd);
	remove_dirs(&d);
}
END_TEST

/* Decompresses file fd; returns the output fd (or -1) with *cut and err set. */
static int run(int fd, const char *path, enum gs_compression f, int *cut, gs_err *err)
{
	unsigned char head[8];
	ck_assert_int_eq(pread(fd, head, sizeof head, 0), (ssize_t)sizeof head);
	ck_assert_int_eq(gs_compression_detect(head, sizeof head), f);
	return gs_core_decompress(fd, path, f, NULL, NULL, cut, err);
}

START_TEST(test_decompress_round_trip_each_format)
{
	dirs d;
	make_dirs(&d);
	buf p = plain();
	for (size_t i = 0; i < NFORMATS; i++) {
		buf c = formats[i].compress(p);
		/* Two streams back to back (zstd frames, xz streams, gzip members, lz4 frames
		 * concatenate): the output is both. */
		unsigned char *two = malloc(2 * c.n);
		memcpy(two, c.p, c.n);
		memcpy(two + c.n, c.p, c.n);
		for (int n = 1; n <= 2; n++) {
			int in = input(&d, "core", two, n * c.n);
			gs_err err = {0};
			int cut = -1;
			int out = run(in, d.path, formats[i].format, &cut, &err);
			ck_assert_msg(out >= 0, "%s: %s", gs_compression_name(formats[i].format),
				      err.msg);
			ck_assert_int_eq(cut, 0);
			ck_assert_uint_eq(file_size(out), n * p.n);
			unsigned char *got = read_all(out, n * p.n);
			for (int k = 0; k < n; k++)
				ck_assert_msg(memcmp(got + k * p.n, p.p, p.n) == 0,
					      "%s: the bytes come back",
					      gs_compression_name(formats[i].format));
			/* 8 MiB a stream, 6 blocks of data and a partial one. */
			ck_assert_msg(disk_bytes(out) <= (uint64_t)n * 64 << 10,
				      "%s: the output is sparse (%llu bytes on disk)",
				      gs_compression_name(formats[i].format),
				      (unsigned long long)disk_bytes(out));
			free(got);
			close(out);
			close(in);
		}
		free(two);
		free(c.p);
	}
	free(p.p);
	remove_dirs(&d);
}
END_TEST

START_TEST(test_decompress_cut_stream_gives_its_prefix)
{
	dirs d;
	make_dirs(&d);
	buf p = plain();
	for (size_t i = 0; i < NFORMATS; i++) {
		buf c = formats[i].compress(p);
		/* Most of the stream, and all but the last byte (its check or end mark). */
		size_t cuts[] = {c.n * 3 / 4, c.n - 1};
		for (size_t k = 0; k < 2; k++) {
			int in = input(&d, "core.cut", c.p, cuts[k]);
			gs_err err = {0};
			int cut = 0;
			int out = run(in, d.path, formats[i].format, &cut, &err);
			const char *name = gs_compression_name(formats[i].format);
			ck_assert_msg(out >= 0, "%s: %s", name, err.msg);
			ck_assert_msg(cut == 1, "%s cut at %zu of %zu: said so", name, cuts[k], c.n);
			uint64_t n = file_size(out);
			ck_assert_uint_le(n, p.n);
			unsigned char *got = read_all(out, n);
			ck_assert_msg(memcmp(got, p.p, n) == 0, "%s: a prefix of the data", name);
			free(got);
			close(out);
			close(in);
		}
		free(c.p);
	}
	free(p.p);
	remove_dirs(&d);
}
END_TEST

START_TEST(test_decompress_corrupt_stream_is_an_input_error)
{
	dirs d;
	make_dirs(&d);
	buf p = plain();
	for (size_t i = 0; i < NFORMATS; i++) {
		buf c = formats[i].compress(p);
		for (size_t k = c.n / 2; k < c.n / 2 + 16; k++)
			c.p[k] ^= 0xa5;
		int in = input(&d, "core.bad", c.p, c.n);
		gs_err err = {0};
		int cut = 0;
		const char *name = gs_compression_name(formats[i].format);
		int out = run(in, d.path, formats[i].format, &cut, &err);
		ck_assert_msg(out < 0, "%s: corrupt data is refused (cut %d, size %llu)", name, cut,
			      out < 0 ? 0ull : (unsigned long long)file_size(out));
		ck_assert_int_eq(err.code, GS_EINPUT);
		ck_assert_msg(strncmp(err.msg, d.path, strlen(d.path)) == 0 &&
			      strstr(err.msg, "corrupt") && strstr(err.msg, name),
			      "%s: the message names the file and the problem: %s", name, err.msg);
		ck_assert_ptr_null(strchr(err.msg, '\n'));
		close(in);
		free(c.p);
	}
	free(p.p);
	remove_dirs(&d);
}
END_TEST

typedef struct seen {
	int calls, finished;
	uint64_t last_out;
} seen;

static void count(void *ctx, const gs_decompress_progress *p)
{
	seen *s = ctx;
	s->calls++;
	s->finished += p->finished;
	ck_assert_uint_ge(p->out_done, s->last_out);
	s->last_out = p->out_done;
	ck_assert_uint_le(p->in_done, p->in_total);
}

START_TEST(test_decompress_reports_progress)
{
	dirs d;
	make_dirs(&d);
	buf p = plain();
	buf c = compress_zstd(p);
	int in = input(&d, "core.zst", c.p, c.n);
	gs_err err = {0};
	int cut = 0;
	seen s = {0};
	int out = gs_core_decompress(in, d.path, GS_COMPRESS_ZSTD, count, &s, &cut, &err);
	ck_assert_int_ge(out, 0);
	ck_assert_int_ge(s.calls, 3); /* start, along the way, end */
	ck_assert_int_eq(s.finished, 1);
	ck_assert_uint_eq(s.last_out, p.n);
	close(out);
	close(in);
	free(c.p);
	free(p.p);
	remove_dirs(&d);
}
END_TEST

/* A minimal core: the ELF header, one PT_LOAD of three pages at 0x400000 (file offset
 * 0x1000). Compressed by zstd in 4 KiB steps, each flushed, so a cut falls between pages. */
#define MINI_VADDR 0x400000ull
#define MINI_SIZE 0x4000

static unsigned char mini_byte(uint64_t a)
{
	return (unsigned char)(a * 29 + (a >> 9) + 1);
}

static buf mini_core_zstd(size_t *page_ends)
{
	static unsigned char img[MINI_SIZE];
	memset(img, 0, sizeof img);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof *eh;
	eh->e_ehsize = sizeof *eh;
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 1;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof *eh);
	*ph = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = 0x1000,
			   .p_vaddr = MINI_VADDR, .p_filesz = 0x3000, .p_memsz = 0x3000,
			   .p_align = 4096};
	for (uint64_t i = 0; i < 0x3000; i++)
		img[0x1000 + i] = mini_byte(MINI_VADDR + i);
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	buf out = {malloc(ZSTD_compressBound(MINI_SIZE) + 4096), 0};
	ZSTD_outBuffer ob = {out.p, ZSTD_compressBound(MINI_SIZE) + 4096, 0};
	for (size_t pg = 0; pg < MINI_SIZE / 4096; pg++) {
		ZSTD_inBuffer ib = {img + pg * 4096, 4096, 0};
		int last = pg == MINI_SIZE / 4096 - 1;
		size_t r;
		do
			r = ZSTD_compressStream2(c, &ob, &ib, last ? ZSTD_e_end : ZSTD_e_flush);
		while (r != 0 && !ZSTD_isError(r));
		ck_assert(!ZSTD_isError(r));
		page_ends[pg] = ob.pos;
	}
	out.n = ob.pos;
	ZSTD_freeCCtx(c);
	return out;
}

START_TEST(test_decompress_core_target_reads_compressed_core)
{
	dirs d;
	make_dirs(&d);
	size_t ends[MINI_SIZE / 4096];
	buf z = mini_core_zstd(ends);
	unsigned char got[0x3000];
	gs_err err = {0};

	close(input(&d, "core", z.p, z.n)); /* the name says nothing: the content does */
	gs_target *t = gs_core_target_open(d.path, &err);
	ck_assert_msg(t != NULL, "%s", err.msg);
	ck_assert_str_eq(gs_target_name(t), d.path);
	ck_assert_uint_eq(gs_target_missing_bytes(t), 0);
	ck_assert_int_eq(gs_target_read(t, MINI_VADDR, got, 0x3000, &err), 0);
	for (uint64_t i = 0; i < 0x3000; i++)
		ck_assert_uint_eq(got[i], mini_byte(MINI_VADDR + i));
	gs_target_close(t);

	/* Cut after the third page: the last page of the segment is missing, as in a core
	 * file cut there. */
	close(input(&d, "core.cut", z.p, ends[2] + 5));
	t = gs_core_target_open(d.path, &err);
	ck_assert_msg(t != NULL, "%s", err.msg);
	ck_assert_uint_eq(gs_target_missing_bytes(t), 0x1000);
	ck_assert_int_eq(gs_target_read(t, MINI_VADDR, got, 0x2000, &err), 0);
	ck_assert_uint_eq(got[0x1fff], mini_byte(MINI_VADDR + 0x1fff));
	ck_assert_int_eq(gs_target_read(t, MINI_VADDR + 0x2000, got, 8, &err), -1);
	gs_target_close(t);

	/* Cut inside the ELF header's page: nothing to analyse, and the message says why. */
	close(input(&d, "core.short", z.p, ends[0] - 3));
	ck_assert_ptr_null(gs_core_target_open(d.path, &err));
	ck_assert_int_eq(err.code, GS_EINPUT);
	ck_assert_msg(strncmp(err.msg, d.path, strlen(d.path)) == 0 &&
		      strstr(err.msg, "zstd stream ends early"), "%s", err.msg);
	free(z.p);
	remove_dirs(&d);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("core_decompress");
	TCase *tc = tcase_create("core_decompress");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_decompress_detects_by_content);
	tcase_add_test(tc, test_decompress_zero_blocks_are_holes);
	tcase_add_test(tc, test_decompress_round_trip_each_format);
	tcase_add_test(tc, test_decompress_cut_stream_gives_its_prefix);
	tcase_add_test(tc, test_decompress_corrupt_stream_is_an_input_error);
	tcase_add_test(tc, test_decompress_reports_progress);
	tcase_add_test(tc, test_decompress_core_target_reads_compressed_core);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
