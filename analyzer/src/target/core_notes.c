#include "core_notes.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"

#define NT_PRSTATUS_ 1
#define NT_AUXV_ 6
#define NT_FILE_ 0x46494c45

/* struct elf_prstatus on amd64: pr_pid at 32, pr_reg (user_regs_struct) at 112, 336 bytes
 * in all. Fixed here rather than taken from <sys/procfs.h> so the layout is that of the
 * core, not of the machine reading it. */
#define PRSTATUS_PID_OFF 32
#define PRSTATUS_REG_OFF 112
#define PRSTATUS_MIN_SIZE (PRSTATUS_REG_OFF + GS_AMD64_USER_REGS * 8)

#define MAX_FILE_ENTRIES (1u << 20)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int corrupt(gs_err *err, const char *path, uint64_t off, const char *what)
{
	return gs_errf(err, GS_EINPUT, "%s: corrupt core notes (%s at file offset 0x%" PRIx64 ")",
		       path, what, off);
}

static int parse_prstatus(gs_target *t, const char *path, const uint8_t *d, size_t n,
			  uint64_t off, gs_err *err)
{
	if (n < PRSTATUS_MIN_SIZE)
		return corrupt(err, path, off, "NT_PRSTATUS too short");
	uint64_t raw[GS_AMD64_USER_REGS];
	for (int i = 0; i < GS_AMD64_USER_REGS; i++)
		raw[i] = le64(d + PRSTATUS_REG_OFF + 8 * i);
	gs_thread th = { .tid = (int32_t)le32(d + PRSTATUS_PID_OFF) };
	gs_regs_from_amd64_user(raw, &th.regs);
	gs_target_add_thread(t, &th);
	return 0;
}

/* NT_FILE: count, page size, count x {start, end, offset in pages}, then count paths. */
static int parse_file(gs_target *t, const char *path, const uint8_t *d, size_t n, uint64_t off,
		      gs_err *err)
{
	if (n < 16)
		return corrupt(err, path, off, "NT_FILE too short");
	uint64_t count = le64(d), page = le64(d + 8);
	if (count > MAX_FILE_ENTRIES || count > (n - 16) / 24)
		return corrupt(err, path, off, "NT_FILE count exceeds its note");
	const char *names = (const char *)d + 16 + count * 24;
	size_t left = n - 16 - (size_t)count * 24;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *e = d + 16 + i * 24;
		const char *nul = memchr(names, '\0', left);
		if (!nul)
			return corrupt(err, path, off, "NT_FILE path runs past its note");
		uint64_t start = le64(e), end = le64(e + 8), pgoff = le64(e + 16);
		if (end < start || (page && pgoff > UINT64_MAX / page))
			return corrupt(err, path, off, "NT_FILE entry out of range");
		gs_target_push_mapping(t, start, end, pgoff * page, names);
		left -= (size_t)(nul - names) + 1;
		names = nul + 1;
	}
	return 0;
}

static void parse_auxv(gs_target *t, const uint8_t *d, size_t n)
{
	size_t np = n / 16, k = 0;
	uint64_t *pairs = malloc((np ? np : 1) * 16);
	if (!pairs) {
		t->nomem = true;
		return;
	}
	for (; k < np; k++) {
		pairs[2 * k] = le64(d + 16 * k);
		pairs[2 * k + 1] = le64(d + 16 * k + 8);
		if (pairs[2 * k] == 0) /* AT_NULL */
			break;
	}
	gs_target_set_auxv(t, pairs, k);
	free(pairs);
}

int gs_core_parse_notes(gs_target *t, const char *path, const uint8_t *p, size_t size,
			uint64_t file_offset, gs_err *err)
{
	size_t off = 0;
	while (off < size) {
		uint64_t at = file_offset + off;
		if (size - off < 12)
			return corrupt(err, path, at, "note header cut short");
		uint32_t namesz = le32(p + off), descsz = le32(p + off + 4), type = le32(p + off + 8);
		off += 12;
		/* Linux pads name and desc to 4 bytes, also in 64-bit cores. */
		uint64_t name_pad = ((uint64_t)namesz + 3) & ~(uint64_t)3;
		uint64_t desc_pad = ((uint64_t)descsz + 3) & ~(uint64_t)3;
		if (name_pad > size - off)
			return corrupt(err, path, at, "note name runs past the segment");
		const uint8_t *name = p + off;
		off += (size_t)name_pad;
		if (descsz > size - off)
			return corrupt(err, path, at, "note data runs past the segment");
		const uint8_t *desc = p + off;
		off += desc_pad > size - off ? size - off : (size_t)desc_pad;
		if (namesz != 5 || memcmp(name, "CORE", 5) != 0)
			continue;
		int rc = 0;
		if (type == NT_PRSTATUS_)
			rc = parse_prstatus(t, path, desc, descsz, at, err);
		else if (type == NT_FILE_)
			rc = parse_file(t, path, desc, descsz, at, err);
		else if (type == NT_AUXV_)
			parse_auxv(t, desc, descsz);
		if (rc)
			return -1;
	}
	return 0;
}
