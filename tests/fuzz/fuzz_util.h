/* Helpers shared by the libFuzzer targets: a per-process scratch file for inputs that the
 * library only takes by path, and a minimal ELF64 writer for synthetic executables. */
#ifndef GS_TESTS_FUZZ_UTIL_H
#define GS_TESTS_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fz_path[256];

static void fz_cleanup(void)
{
	if (fz_path[0])
		unlink(fz_path);
}

/* Writes data to a scratch file (tmpfs when there is one, removed at exit) and returns its
 * path. */
static inline const char *fz_write_file(const char *tag, const uint8_t *data, size_t size)
{
	char *path = fz_path;
	if (!path[0]) {
		const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(path, sizeof fz_path, "%s/gs-fuzz-%s-%d", dir, tag, (int)getpid());
		atexit(fz_cleanup);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	for (size_t off = 0; off < size;) {
		ssize_t k = write(fd, data + off, size - off);
		if (k <= 0)
			abort();
		off += (size_t)k;
	}
	close(fd);
	return path;
}

/* A minimal ELF64 executable with one PT_LOAD covering all sections and the given sections
 * (name, address, contents); returns a malloc'd image and its size. */
typedef struct fz_sec {
	const char *name;
	uint64_t addr;
	const uint8_t *data;
	size_t size;
} fz_sec;

static inline uint8_t *fz_make_elf(const fz_sec *secs, size_t nsec, size_t *outsize)
{
	/* layout: ehdr(64) phdr(56) | section data... | shstrtab | shdrs */
	size_t off = 64 + 56, strsz = 1 + sizeof ".shstrtab";
	for (size_t i = 0; i < nsec; i++)
		strsz += strlen(secs[i].name) + 1;
	size_t *doff = calloc(nsec + 1, sizeof *doff);
	for (size_t i = 0; i < nsec; i++) {
		off = (off + 15) & ~(size_t)15;
		doff[i] = off;
		off += secs[i].size;
	}
	size_t stroff = off;
	off += strsz;
	off = (off + 7) & ~(size_t)7;
	size_t shoff = off, shnum = nsec + 2;
	size_t total = shoff + shnum * 64;
	uint8_t *b = calloc(1, total);
	/* ELF header */
	memcpy(b, "\x7f" "ELF\x02\x01\x01", 7);
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
#define W16(o, v) (u16 = (uint16_t)(v), memcpy(b + (o), &u16, 2))
#define W32(o, v) (u32 = (uint32_t)(v), memcpy(b + (o), &u32, 4))
#define W64(o, v) (u64 = (uint64_t)(v), memcpy(b + (o), &u64, 8))
	W16(16, 2);   /* ET_EXEC */
	W16(18, 62);  /* EM_X86_64 */
	W32(20, 1);
	W64(24, nsec ? secs[0].addr : 0x400000);
	W64(32, 64);  /* phoff */
	W64(40, shoff);
	W16(52, 64);
	W16(54, 56);
	W16(56, 1);
	W16(58, 64);
	W16(60, shnum);
	W16(62, shnum - 1); /* shstrndx */
	/* one PT_LOAD mapping file offset 0 at the first section's address minus its offset */
	uint64_t base = nsec ? secs[0].addr - doff[0] : 0x400000;
	W32(64, 1);
	W32(68, 5);
	W64(72, 0);
	W64(80, base);
	W64(88, base);
	W64(96, stroff);
	W64(104, stroff);
	W64(112, 0x1000);
	/* section data and names */
	size_t np = stroff + 1;
	uint8_t *str = b + stroff;
	for (size_t i = 0; i < nsec; i++) {
		if (secs[i].size)
			memcpy(b + doff[i], secs[i].data, secs[i].size);
		size_t sh = shoff + (i + 1) * 64;
		W32(sh, np - stroff);
		memcpy(b + np, secs[i].name, strlen(secs[i].name) + 1);
		np += strlen(secs[i].name) + 1;
		W32(sh + 4, 1); /* PROGBITS */
		W64(sh + 8, 2); /* ALLOC */
		W64(sh + 16, base + doff[i]);
		W64(sh + 24, doff[i]);
		W64(sh + 32, secs[i].size);
		W64(sh + 48, 1);
	}
	size_t sh = shoff + (nsec + 1) * 64;
	W32(sh, np - stroff);
	memcpy(b + np, ".shstrtab", sizeof ".shstrtab");
	W32(sh + 4, 3); /* STRTAB */
	W64(sh + 24, stroff);
	W64(sh + 32, strsz);
	W64(sh + 48, 1);
	(void)str;
#undef W16
#undef W32
#undef W64
	free(doff);
	*outsize = total;
	return b;
}

#endif
