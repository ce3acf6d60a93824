#include "elf_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>
#include <libdeflate.h>

#include "../util/alloc.h"
#include "../util/hash.h"

/* A decompressed section larger than this is taken as a hostile header, not as data. */
#define GS_MAX_INFLATED ((uint64_t)1 << 32)

typedef struct gs_symbol {
	const char *name;
	uint64_t addr, size;
} gs_symbol;

struct gs_binary {
	char *path;
	int fd;
	Elf *elf;
	/* The whole file, mapped read-only: section contents and segment reads come from here
	 * so that every bound is a plain comparison against map_size. */
	const uint8_t *map;
	size_t map_size;
	bool pie;
	uint64_t entry;

	gs_section *secs;
	size_t nsecs;
	uint8_t **inflated; /* per section: decompressed contents, or NULL */

	gs_segment *segs;
	size_t nsegs;

	gs_symbol *syms;
	size_t nsyms;
	uint32_t *symhash; /* open addressing; slot = index + 1, 0 = empty */
	size_t symhash_cap;

	char *gnu_build_id;
	char *go_build_id;

	/* R_X86_64_RELATIVE relocations of a PIE, sorted by offset: a pointer the file holds
	 * as 0 gets its link value from the addend. */
	uint64_t *rel_off, *rel_add;
	size_t nrel;
	bool nomem; /* symbols, build ids or relocations could not be allocated */
};

/* True when [off, off+len) lies inside a file of the given size. */
static bool in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

static int load_sections(gs_binary *b, gs_err *err)
{
	size_t n, strndx;
	if (elf_getshdrnum(b->elf, &n) != 0 || elf_getshdrstrndx(b->elf, &strndx) != 0)
		return gs_errf(err, GS_EINPUT, "%s: bad section headers: %s", b->path,
			       elf_errmsg(-1));
	GElf_Shdr strsh;
	if (n > 0 && strndx != SHN_UNDEF &&
	    (!gelf_getshdr(elf_getscn(b->elf, strndx), &strsh) ||
	     !in_file(strsh.sh_offset, strsh.sh_size, b->map_size)))
		return gs_errf(err, GS_EINPUT, "%s: truncated ELF (section names beyond end of file)",
			       b->path);
	b->secs = gs_calloc(n ? n : 1, sizeof *b->secs, err);
	b->inflated = b->secs ? gs_calloc(n ? n : 1, sizeof *b->inflated, err) : NULL;
	if (!b->inflated)
		return -1;
	for (size_t i = 0; i < n; i++) {
		Elf_Scn *scn = elf_getscn(b->elf, i);
		GElf_Shdr sh;
		if (!scn || !gelf_getshdr(scn, &sh))
			return gs_errf(err, GS_EINPUT, "%s: bad section header %zu: %s", b->path,
				       i, elf_errmsg(-1));
		const char *name = elf_strptr(b->elf, strndx, sh.sh_name);
		gs_section *s = &b->secs[b->nsecs++];
		s->name = name ? name : "";
		s->addr = sh.sh_addr;
		s->size = sh.sh_size;
		s->offset = sh.sh_offset;
		s->type = sh.sh_type;
		s->flags = sh.sh_flags;
		if ((sh.sh_flags & SHF_COMPRESSED) && sh.sh_type != SHT_NOBITS) {
			/* Report the uncompressed size, as the header promises; the header is
			 * validated again when the contents are asked for. */
			GElf_Chdr ch;
			if (gelf_getchdr(scn, &ch))
				s->size = ch.ch_size;
		}
	}
	return 0;
}

static int load_segments(gs_binary *b, gs_err *err)
{
	size_t n;
	if (elf_getphdrnum(b->elf, &n) != 0)
		return gs_errf(err, GS_EINPUT, "%s: bad program headers: %s", b->path,
			       elf_errmsg(-1));
	b->segs = gs_calloc(n ? n : 1, sizeof *b->segs, err);
	if (!b->segs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(b->elf, (int)i, &ph))
			return gs_errf(err, GS_EINPUT, "%s: bad program header %zu", b->path, i);
		if (ph.p_type != PT_LOAD)
			continue;
		gs_segment *s = &b->segs[b->nsegs++];
		s->vaddr = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->offset = ph.p_offset;
		s->filesz = ph.p_filesz;
		s->flags = ph.p_flags;
	}
	return 0;
}

static void symhash_insert(gs_binary *b, uint32_t idx)
{
	size_t mask = b->symhash_cap - 1;
	const char *name = b->syms[idx].name;
	for (size_t h = gs_hash_str(name) & mask;; h = (h + 1) & mask) {
		uint32_t slot = b->symhash[h];
		if (slot == 0) {
			b->symhash[h] = idx + 1;
			return;
		}
		if (strcmp(b->syms[slot - 1].name, name) == 0)
			return; /* first definition wins (Go rarely repeats a name) */
	}
}

/* The symbol index is built here, not lazily: the binary is shared read-only afterwards
 * and a hash of even 100k names takes a few milliseconds. */
static int load_symbols(gs_binary *b, uint32_t want_type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	while ((scn = elf_nextscn(b->elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &sh) && sh.sh_type == want_type)
			break;
	}
	if (!scn || sh.sh_entsize == 0)
		return -1;
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data)
		return -1;
	size_t n = data->d_size / sh.sh_entsize;
	if (n > UINT32_MAX / 4)
		return -1;
	b->syms = calloc(n ? n : 1, sizeof *b->syms);
	if (!b->syms) {
		b->nomem = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym) || sym.st_name == 0)
			continue;
		int type = GELF_ST_TYPE(sym.st_info);
		if (type == STT_SECTION || type == STT_FILE)
			continue;
		const char *name = elf_strptr(b->elf, sh.sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		b->syms[b->nsyms++] = (gs_symbol){name, sym.st_value, sym.st_size};
	}
	b->symhash_cap = 16;
	while (b->symhash_cap < b->nsyms * 2)
		b->symhash_cap *= 2;
	b->symhash = calloc(b->symhash_cap, sizeof *b->symhash);
	if (!b->symhash) {
		b->nomem = true;
		return 0;
	}
	for (size_t i = 0; i < b->nsyms; i++)
		symhash_insert(b, (uint32_t)i);
	return 0;
}

static char *hex_string(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

/* ELF notes: {namesz, descsz, type} then name and desc, each padded to 4 bytes. Go's
 * linker writes its name as "Go\0\0" (namesz 4). */
static void scan_notes(gs_binary *b, const uint8_t *p, uint64_t size)
{
	uint64_t off = 0;
	while (size - off >= 12) {
		uint32_t namesz, descsz, type;
		memcpy(&namesz, p + off, 4);
		memcpy(&descsz, p + off + 4, 4);
		memcpy(&type, p + off + 8, 4);
		off += 12;
		uint64_t name_pad = ((uint64_t)namesz + 3) & ~3ull;
		uint64_t desc_pad = ((uint64_t)descsz + 3) & ~3ull;
		if (name_pad > size - off || desc_pad > size - off - name_pad)
			return;
		const char *name = (const char *)p + off;
		const uint8_t *desc = p + off + name_pad;
		if (namesz == 4 && memcmp(name, "GNU", 4) == 0 && type == NT_GNU_BUILD_ID &&
		    !b->gnu_build_id && descsz > 0)
			b->nomem |= !(b->gnu_build_id = hex_string(desc, descsz));
		else if ((namesz == 3 || namesz == 4) && memcmp(name, "Go", 3) == 0 && type == 4 &&
			 !b->go_build_id) {
			/* The desc is the id string, sometimes NUL-padded. */
			size_t len = strnlen((const char *)desc, descsz);
			b->go_build_id = malloc(len + 1);
			if (!b->go_build_id) {
				b->nomem = true;
				return;
			}
			memcpy(b->go_build_id, desc, len);
			b->go_build_id[len] = '\0';
		}
		off += name_pad + desc_pad;
	}
}

static void load_build_ids(gs_binary *b)
{
	for (size_t i = 0; i < b->nsecs; i++) {
		const gs_section *s = &b->secs[i];
		if (s->type != SHT_NOTE || (s->flags & SHF_COMPRESSED))
			continue;
		if (in_file(s->offset, s->size, b->map_size))
			scan_notes(b, b->map + s->offset, s->size);
	}
}

static int map_file(gs_binary *b, gs_err *err)
{
	/* O_NONBLOCK: a FIFO or device named as the executable is refused, never waited on. */
	b->fd = open(b->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (b->fd < 0) {
		if (errno == ENOENT)
			return gs_errf(err, GS_EINPUT, "%s: no such file", b->path);
		return gs_errf(err, GS_EINPUT, "%s: %s", b->path, strerror(errno));
	}
	struct stat st;
	if (fstat(b->fd, &st) != 0)
		return gs_errf(err, GS_EINPUT, "%s: %s", b->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return gs_errf(err, GS_EINPUT, "%s: not a regular file", b->path);
	if ((uint64_t)st.st_size < EI_NIDENT)
		return gs_errf(err, GS_EINPUT, "%s: not an ELF file", b->path);
	b->map_size = (size_t)st.st_size;
	/* Writable but private: libelf may convert data in place, the file never changes. */
	void *m = mmap(NULL, b->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, b->fd, 0);
	if (m == MAP_FAILED)
		return gs_errf(err, errno == ENOMEM ? GS_EINTERNAL : GS_EINPUT, "%s: cannot map: %s",
			       b->path, errno == ENOMEM ? "out of memory" : strerror(errno));
	b->map = m;
	if (memcmp(b->map, ELFMAG, SELFMAG) != 0)
		return gs_errf(err, GS_EINPUT, "%s: not an ELF file", b->path);
	return 0;
}

/* Checked before libelf sees the file, so that a truncated file is named as such and
 * nothing later reads past the mapping. */
static int check_raw_header(gs_binary *b, gs_err *err)
{
	if (b->map[EI_DATA] != ELFDATA2LSB)
		return gs_errf(err, GS_EINPUT, "%s: big-endian ELF is not supported", b->path);
	uint64_t shoff, phoff, shentsize, phentsize, shnum, phnum;
	if (b->map[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		if (b->map_size < sizeof eh)
			return gs_errf(err, GS_EINPUT, "%s: truncated ELF (short header)", b->path);
		memcpy(&eh, b->map, sizeof eh);
		shoff = eh.e_shoff, phoff = eh.e_phoff, shentsize = eh.e_shentsize;
		phentsize = eh.e_phentsize, shnum = eh.e_shnum, phnum = eh.e_phnum;
	} else if (b->map[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;
		if (b->map_size < sizeof eh)
			return gs_errf(err, GS_EINPUT, "%s: truncated ELF (short header)", b->path);
		memcpy(&eh, b->map, sizeof eh);
		shoff = eh.e_shoff, phoff = eh.e_phoff, shentsize = eh.e_shentsize;
		phentsize = eh.e_phentsize, shnum = eh.e_shnum, phnum = eh.e_phnum;
	} else {
		return gs_errf(err, GS_EINPUT, "%s: not an ELF file (bad class)", b->path);
	}
	/* e_shnum 0 with a non-zero offset means the count is in the first header. */
	if (shoff && !in_file(shoff, (shnum ? shnum : 1) * shentsize, b->map_size))
		return gs_errf(err, GS_EINPUT,
			       "%s: truncated ELF (section headers beyond end of file)", b->path);
	if (phoff && !in_file(phoff, phnum * phentsize, b->map_size))
		return gs_errf(err, GS_EINPUT,
			       "%s: truncated ELF (program headers beyond end of file)", b->path);
	return 0;
}

static int check_headers(gs_binary *b, gs_err *err)
{
	GElf_Ehdr eh;
	if (!gelf_getehdr(b->elf, &eh))
		return gs_errf(err, GS_EINPUT, "%s: corrupt ELF header", b->path);
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return gs_errf(err, GS_EINPUT, "%s: not an executable (ELF type %u)", b->path,
			       (unsigned)eh.e_type);
	size_t shnum; /* may come from the first section header (extended numbering) */
	if (elf_getshdrnum(b->elf, &shnum) != 0 ||
	    (shnum > 0 && !in_file(eh.e_shoff, (uint64_t)shnum * eh.e_shentsize, b->map_size)))
		return gs_errf(err, GS_EINPUT,
			       "%s: truncated ELF (section headers beyond end of file)", b->path);
	b->pie = eh.e_type == ET_DYN;
	b->entry = eh.e_entry;
	return 0;
}

static int cmp_rel(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Only PIEs: the RELATIVE entries of every SHT_RELA section, for gs_binary_read_ptr. */
static void load_relocs(gs_binary *b)
{
	size_t n = 0, cap = 0;
	uint64_t *pairs = NULL;
	for (size_t i = 0; b->pie && i < b->nsecs; i++) {
		const gs_section *s = &b->secs[i];
		if (s->type != SHT_RELA || !in_file(s->offset, s->size, b->map_size))
			continue;
		for (uint64_t off = 0; off + 24 <= s->size; off += 24) {
			const uint8_t *e = b->map + s->offset + off;
			uint64_t r_off, r_info, r_add;
			memcpy(&r_off, e, 8);
			memcpy(&r_info, e + 8, 8);
			memcpy(&r_add, e + 16, 8);
			if ((r_info & 0xffffffffu) != R_X86_64_RELATIVE)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 1024;
				uint64_t *v = gs_reallocarray(pairs, cap, 2 * sizeof *pairs, NULL);
				if (!v) {
					b->nomem = true;
					free(pairs);
					return;
				}
				pairs = v;
			}
			pairs[2 * n] = r_off;
			pairs[2 * n + 1] = r_add;
			n++;
		}
	}
	if (!n)
		return;
	qsort(pairs, n, 2 * sizeof *pairs, cmp_rel);
	b->rel_off = malloc(n * sizeof *b->rel_off);
	b->rel_add = malloc(n * sizeof *b->rel_add);
	if (!b->rel_off || !b->rel_add) {
		b->nomem = true;
		free(pairs);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		b->rel_off[i] = pairs[2 * i];
		b->rel_add[i] = pairs[2 * i + 1];
	}
	b->nrel = n;
	free(pairs);
}

int gs_binary_read_ptr(const gs_binary *b, uint64_t addr, uint64_t *v)
{
	if (gs_binary_read(b, addr, v, 8) < 0)
		return -1;
	if (*v || !b->nrel)
		return 0;
	size_t lo = 0, hi = b->nrel;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->rel_off[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < b->nrel && b->rel_off[lo] == addr)
		*v = b->rel_add[lo];
	return 0;
}

gs_binary *gs_binary_open(const char *path, gs_err *err)
{
	gs_binary *b = gs_calloc(1, sizeof *b, err);
	if (!b)
		return NULL;
	b->fd = -1;
	if (!(b->path = gs_strdup(path, err)))
		goto fail;
	if (map_file(b, err) < 0 || check_raw_header(b, err) < 0)
		goto fail;
	elf_version(EV_CURRENT);
	b->elf = elf_memory((char *)b->map, b->map_size);
	if (!b->elf || elf_kind(b->elf) != ELF_K_ELF) {
		gs_errf(err, GS_EINPUT, "%s: corrupt ELF: %s", path, elf_errmsg(-1));
		goto fail;
	}
	if (check_headers(b, err) < 0 || load_sections(b, err) < 0 || load_segments(b, err) < 0)
		goto fail;
	if (load_symbols(b, SHT_SYMTAB) < 0) {
		free(b->syms);
		b->syms = NULL;
		b->nsyms = 0;
		load_symbols(b, SHT_DYNSYM);
	}
	load_build_ids(b);
	load_relocs(b);
	if (b->nomem) {
		gs_errf(err, GS_EINTERNAL, "%s: out of memory", path);
		goto fail;
	}
	return b;
fail:
	gs_binary_close(b);
	return NULL;
}

void gs_binary_close(gs_binary *b)
{
	if (!b)
		return;
	if (b->elf)
		elf_end(b->elf);
	if (b->map)
		munmap((void *)b->map, b->map_size);
	if (b->fd >= 0)
		close(b->fd);
	if (b->inflated) {
		for (size_t i = 0; i < b->nsecs; i++)
			free(b->inflated[i]);
	}
	free(b->inflated);
	free(b->secs);
	free(b->segs);
	free(b->syms);
	free(b->symhash);
	free(b->gnu_build_id);
	free(b->go_build_id);
	free(b->rel_off);
	free(b->rel_add);
	free(b->path);
	free(b);
}

const char *gs_binary_path(const gs_binary *b) { return b->path; }
bool gs_binary_is_pie(const gs_binary *b) { return b->pie; }
uint64_t gs_binary_entry(const gs_binary *b) { return b->entry; }

const gs_section *gs_binary_section(const gs_binary *b, const char *name)
{
	for (size_t i = 0; i < b->nsecs; i++) {
		if (strcmp(b->secs[i].name, name) == 0)
			return &b->secs[i];
	}
	return NULL;
}

static const uint8_t *inflate_section(gs_binary *b, size_t i, gs_err *err)
{
	const gs_section *s = &b->secs[i];
	Elf_Scn *scn = elf_getscn(b->elf, i);
	GElf_Shdr sh;
	if (!scn || !gelf_getshdr(scn, &sh) || !in_file(sh.sh_offset, sh.sh_size, b->map_size)) {
		gs_errf(err, GS_EINPUT, "%s: section %s extends beyond end of file", b->path,
			s->name);
		return NULL;
	}
	GElf_Chdr ch;
	if (!gelf_getchdr(scn, &ch)) {
		gs_errf(err, GS_EINPUT, "%s: section %s: bad compression header", b->path, s->name);
		return NULL;
	}
	size_t hdr = gelf_getclass(b->elf) == ELFCLASS32 ? sizeof(Elf32_Chdr) : sizeof(Elf64_Chdr);
	if (ch.ch_type != ELFCOMPRESS_ZLIB || ch.ch_size > GS_MAX_INFLATED || sh.sh_size < hdr) {
		gs_errf(err, GS_EINPUT, "%s: section %s: unsupported compression (type %u)",
			b->path, s->name, (unsigned)ch.ch_type);
		return NULL;
	}
	uint8_t *out = gs_malloc(ch.ch_size, err);
	if (!out)
		return NULL;
	struct libdeflate_decompressor *dec = libdeflate_alloc_decompressor();
	if (!dec) {
		free(out);
		gs_errf(err, GS_EINTERNAL, "%s: section %s: out of memory", b->path, s->name);
		return NULL;
	}
	size_t outlen = 0;
	enum libdeflate_result zr = libdeflate_zlib_decompress(
		dec, b->map + sh.sh_offset + hdr, sh.sh_size - hdr, out, ch.ch_size, &outlen);
	libdeflate_free_decompressor(dec);
	if (zr != LIBDEFLATE_SUCCESS || outlen != ch.ch_size) {
		free(out);
		gs_errf(err, GS_EINPUT, "%s: section %s: corrupt zlib data", b->path, s->name);
		return NULL;
	}
	b->inflated[i] = out;
	return out;
}

const uint8_t *gs_binary_section_data(gs_binary *b, const gs_section *s, gs_err *err)
{
	if (!s || s < b->secs || s >= b->secs + b->nsecs) {
		gs_errf(err, GS_ENOTFOUND, "%s: no such section", b->path);
		return NULL;
	}
	size_t i = (size_t)(s - b->secs);
	if (s->type == SHT_NOBITS) {
		gs_errf(err, GS_ENOTFOUND, "%s: section %s has no contents in the file", b->path,
			s->name);
		return NULL;
	}
	if (s->flags & SHF_COMPRESSED)
		return b->inflated[i] ? b->inflated[i] : inflate_section(b, i, err);
	if (!in_file(s->offset, s->size, b->map_size)) {
		gs_errf(err, GS_EINPUT, "%s: section %s extends beyond end of file", b->path,
			s->name);
		return NULL;
	}
	return b->map + s->offset;
}

size_t gs_binary_nsections(const gs_binary *b) { return b->nsecs; }

const gs_section *gs_binary_section_at(const gs_binary *b, size_t i)
{
	return i < b->nsecs ? &b->secs[i] : NULL;
}

size_t gs_binary_nsegments(const gs_binary *b) { return b->nsegs; }

const gs_segment *gs_binary_segment(const gs_binary *b, size_t i)
{
	return i < b->nsegs ? &b->segs[i] : NULL;
}

const uint8_t *gs_binary_ptr(const gs_binary *b, uint64_t addr, size_t *avail)
{
	for (size_t i = 0; i < b->nsegs; i++) {
		const gs_segment *s = &b->segs[i];
		if (addr < s->vaddr || addr - s->vaddr >= s->filesz)
			continue;
		uint64_t off = addr - s->vaddr;
		/* A segment cut short by a truncated file still serves the part that exists. */
		if (s->offset > b->map_size || off >= b->map_size - s->offset)
			return NULL;
		uint64_t n = s->filesz - off;
		if (n > b->map_size - s->offset - off)
			n = b->map_size - s->offset - off;
		if (avail)
			*avail = (size_t)n;
		return b->map + s->offset + off;
	}
	return NULL;
}

int gs_binary_read(const gs_binary *b, uint64_t addr, void *dst, size_t n)
{
	size_t avail;
	const uint8_t *p = gs_binary_ptr(b, addr, &avail);
	if (!p || avail < n)
		return -1;
	memcpy(dst, p, n);
	return 0;
}

int gs_binary_symbol(const gs_binary *b, const char *name, uint64_t *addr, uint64_t *size)
{
	if (!b->symhash)
		return -1;
	size_t mask = b->symhash_cap - 1;
	for (size_t h = gs_hash_str(name) & mask;; h = (h + 1) & mask) {
		uint32_t slot = b->symhash[h];
		if (slot == 0)
			return -1;
		const gs_symbol *s = &b->syms[slot - 1];
		if (strcmp(s->name, name) == 0) {
			if (addr)
				*addr = s->addr;
			if (size)
				*size = s->size;
			return 0;
		}
	}
}

const char *gs_binary_gnu_build_id(const gs_binary *b) { return b->gnu_build_id; }
const char *gs_binary_go_build_id(const gs_binary *b) { return b->go_build_id; }
