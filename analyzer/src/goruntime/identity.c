#include "identity.h"

#include "model_internal.h"

#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u
/* Read-only bytes compared per segment: enough to tell another build, cheap on any core. */
#define COMPARE_PAGES 64

static uint64_t page_down(uint64_t v) { return v & ~(uint64_t)(PAGE - 1); }

static int mismatch(gs_err *err, gs_target *t, gs_binary *b, const char *why)
{
	return gs_errf(err, GS_EINPUT, "%s is not the executable of %s: %s", gs_binary_path(b),
		       gs_target_name(t), why);
}

/* e_phoff and e_phnum from the file's ELF header. */
static int file_phdrs(gs_binary *b, uint64_t *phoff, uint64_t *phnum)
{
	Elf64_Ehdr eh;
	int fd = open(gs_binary_path(b), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	ssize_t r = pread(fd, &eh, sizeof eh, 0);
	close(fd);
	if (r != (ssize_t)sizeof eh)
		return -1;
	*phoff = eh.e_phoff;
	*phnum = eh.e_phnum;
	return 0;
}

static int check_auxv(gs_target *t, gs_binary *b, uint64_t bias, gs_err *err)
{
	char why[256];
	uint64_t entry, phdr, phoff, phnum;
	if (gs_target_auxv(t, AT_ENTRY, &entry) == 0 && entry != gs_binary_entry(b) + bias) {
		snprintf(why, sizeof why, "the process started at 0x%" PRIx64 " (AT_ENTRY), this file "
			 "at 0x%" PRIx64 "%s", entry, gs_binary_entry(b) + bias,
			 gs_binary_is_pie(b) ? "" : " (a position-dependent executable; is the "
						  "program a PIE build?)");
		return mismatch(err, t, b, why);
	}
	if (gs_binary_is_pie(b) && (bias & (PAGE - 1))) {
		snprintf(why, sizeof why, "its load address would be 0x%" PRIx64 ", not page-aligned",
			 bias);
		return mismatch(err, t, b, why);
	}
	if (gs_target_auxv(t, AT_PHDR, &phdr) != 0 || file_phdrs(b, &phoff, &phnum) != 0)
		return 0;
	for (size_t i = 0; i < gs_binary_nsegments(b); i++) {
		const gs_segment *s = gs_binary_segment(b, i);
		if (phoff < s->offset || phoff - s->offset >= s->filesz)
			continue;
		uint64_t want = s->vaddr + (phoff - s->offset) + bias;
		if (phdr != want) {
			snprintf(why, sizeof why, "the process's program headers were at 0x%" PRIx64
				 " (AT_PHDR), this file's would be at 0x%" PRIx64, phdr, want);
			return mismatch(err, t, b, why);
		}
		break;
	}
	return 0;
}

/* The Go and GNU build-id notes, where the target has them (a core dumps the first page of
 * the executable, which holds them in Go's layout). */
static int check_build_ids(gs_target *t, gs_binary *b, uint64_t bias, gs_err *err)
{
	static const char *const names[] = { ".note.go.buildid", ".note.gnu.build-id" };
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		const gs_section *s = gs_binary_section(b, names[k]);
		if (!s || s->size == 0 || s->size > 4096)
			continue;
		const uint8_t *want = gs_binary_section_data(b, s, NULL);
		uint8_t got[4096];
		if (!want || gs_target_read(t, s->addr + bias, got, s->size, NULL) < 0)
			continue; /* not in the target: nothing to compare */
		if (memcmp(want, got, s->size) != 0) {
			char why[128];
			snprintf(why, sizeof why, "the %s build id differs (another build?)",
				 k == 0 ? "Go" : "GNU");
			return mismatch(err, t, b, why);
		}
	}
	return 0;
}

/* Each mapping of the file the process ran must be one of this file's segments at its
 * place (with the bias), and within the file's size. */
static int check_mappings(gs_target *t, gs_binary *b, uint64_t bias, gs_err *err)
{
	const char *exe = gs_target_exe_path(t);
	struct stat st;
	if (!exe || stat(gs_binary_path(b), &st) != 0)
		return 0;
	uint64_t fsize = ((uint64_t)st.st_size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	char why[1024];
	for (size_t i = 0; i < gs_target_nmappings(t); i++) {
		const gs_mapping *m = gs_target_mapping(t, i);
		if (!m->path || strcmp(m->path, exe) != 0)
			continue;
		if (m->file_offset > fsize || m->end - m->start > fsize - m->file_offset) {
			snprintf(why, sizeof why, "the process mapped %s up to file offset 0x%" PRIx64
				 ", this file has 0x%" PRIx64 " bytes", exe,
				 m->file_offset + (m->end - m->start), (uint64_t)st.st_size);
			return mismatch(err, t, b, why);
		}
		/* The kernel merges neighbouring mappings: walk the segments that cover it. */
		uint64_t at = m->start;
		bool fits = true;
		while (fits && at < m->end) {
			fits = false;
			for (size_t k = 0; k < gs_binary_nsegments(b) && !fits; k++) {
				const gs_segment *s = gs_binary_segment(b, k);
				uint64_t lo = page_down(s->vaddr + bias);
				uint64_t hi = (s->vaddr + bias + s->memsz + PAGE - 1) & ~(uint64_t)(PAGE - 1);
				if (at < lo || at >= hi ||
				    m->file_offset + (at - m->start) - page_down(s->offset) != at - lo)
					continue;
				fits = true;
				at = hi < m->end ? hi : m->end;
			}
		}
		if (!fits) {
			snprintf(why, sizeof why, "the process mapped %s at 0x%" PRIx64 "-0x%" PRIx64
				 " (file offset 0x%" PRIx64 "), where this file has no such segment",
				 exe, m->start, m->end, m->file_offset);
			return mismatch(err, t, b, why);
		}
	}
	return 0;
}

/* The bytes of read-only segments the target holds (not yet backed by the file). */
static int check_readonly(gs_target *t, gs_binary *b, uint64_t bias, gs_err *err)
{
	uint8_t got[PAGE], want[PAGE];
	/* A debugger serves these bytes from the file it was given: nothing to compare. A live
	 * process is paused meanwhile: a few pages tell enough. */
	if (gs_target_kind(t) == GS_TARGET_CALLBACKS)
		return 0;
	int pages = gs_target_kind(t) == GS_TARGET_LIVE ? 4 : COMPARE_PAGES;
	for (size_t k = 0; k < gs_binary_nsegments(b); k++) {
		const gs_segment *s = gs_binary_segment(b, k);
		if ((s->flags & PF_W) || s->filesz == 0)
			continue;
		uint64_t a = s->vaddr, end = s->vaddr + s->filesz;
		for (int n = 0; a < end && n < pages; n++) {
			uint64_t next = page_down(a) + PAGE;
			size_t len = (size_t)((next < end ? next : end) - a);
			/* The page at file offset 0 holds the ELF, program and (Go's linker puts
			 * them there) section headers, which strip tools rewrite: the same
			 * program with or without symbols and DWARF must match, so it is skipped. */
			if (s->offset == 0 && page_down(a) == page_down(s->vaddr)) {
				a = next;
				continue;
			}
			bool ok = gs_target_read(t, a + bias, got, len, NULL) == 0 &&
				  gs_binary_read(b, a, want, len) == 0;
			if (ok && memcmp(got, want, len) != 0) {
				char why[256];
				snprintf(why, sizeof why, "the process's read-only memory at 0x%" PRIx64
					 " differs from this file's", a + bias);
				return mismatch(err, t, b, why);
			}
			a = next;
		}
	}
	return 0;
}

int gs_identity_check(gs_target *t, gs_binary *b, uint64_t bias, gs_err *err)
{
	if (check_auxv(t, b, bias, err) < 0 || check_build_ids(t, b, bias, err) < 0 ||
	    check_mappings(t, b, bias, err) < 0 || check_readonly(t, b, bias, err) < 0)
		return -1;
	return 0;
}

int gs_identity_bias_from_memory(gs_target *t, gs_binary *b, uint64_t *bias)
{
	const gs_segment *first = NULL;
	for (size_t k = 0; k < gs_binary_nsegments(b) && !first; k++)
		if (gs_binary_segment(b, k)->offset == 0 && gs_binary_segment(b, k)->filesz)
			first = gs_binary_segment(b, k);
	if (!first)
		return -1;
	uint8_t want[PAGE], got[PAGE];
	size_t len = first->filesz < PAGE ? (size_t)first->filesz : PAGE;
	if (gs_binary_read(b, first->vaddr, want, len) < 0)
		return -1;
	uint64_t base = page_down(first->vaddr);
	for (uint64_t a = gs_target_next_dumped(t, 0); a != UINT64_MAX;
	     a = gs_target_next_dumped(t, a)) {
		if (a < base || (a & (PAGE - 1)))
			continue;
		if (gs_target_read(t, a + (first->vaddr - base), got, len, NULL) == 0 &&
		    memcmp(got, want, len) == 0) {
			*bias = a - base;
			return 0;
		}
	}
	return -1;
}

const char *gs_rt_forced_mismatch(const gs_rt *rt)
{
	return rt->forced_mismatch;
}
