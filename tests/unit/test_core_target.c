/* The core backend over synthetic cores written here, damaged in known ways, and over a
 * real core that gcore takes of a forked child. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gs_check.h"

/* Under valgrind the child is valgrind's process: the kernel's fs_base is valgrind's own
 * (0), not the emulated thread pointer, so that check is skipped there. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif
#include "../../analyzer/src/target/target.h"

/* Synthetic layout: headers, notes at 0x100, segment A (0x400000, 2 pages, all in the file)
 * at 0x1000, segment B (0x600000, 3 pages of which 1 is in the file) at 0x3000. */
#define SEG_A 0x400000ull
#define SEG_B 0x600000ull
#define NOTES_OFF 0x100
#define CORE_SIZE 0x4000

typedef struct core_img {
	uint8_t buf[CORE_SIZE];
	size_t notes_size;
	char dir[64];
	char path[128];
} core_img;

static uint8_t byte_at(uint64_t a)
{
	return (uint8_t)(a * 13 + (a >> 8));
}

static size_t put_note(uint8_t *p, uint32_t type, const char *name, const void *desc,
		       uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	uint32_t hdr[3] = { namesz, descsz, type };
	size_t off = 0;
	memcpy(p, hdr, 12);
	off += 12;
	memcpy(p + off, name, namesz);
	off += (namesz + 3) & ~3u;
	memcpy(p + off, desc, descsz);
	off += (descsz + 3) & ~3u;
	return off;
}

/* user_regs_struct slot i of thread k holds 0x1000*k + i, so every field is checkable. */
static uint64_t reg_val(int k, int slot)
{
	return 0x100000ull * (uint64_t)k + (uint64_t)slot;
}

static size_t put_prstatus(uint8_t *p, int k, int32_t tid)
{
	uint8_t d[336] = { 0 };
	memcpy(d + 32, &tid, 4);
	for (int i = 0; i < 27; i++) {
		uint64_t v = reg_val(k, i);
		memcpy(d + 112 + 8 * i, &v, 8);
	}
	return put_note(p, NT_PRSTATUS, "CORE", d, sizeof d);
}

static size_t put_file_note(uint8_t *p)
{
	uint8_t d[256] = { 0 };
	uint64_t h[2 + 6] = { 2, 4096, SEG_A, SEG_A + 0x2000, 0, SEG_B, SEG_B + 0x3000, 2 };
	memcpy(d, h, sizeof h);
	size_t n = sizeof h;
	const char *a = "/usr/bin/fake-exe", *b = "/lib/libfake.so";
	memcpy(d + n, a, strlen(a) + 1);
	n += strlen(a) + 1;
	memcpy(d + n, b, strlen(b) + 1);
	n += strlen(b) + 1;
	return put_note(p, 0x46494c45 /* NT_FILE */, "CORE", d, (uint32_t)n);
}

static size_t put_auxv_note(uint8_t *p)
{
	uint64_t a[] = { AT_PHDR, SEG_A + 0x40, AT_PAGESZ, 4096, AT_ENTRY, SEG_A + 0x1000,
			 AT_NULL, 0 };
	return put_note(p, NT_AUXV, "CORE", a, sizeof a);
}

static void build(core_img *c)
{
	memset(c->buf, 0, sizeof c->buf);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)c->buf;
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
	eh->e_phnum = 3;

	uint8_t *np = c->buf + NOTES_OFF;
	size_t n = put_prstatus(np, 1, 101);
	n += put_note(np + n, 0x53494749 /* NT_SIGINFO, ignored */, "CORE", "\0\0\0\0", 4);
	n += put_prstatus(np + n, 2, 102);
	n += put_note(np + n, NT_PRSTATUS, "LINUX", "xx", 2); /* not "CORE": skipped */
	n += put_file_note(np + n);
	n += put_auxv_note(np + n);
	c->notes_size = n;
	ck_assert_uint_lt(NOTES_OFF + n, 0x1000);

	Elf64_Phdr *ph = (Elf64_Phdr *)(c->buf + sizeof *eh);
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = NOTES_OFF, .p_filesz = n };
	ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = 0x3000,
			      .p_vaddr = SEG_B, .p_filesz = 0x1000, .p_memsz = 0x3000,
			      .p_align = 4096 };
	ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0x1000,
			      .p_vaddr = SEG_A, .p_filesz = 0x2000, .p_memsz = 0x2000,
			      .p_align = 4096 };
	for (uint64_t i = 0; i < 0x2000; i++)
		c->buf[0x1000 + i] = byte_at(SEG_A + i);
	for (uint64_t i = 0; i < 0x1000; i++)
		c->buf[0x3000 + i] = byte_at(SEG_B + i);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

/* Writes the first n bytes of the image. */
static const char *save(core_img *c, size_t n)
{
	if (!c->dir[0]) {
		strcpy(c->dir, "/tmp/gs-core-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(c->dir));
	}
	snprintf(c->path, sizeof c->path, "%s/core", c->dir);
	write_file(c->path, c->buf, n);
	return c->path;
}

static void cleanup(core_img *c)
{
	char cmd[160];
	if (!c->dir[0])
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static core_img *new_img(void)
{
	core_img *c = calloc(1, sizeof *c);
	build(c);
	return c;
}

static void expect_open_error(core_img *c, size_t n, const char *needle)
{
	gs_err err = { 0 };
	const char *path = save(c, n);
	gs_target *t = gs_core_target_open(path, &err);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(err.code, GS_EINPUT);
	ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0, "message names the file: %s",
		      err.msg);
	ck_assert_msg(strstr(err.msg, needle), "'%s' in '%s'", needle, err.msg);
}

/* Damaged notes do not stop the core from opening: what came before the damage is kept
 * and the problem is named. */
static void expect_notes_problem(core_img *c, size_t n, const char *needle)
{
	gs_err err = { 0 };
	gs_target *t = gs_core_target_open(save(c, n), &err);
	ck_assert_msg(t != NULL, "%s", err.msg);
	const char *p = gs_target_notes_problem(t);
	ck_assert_msg(p && strstr(p, needle), "'%s' in '%s'", needle, p ? p : "(none)");
	gs_target_close(t);
}

static void check_range(gs_target *t, uint64_t addr, size_t n)
{
	uint8_t buf[0x3000];
	gs_err err = { 0 };
	ck_assert_uint_le(n, sizeof buf);
	ck_assert_int_eq(gs_target_read(t, addr, buf, n, &err), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(buf[i], byte_at(addr + i));
}

START_TEST(test_core_target_reads_segments)
{
	core_img *c = new_img();
	gs_err err = { 0 };
	gs_target *t = gs_core_target_open(save(c, CORE_SIZE), &err);
	ck_assert_msg(t != NULL, "%s", err.msg);
	ck_assert_int_eq(gs_target_kind(t), GS_TARGET_CORE);
	ck_assert_str_eq(gs_target_name(t), c->path);
	check_range(t, SEG_A, 0x2000);
	check_range(t, SEG_A + 0xff9, 16);
	check_range(t, SEG_B, 0x1000);
	uint64_t v64;
	uint32_t v32;
	ck_assert_int_eq(gs_target_read_u64(t, SEG_A + 8, &v64, &err), 0);
	uint64_t want = 0;
	for (int i = 7; i >= 0; i--)
		want = want << 8 | byte_at(SEG_A + 8 + (uint64_t)i);
	ck_assert_uint_eq(v64, want);
	ck_assert_int_eq(gs_target_read_u32(t, SEG_A + 8, &v32, &err), 0);
	ck_assert_uint_eq(v32, (uint32_t)want);

	/* Past p_filesz, between segments, past the end of A: unreadable. */
	uint8_t b[16];
	ck_assert_int_eq(gs_target_read(t, SEG_B + 0x1000, b, 8, &err), -1);
	ck_assert_int_eq(err.code, GS_EMEM);
	ck_assert_str_eq(err.msg, "unreadable at 0x601000");
	/* The error carries where: the read's start and its first unreadable byte. */
	ck_assert_uint_eq(err.read_at, SEG_B + 0x1000);
	ck_assert_uint_eq(err.fault_at, SEG_B + 0x1000);
	ck_assert_int_eq(gs_target_read(t, SEG_A + 0x1ff8, b, 16, &err), -1);
	ck_assert_msg(strstr(err.msg, "unreadable at 0x402000"), "%s", err.msg);
	ck_assert_uint_eq(err.read_at, SEG_A + 0x1ff8);
	ck_assert_uint_eq(err.fault_at, SEG_A + 0x2000);
	ck_assert_int_eq(gs_target_read(t, 0, b, 8, &err), -1);
	ck_assert_int_eq(gs_target_read(t, UINT64_MAX - 3, b, 8, &err), -1);
	gs_target_close(t);
	cleanup(c);
	free(c);
}
END_TEST

START_TEST(test_core_target_backing_serves_undumped_bytes)
{
	core_img *c = new_img();
	gs_err err = { 0 };
	gs_target *t = gs_core_target_open(save(c, CORE_SIZE), &err);
	ck_assert_ptr_nonnull(t);
	uint8_t b[0x100];
	ck_assert_int_eq(gs_target_read(t, SEG_B + 0x1800, b, 8, &err), -1); /* cached as a hole */

	/* A backing file holding what B's second and third pages would contain; it also
	 * covers B's first page, where the core's own bytes must win. */
	uint8_t file[0x3000];
	for (uint64_t i = 0; i < sizeof file; i++)
		file[i] = i < 0x1000 ? 0xee : byte_at(SEG_B + i);
	char bpath[160];
	snprintf(bpath, sizeof bpath, "%s/lib", c->dir);
	write_file(bpath, file, sizeof file);
	/* Region starts mid-page at file offset 0x10 to exercise unaligned backing. */
	ck_assert_int_eq(gs_target_add_backing(t, bpath, SEG_B + 0x10, 0x3000 - 0x10, 0x10, &err),
			 0);
	check_range(t, SEG_B, 0x3000);
	check_range(t, SEG_B + 0xff0, 0x20);
	/* The backing file is short of the region's end? No: it ends exactly at B's end. */
	ck_assert_int_eq(gs_target_read(t, SEG_B + 0x3000, b, 1, &err), -1);

	/* A backing region in no segment at all, shorter than its file claims. */
	ck_assert_int_eq(gs_target_add_backing(t, bpath, 0x900000, 0x4000, 0x1000, &err), 0);
	ck_assert_int_eq(gs_target_read(t, 0x900000, b, 16, &err), 0);
	ck_assert_uint_eq(b[0], byte_at(SEG_B + 0x1000));
	ck_assert_int_eq(gs_target_read(t, 0x901ff8, b, 16, &err), -1); /* file ends at 0x902000 */
	ck_assert_msg(strstr(err.msg, "unreadable at 0x902000"), "%s", err.msg);

	ck_assert_int_eq(gs_target_add_backing(t, "/nonexistent/x", 0x1000, 16, 0, &err), -1);
	ck_assert_int_eq(err.code, GS_EINPUT);

	/* A view (another thread's handle) reads the same bytes, core and backing alike,
	 * through a cache of its own, and refuses a backing file of its own. */
	gs_target *v = gs_target_view(t);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(gs_target_kind(v), GS_TARGET_CORE);
	check_range(v, SEG_B, 0x3000);
	ck_assert_int_eq(gs_target_read(v, 0x900000, b, 16, &err), 0);
	ck_assert_uint_eq(b[0], byte_at(SEG_B + 0x1000));
	ck_assert_int_eq(gs_target_read(v, SEG_B + 0x3000, b, 1, &err), -1);
	ck_assert_uint_eq(gs_target_nthreads(v), gs_target_nthreads(t));
	ck_assert_int_eq(gs_target_add_backing(v, bpath, 0xa00000, 0x1000, 0, &err), -1);
	ck_assert_int_eq(err.code, GS_EINTERNAL);
	gs_target *v2 = gs_target_view(v); /* a view of a view is a view of the target */
	ck_assert_ptr_nonnull(v2);
	check_range(v2, SEG_B, 0x3000);
	gs_target_close(v);
	check_range(v2, SEG_B, 0x3000);
	gs_target_close(v2);
	check_range(t, SEG_B, 0x3000); /* the target outlives its views untouched */
	gs_target_close(t);
	cleanup(c);
	free(c);
}
END_TEST

START_TEST(test_core_target_threads_mappings_auxv)
{
	core_img *c = new_img();
	gs_err err = { 0 };
	gs_target *t = gs_core_target_open(save(c, CORE_SIZE), &err);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(gs_target_nthreads(t), 2);
	for (int k = 1; k <= 2; k++) {
		const gs_thread *th = gs_target_thread(t, (size_t)k - 1);
		const gs_regs *r = &th->regs;
		ck_assert_int_eq(th->tid, 100 + k);
		uint64_t want[] = { r->r15, r->r14, r->r13, r->r12, r->rbp, r->rbx, r->r11,
				    r->r10, r->r9, r->r8, r->rax, r->rcx, r->rdx, r->rsi, r->rdi };
		for (int i = 0; i < 15; i++)
			ck_assert_uint_eq(want[i], reg_val(k, i));
		ck_assert_uint_eq(r->rip, reg_val(k, 16));
		ck_assert_uint_eq(r->eflags, reg_val(k, 18));
		ck_assert_uint_eq(r->rsp, reg_val(k, 19));
		ck_assert_uint_eq(r->fs_base, reg_val(k, 21));
		ck_assert_uint_eq(r->gs_base, reg_val(k, 22));
	}
	ck_assert_ptr_null(gs_target_thread(t, 2));

	ck_assert_uint_eq(gs_target_nmappings(t), 2);
	const gs_mapping *m = gs_target_mapping(t, 1);
	ck_assert_uint_eq(m->start, SEG_B);
	ck_assert_uint_eq(m->end, SEG_B + 0x3000);
	ck_assert_uint_eq(m->file_offset, 0x2000);
	ck_assert_str_eq(m->path, "/lib/libfake.so");

	uint64_t v;
	ck_assert_int_eq(gs_target_auxv(t, AT_ENTRY, &v), 0);
	ck_assert_uint_eq(v, SEG_A + 0x1000);
	ck_assert_int_eq(gs_target_auxv(t, AT_PAGESZ, &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(gs_target_auxv(t, AT_BASE, &v), -1);
	ck_assert_str_eq(gs_target_exe_path(t), "/usr/bin/fake-exe");
	ck_assert_uint_eq(gs_target_pause_ns(t), 0);
	gs_target_resume(t); /* no-op for a core */
	check_range(t, SEG_A, 16);
	gs_target_close(t);
	cleanup(c);
	free(c);
}
END_TEST

START_TEST(test_core_target_truncated_in_elf_header)
{
	core_img *c = new_img();
	expect_open_error(c, 40, "truncated core file");
	expect_open_error(c, 2, "truncated core file"); /* "\177E" */
	expect_open_error(c, 0, "not an ELF file");
	cleanup(c);
	free(c);
}
END_TEST

START_TEST(test_core_target_truncated_in_program_headers)
{
	core_img *c = new_img();
	expect_open_error(c, 100, "truncated core file");
	cleanup(c);
	free(c);
}
END_TEST

START_TEST(test_core_target_truncated_in_notes)
{
	core_img *c = new_img();
	expect_notes_problem(c, NOTES_OFF + 200, "cut off");
	cleanup(c);
	free(c);
}
END_TEST

START_TEST(test_core_target_truncated_in_segment)
{
	core_img *c = new_img();
	gs_err err = { 0 };
	/* Cut in the middle of segment A: its first 0x800 bytes remain, B is gone. */
	gs_target *t = gs_core_target_open(save(c, 0x1800), &err);
	ck_assert_msg(t != NULL, "%s", err.msg);
	check_range(t, SEG_A, 0x800);
	uint8_t b[32];
	ck_assert_int_eq(gs_target_read(t, SEG_A + 0x7f0, b, 32, &err), -1);
	ck_assert_int_eq(err.code, GS_EMEM);
	ck_assert_msg(strstr(err.msg, "unreadable at 0x400800"), "%s", err.msg);
	ck_assert_uint_eq(err.fault_at, SEG_A + 0x800);
	ck_assert_int_eq(gs_target_read(t, SEG_B, b, 8, &err), -1);
	ck_assert_uint_eq(gs_target_nthreads(t), 2);
	gs_target_close(t);
	cleanup(c);
	free(c);
}
END_TEST

START_TEST(test_core_target_garbage_notes)
{
	core_img *c = new_img();
	uint32_t huge = 0xfffffff0;
	memcpy(c->buf + NOTES_OFF, &huge, 4); /* first namesz */
	expect_notes_problem(c, CORE_SIZE, "corrupt core notes");

	build(c);
	memcpy(c->buf + NOTES_OFF + 4, &huge, 4); /* first descsz */
	expect_notes_problem(c, CORE_SIZE, "corrupt core notes");

	build(c);
	uint32_t small = 100;
	memcpy(c->buf + NOTES_OFF + 4, &small, 4); /* NT_PRSTATUS too short, then misaligned */
	expect_notes_problem(c, CORE_SIZE, "corrupt core notes");
	cleanup(c);
	free(c);
}
END_TEST

START_TEST(test_core_target_garbage_nt_file)
{
	core_img *c = new_img();
	/* Find NT_FILE's count (the note after the second NT_PRSTATUS) and make it huge. */
	uint8_t *p = c->buf + NOTES_OFF;
	size_t off = 0;
	for (;;) {
		uint32_t h[3];
		memcpy(h, p + off, 12);
		if (h[2] == 0x46494c45)
			break;
		off += 12 + ((h[0] + 3) & ~3u) + ((h[1] + 3) & ~3u);
	}
	uint64_t count = 1000;
	memcpy(p + off + 12 + 8, &count, 8);
	expect_notes_problem(c, CORE_SIZE, "NT_FILE");
	count = 2;
	memcpy(p + off + 12 + 8, &count, 8);
	memset(p + off + 12 + 8 + 16 + 48, 'x', 34); /* paths without their NULs */
	expect_notes_problem(c, CORE_SIZE, "NT_FILE path");
	cleanup(c);
	free(c);
}
END_TEST

START_TEST(test_core_target_random_damage_never_crashes)
{
	core_img *c = new_img();
	uint64_t x = 42;
	for (int round = 0; round < 300; round++) {
		build(c);
		for (int k = 0; k < 8; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			size_t at = (size_t)(x >> 33) % (NOTES_OFF + c->notes_size);
			c->buf[at] = (uint8_t)(x >> 24);
		}
		gs_err err = { 0 };
		gs_target *t = gs_core_target_open(save(c, CORE_SIZE), &err);
		if (!t) {
			ck_assert_int_eq(err.code, GS_EINPUT);
			continue;
		}
		uint8_t b[64];
		for (uint64_t a = SEG_A - 0x100; a < SEG_B + 0x4000; a += 0x7f3)
			(void)gs_target_read(t, a, b, sizeof b, &err);
		gs_target_close(t);
	}
	cleanup(c);
	free(c);
}
END_TEST

START_TEST(test_core_target_rejects_wrong_inputs)
{
	gs_err err = { 0 };
	ck_assert_ptr_null(gs_core_target_open("/nonexistent/core", &err));
	ck_assert_int_eq(err.code, GS_EINPUT);
	ck_assert_str_eq(err.msg, "/nonexistent/core: cannot open: No such file or directory");

	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_ptr_null(gs_core_target_open(exe, &err));
	ck_assert_int_eq(err.code, GS_EINPUT);
	ck_assert_msg(strstr(err.msg, ": not a core file (ELF type "), "%s", err.msg);

	ck_assert_ptr_null(gs_core_target_open("/bin/true", &err));
	ck_assert_msg(strstr(err.msg, "/bin/true: not a core file (ELF type DYN)"), "%s", err.msg);

	ck_assert_ptr_null(gs_core_target_open("/etc/passwd", &err));
	ck_assert_str_eq(err.msg, "/etc/passwd: not an ELF file");
	ck_assert_ptr_null(gs_core_target_open("/tmp", &err));
	ck_assert_int_eq(err.code, GS_EINPUT);

	core_img *c = new_img();
	((Elf64_Ehdr *)c->buf)->e_machine = EM_AARCH64;
	expect_open_error(c, CORE_SIZE, "not an x86-64 core");
	build(c);
	c->buf[EI_CLASS] = ELFCLASS32;
	expect_open_error(c, CORE_SIZE, "not a 64-bit ELF");
	cleanup(c);
	free(c);
}
END_TEST

/* ---- a real core of a forked child, taken by gdb's gcore ---- */

static uint8_t known_pattern[3 * 4096 + 123];
static const char known_rodata[] = "grpcscope rodata marker: file-backed, maybe not dumped";

static void child_loop(int fd)
{
	for (size_t i = 0; i < sizeof known_pattern; i++)
		known_pattern[i] = (uint8_t)(i * 31 + 7);
	if (write(fd, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static uint64_t vm_size_kb(pid_t pid)
{
	char path[64], line[256];
	uint64_t kb = 0;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmSize: %" SCNu64, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

START_TEST(test_core_target_real_gcore)
{
	ck_assert_msg(system("command -v gcore >/dev/null 2>&1") == 0,
		      "gcore is not installed (make deps installs gdb)");
	char dir[] = "/tmp/gs-gcore-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		child_loop(pfd[1]);
	}
	close(pfd[1]);
	char r;
	ck_assert_int_eq(read(pfd[0], &r, 1), 1);
	uint64_t vm_kb = vm_size_kb(pid);
	if (vm_kb > ((uint64_t)4 << 20)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		rmdir(dir);
		ck_abort_msg("child maps %" PRIu64 " KiB: its core would not fit the disk", vm_kb);
	}
	char cmd[256], core[128];
	snprintf(cmd, sizeof cmd, "gcore -o %s/c %d >/dev/null 2>&1", dir, (int)pid);
	int rc = system(cmd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	snprintf(core, sizeof core, "%s/c.%d", dir, (int)pid);

	gs_err err = { 0 };
	gs_target *t = rc == 0 ? gs_core_target_open(core, &err) : NULL;
	/* The mapping outlives the file; remove it before any assertion can fail. */
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(t != NULL, "%s", err.msg);
	static uint8_t got[sizeof known_pattern];
	ck_assert_msg(gs_target_read(t, (uint64_t)(uintptr_t)known_pattern, got, sizeof got,
				     &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < sizeof got; i++)
		ck_assert_uint_eq(got[i], (uint8_t)(i * 31 + 7));

	ck_assert_uint_eq(gs_target_nthreads(t), 1);
	const gs_thread *th = gs_target_thread(t, 0);
	ck_assert_int_eq(th->tid, pid);
	ck_assert_uint_ne(th->regs.rip, 0);
	if (!UNDER_VALGRIND())
		ck_assert_uint_ne(th->regs.fs_base, 0);
	uint64_t word;
	ck_assert_msg(gs_target_read_u64(t, th->regs.rsp, &word, &err) == 0, "%s", err.msg);

	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_ptr_nonnull(gs_target_exe_path(t));
	if (!UNDER_VALGRIND()) /* there the process's executable is valgrind's tool */
		ck_assert_str_eq(gs_target_exe_path(t), exe);
	uint64_t entry;
	ck_assert_int_eq(gs_target_auxv(t, AT_ENTRY, &entry), 0);

	/* Read-only file-backed data may be left out of the core; a backing region made from
	 * the NT_FILE mapping must then supply it. */
	uint64_t ro = (uint64_t)(uintptr_t)known_rodata;
	char buf[sizeof known_rodata];
	if (gs_target_read(t, ro, buf, sizeof buf, &err) != 0) {
		for (size_t i = 0; i < gs_target_nmappings(t); i++) {
			const gs_mapping *m = gs_target_mapping(t, i);
			if (ro >= m->start && ro < m->end)
				ck_assert_int_eq(gs_target_add_backing(t, m->path, m->start,
								       m->end - m->start,
								       m->file_offset, &err), 0);
		}
	}
	ck_assert_msg(gs_target_read(t, ro, buf, sizeof buf, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(buf, known_rodata);
	gs_target_close(t);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("core_target");
	TCase *tc = tcase_create("synthetic");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_core_target_reads_segments);
	tcase_add_test(tc, test_core_target_backing_serves_undumped_bytes);
	tcase_add_test(tc, test_core_target_threads_mappings_auxv);
	tcase_add_test(tc, test_core_target_truncated_in_elf_header);
	tcase_add_test(tc, test_core_target_truncated_in_program_headers);
	tcase_add_test(tc, test_core_target_truncated_in_notes);
	tcase_add_test(tc, test_core_target_truncated_in_segment);
	tcase_add_test(tc, test_core_target_garbage_notes);
	tcase_add_test(tc, test_core_target_garbage_nt_file);
	tcase_add_test(tc, test_core_target_random_damage_never_crashes);
	tcase_add_test(tc, test_core_target_rejects_wrong_inputs);
	suite_add_tcase(s, tc);
	/* Under AddressSanitizer the child maps terabytes of shadow memory and its core would
	 * not fit the disk: that build does not register the test (the plain build runs it). */
#ifndef __SANITIZE_ADDRESS__
	TCase *real = tcase_create("gcore");
	tcase_set_timeout(real, 300);
	tcase_add_test(real, test_core_target_real_gcore);
	suite_add_tcase(s, real);
#else
	(void)test_core_target_real_gcore;
#endif
	return s;
}

GS_CHECK_MAIN(make_suite)
