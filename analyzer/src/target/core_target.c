/* Target over an ELF core file.
 *
 * The file is mapped read-only and never read whole: a gcore of a Go program is mostly
 * sparse reserved heap. libelf checks the ELF and program headers; the notes are parsed by
 * core_notes.c. Memory is copied out with pread (through the target's page cache for small
 * objects), never touched through the mapping: mapped pages count in the process's RSS, and
 * the kernel maps tens of KiB around each fault, so reading objects scattered over a large
 * heap that way grew RSS to the heap's size. Bytes of a PT_LOAD beyond p_filesz (not dumped, or cut off by a truncated
 * file) are left to the backing regions that target.c consults.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "core_decompress.h"
#include "core_notes.h"
#include "target_impl.h"

#define MAX_PHDRS (1u << 20)

typedef struct core_seg {
	uint64_t vaddr, memsz;
	uint64_t avail; /* bytes present in the file: p_filesz cut to the file's size */
	const uint8_t *data;
} core_seg;

typedef struct core_impl {
	uint8_t *map;
	size_t size;
	core_seg *segs; /* sorted by vaddr */
	size_t nsegs;
	int fd;         /* the core, for bulk reads */
	uint64_t missing; /* dumped bytes beyond the end of a truncated file */
} core_impl;

/* Index of the last segment starting at or below addr, or SIZE_MAX. */
static size_t seg_floor(const core_impl *c, uint64_t addr)
{
	size_t lo = 0, hi = c->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->segs[mid].vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : SIZE_MAX;
}

static size_t core_read(gs_target *t, uint64_t addr, void *dst, size_t n)
{
	const core_impl *c = t->impl;
	uint8_t *out = dst;
	size_t done = 0;
	while (done < n) {
		uint64_t a = addr + done;
		size_t i = seg_floor(c, a);
		if (i == SIZE_MAX)
			break;
		const core_seg *s = &c->segs[i];
		uint64_t rel = a - s->vaddr;
		if (rel >= s->avail)
			break;
		size_t k = n - done;
		if (k > s->avail - rel)
			k = (size_t)(s->avail - rel);
		ssize_t r = pread(c->fd, out + done, k, (off_t)((size_t)(s->data - c->map) + rel));
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	return done;
}

static uint64_t core_missing(const gs_target *t)
{
	const core_impl *c = t->impl;
	return c->missing;
}

static uint64_t core_next(gs_target *t, uint64_t addr)
{
	const core_impl *c = t->impl;
	size_t i = seg_floor(c, addr);
	for (i = i == SIZE_MAX ? 0 : i + 1; i < c->nsegs; i++)
		if (c->segs[i].avail)
			return c->segs[i].vaddr;
	return UINT64_MAX;
}

static void core_destroy(gs_target *t)
{
	core_impl *c = t->impl;
	if (!c)
		return;
	if (c->map)
		munmap(c->map, c->size);
	if (c->fd > 0)
		close(c->fd);
	free(c->segs);
	free(c);
}

static int core_mapped(const gs_target *t, uint64_t addr)
{
	const core_impl *c = t->impl;
	size_t i = seg_floor(c, addr);
	return i != SIZE_MAX && addr - c->segs[i].vaddr < c->segs[i].memsz;
}

static const gs_target_ops core_ops = {
	.read = core_read, .next = core_next, .destroy = core_destroy,
	.missing = core_missing, .mapped = core_mapped,
};

static int seg_cmp(const void *a, const void *b)
{
	const core_seg *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static const char *elf_type_name(unsigned type)
{
	switch (type) {
	case ET_NONE: return "NONE";
	case ET_REL: return "REL";
	case ET_EXEC: return "EXEC";
	case ET_DYN: return "DYN";
	default: return "unknown";
	}
}

/* Checks the identification bytes before libelf sees the file, so the common mistakes get
 * plain messages. */
static int check_ident(const char *path, int fd, size_t size, gs_err *err)
{
	unsigned char id[EI_NIDENT] = { 0 };
	size_t want = size < sizeof id ? size : sizeof id;
	if (pread(fd, id, want, 0) != (ssize_t)want)
		return gs_errf(err, GS_EINPUT, "%s: cannot read: %s", path, strerror(errno));
	size_t magic = want < SELFMAG ? want : SELFMAG;
	if (memcmp(id, ELFMAG, magic) != 0 || size == 0)
		return gs_errf(err, GS_EINPUT, "%s: not an ELF file", path);
	if (size < sizeof(Elf64_Ehdr))
		return gs_errf(err, GS_EINPUT,
			       "%s: truncated core file (%zu bytes, the ELF header needs %zu)", path,
			       size, sizeof(Elf64_Ehdr));
	if (id[EI_CLASS] != ELFCLASS64)
		return gs_errf(err, GS_EINPUT, "%s: not a 64-bit ELF file (class %u)", path,
			       id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		return gs_errf(err, GS_EINPUT, "%s: not a little-endian ELF file", path);
	return 0;
}

static int load_headers(gs_target *t, core_impl *c, const char *path, gs_err *err)
{
	Elf *elf = elf_memory((char *)c->map, c->size);
	int rc = -1;
	GElf_Ehdr eh;
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		gs_errf(err, GS_EINPUT, "%s: not an ELF file (%s)", path, elf_errmsg(-1));
		goto out;
	}
	if (eh.e_type != ET_CORE) {
		gs_errf(err, GS_EINPUT, "%s: not a core file (ELF type %s)", path,
			elf_type_name(eh.e_type));
		goto out;
	}
	if (eh.e_machine != EM_X86_64) {
		gs_errf(err, GS_EINPUT, "%s: not an x86-64 core (ELF machine %u)", path,
			eh.e_machine);
		goto out;
	}
	/* elf_getphdrnum quietly cuts the count to what fits in the file, which would hide a
	 * truncation; e_phnum is the truth unless it overflowed into section 0 (PN_XNUM). */
	size_t phnum = eh.e_phnum;
	if (phnum == PN_XNUM && elf_getphdrnum(elf, &phnum) != 0) {
		gs_errf(err, GS_EINPUT, "%s: corrupt core file (program header count: %s)", path,
			elf_errmsg(-1));
		goto out;
	}
	if (phnum > MAX_PHDRS || (phnum && eh.e_phentsize != sizeof(Elf64_Phdr))) {
		gs_errf(err, GS_EINPUT, "%s: corrupt core file (%zu program headers of %u bytes)",
			path, phnum, eh.e_phentsize);
		goto out;
	}
	if (eh.e_phoff > c->size || phnum * sizeof(Elf64_Phdr) > c->size - eh.e_phoff) {
		gs_errf(err, GS_EINPUT,
			"%s: truncated core file (program headers end at %" PRIu64 ", file has %zu "
			"bytes)", path, (uint64_t)eh.e_phoff + phnum * sizeof(Elf64_Phdr), c->size);
		goto out;
	}
	c->segs = gs_calloc(phnum ? phnum : 1, sizeof *c->segs, err);
	if (!c->segs)
		goto out;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph)) {
			gs_errf(err, GS_EINPUT, "%s: corrupt program header %zu (%s)", path, i,
				elf_errmsg(-1));
			goto out;
		}
		if (ph.p_type == PT_NOTE) {
			/* gcore writes the notes last: a core cut short loses them first. What is
			 * there is kept; the rest is a problem the layers above report. */
			uint64_t have = ph.p_offset >= c->size ? 0 : c->size - ph.p_offset;
			if (have > ph.p_filesz)
				have = ph.p_filesz;
			gs_err ne = { 0 };
			int bad = gs_core_parse_notes(t, path, c->map + (have ? ph.p_offset : 0),
						      (size_t)have, ph.p_offset, &ne);
			char why[1100];
			if (have < ph.p_filesz)
				snprintf(why, sizeof why, "its notes are cut off (%" PRIu64 " of %" PRIu64
					 " bytes present)", have, (uint64_t)ph.p_filesz);
			else if (bad) {
				const char *m = ne.msg;
				size_t pl = strlen(path);
				if (strncmp(m, path, pl) == 0 && m[pl] == ':')
					m += pl + 2; /* the layers above name the file */
				snprintf(why, sizeof why, "%s", m);
			}
			if ((have < ph.p_filesz || bad) && !t->notes_problem)
				t->nomem |= !(t->notes_problem = gs_strdup(why, NULL));
		} else if (ph.p_type == PT_LOAD && ph.p_memsz) {
			core_seg *s = &c->segs[c->nsegs++];
			s->vaddr = ph.p_vaddr;
			/* A hostile segment may not wrap the address space. */
			s->memsz = ph.p_memsz > 0 - ph.p_vaddr && ph.p_vaddr ? 0 - ph.p_vaddr
									     : ph.p_memsz;
			uint64_t avail = ph.p_offset >= c->size ? 0 : c->size - ph.p_offset;
			if (avail > ph.p_filesz)
				avail = ph.p_filesz;
			if (avail > s->memsz)
				avail = s->memsz;
			s->avail = avail;
			s->data = avail ? c->map + ph.p_offset : NULL;
			/* Dumped bytes the file no longer holds: a core cut short in a copy. */
			uint64_t want = ph.p_filesz < s->memsz ? ph.p_filesz : s->memsz;
			if (avail < want)
				c->missing += want - avail;
		}
	}
	if (c->nsegs)
		qsort(c->segs, c->nsegs, sizeof *c->segs, seg_cmp);
	rc = 0;
out:
	elf_end(elf);
	return rc;
}

/* Opens the core in fd, which it takes over. */
static gs_target *open_fd(const char *path, int fd, gs_err *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		gs_errf(err, GS_EINPUT, "%s: cannot stat: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	size_t size = (size_t)st.st_size;
	if (check_ident(path, fd, size, err) != 0) {
		close(fd);
		return NULL;
	}
	core_impl *c = gs_calloc(1, sizeof *c, err);
	if (!c) {
		close(fd);
		return NULL;
	}
	/* A file truncated after this point raises SIGBUS on access; cores are not expected
	 * to change under us. */
	void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		gs_errf(err, errno == ENOMEM ? GS_EINTERNAL : GS_EINPUT, "%s: cannot map: %s", path,
			errno == ENOMEM ? "out of memory" : strerror(errno));
		close(fd);
		free(c);
		return NULL;
	}
	c->fd = fd;
	c->map = map;
	c->size = size;
	gs_target *t = gs_target_new(GS_TARGET_CORE, path, &core_ops, c, err);
	if (!t) {
		munmap(map, size);
		close(fd);
		free(c);
		return NULL;
	}
	elf_version(EV_CURRENT);
	if (load_headers(t, c, path, err) != 0) {
		gs_target_close(t);
		return NULL;
	}
	gs_target_exe_from_auxv(t);
	if (gs_target_alloc_check(t, err) != 0) {
		gs_target_close(t);
		return NULL;
	}
	return t;
}

gs_target *gs_core_target_open(const char *path, gs_err *err)
{
	return gs_core_target_open_progress(path, NULL, NULL, err);
}

gs_target *gs_core_target_open_progress(const char *path, gs_decompress_progress_fn progress,
					void *progress_ctx, gs_err *err)
{
	/* O_NONBLOCK: opening a FIFO or a device must not wait for a writer; it is refused
	 * below without ever being read. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		gs_errf(err, GS_EINPUT, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		gs_errf(err, GS_EINPUT, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	unsigned char head[8];
	ssize_t n = pread(fd, head, sizeof head, 0);
	enum gs_compression c = gs_compression_detect(head, n > 0 ? (size_t)n : 0);
	if (c == GS_COMPRESS_NONE)
		return open_fd(path, fd, err);
	/* Compressed: read from its decompressed copy, like any core. */
	int cut = 0;
	int out = gs_core_decompress(fd, path, c, progress, progress_ctx, &cut, err);
	close(fd);
	if (out < 0)
		return NULL;
	gs_target *t = open_fd(path, out, err);
	if (t && cut) { /* said with the core's other damage (warnings, a failure to read) */
		char m[512];
		snprintf(m, sizeof m, "the %s stream ends early, so the core in it is cut short%s%s",
			 gs_compression_name(c), t->notes_problem ? "; " : "",
			 t->notes_problem ? t->notes_problem : "");
		free(t->notes_problem);
		if (!(t->notes_problem = gs_strdup(m, err))) {
			gs_target_close(t);
			return NULL;
		}
	}
	/* A stream cut short holds the start of the core, analysed as a truncated core; when
	 * even that fails, the reason is the cut, not the core. */
	if (!t && cut && err) {
		size_t k = strlen(path);
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s", strncmp(err->msg, path, k) == 0 &&
			 strncmp(err->msg + k, ": ", 2) == 0 ? err->msg + k + 2 : err->msg);
		gs_errf(err, GS_EINPUT, "%s: the %s stream ends early, so the core in it is cut "
			"short: %s", path, gs_compression_name(c), why);
	}
	return t;
}
