/* A target is where the bytes of one frozen process come from.
 *
 * Three backends have the same shape: an ELF core file, a live process paused with ptrace,
 * and read-memory callbacks supplied by a host debugger (gdb, lldb). Each gives memory by
 * address, the threads with their registers, and (when known) the file mappings and the
 * auxiliary vector. A page cache sits in front of every backend's memory reads.
 *
 * The target knows nothing of Go or DWARF. Memory that a core did not dump (read-only,
 * file-backed segments such as .rodata) is served from "backing files" that the layer
 * above registers with gs_target_add_backing.
 *
 * Only linux/amd64 is modelled.
 */
#ifndef GS_TARGET_H
#define GS_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "core_decompress.h"

typedef struct gs_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, eflags, fs_base, gs_base;
} gs_regs;

typedef struct gs_thread {
	int64_t tid;
	gs_regs regs;
} gs_thread;

/* One file-backed mapping of the process (NT_FILE in a core, /proc/PID/maps live). */
typedef struct gs_mapping {
	uint64_t start, end, file_offset;
	char *path;
} gs_mapping;

enum gs_target_kind { GS_TARGET_CORE, GS_TARGET_LIVE, GS_TARGET_CALLBACKS };

typedef struct gs_target gs_target;

/* Host-debugger callbacks. read returns the number of bytes read (0..n); short reads
 * mean the rest is unreadable. */
typedef struct gs_target_callbacks {
	void *ctx;
	size_t (*read)(void *ctx, uint64_t addr, void *dst, size_t n);
} gs_target_callbacks;

/* Opens an ELF core (mmap, never read whole). Fails with GS_EINPUT naming the file and the
 * problem when it is missing, not an ELF core, or truncated in its headers or notes. */
gs_target *gs_core_target_open(const char *path, gs_err *err);
/* The same for a core that may be compressed (zstd, xz, gzip, lz4; told by its content):
 * decompressed first into a sparse anonymous temporary file (core_decompress.h), with
 * progress (may be NULL) called along the way. */
gs_target *gs_core_target_open_progress(const char *path, gs_decompress_progress_fn progress,
					void *progress_ctx, gs_err *err);

/* Seizes and interrupts every thread of PID, reads registers, leaves it stopped until
 * gs_target_close (or gs_target_resume). Reads memory through /proc/PID/mem. */
gs_target *gs_live_target_open(int pid, gs_err *err);
/* The same, keeping what is read for analysis after the process resumes (as
 * gs_target_image_begin), with memory for the copy made ready before the pause: half the
 * process's anonymous resident memory, at most 512 MiB. */
gs_target *gs_live_target_open_copying(int pid, gs_err *err);

/* A target over a host debugger's memory; threads are added with gs_target_add_thread. */
gs_target *gs_callback_target_new(const gs_target_callbacks *cb, gs_err *err);
void gs_target_add_thread(gs_target *t, const gs_thread *th);
/* -1 with "out of memory" when gs_target_add_thread (or the backends' like calls, which
 * return nothing) could not allocate; the owner checks once, after the last. */
int gs_target_alloc_check(const gs_target *t, gs_err *err);

/* A second handle on a core target for another thread: the same memory through the same
 * file, with a page cache of its own (a page cache serves one thread). NULL for other
 * kinds, and when out of memory. Closed with gs_target_close, before t; t must not change (backing files) while
 * views are open. */
gs_target *gs_target_view(gs_target *t);

/* Closing a live target always resumes (detaches from) the process. */
void gs_target_close(gs_target *t);
/* Resumes a live target now; later memory reads fail. No-op for other kinds. */
void gs_target_resume(gs_target *t);

enum gs_target_kind gs_target_kind(const gs_target *t);
/* Gives the page cache's memory back to the system (it refills on the next read): for a
 * caller done with most of its reading. */
void gs_target_release_cache(gs_target *t);

/* Path of the core file, "/proc/PID" or "debugger". */
const char *gs_target_name(const gs_target *t);

/* Reads exactly n bytes at addr. 0 on success; -1 (GS_EMEM, "unreadable at 0x...") when
 * any byte is not available. */
int gs_target_read(gs_target *t, uint64_t addr, void *dst, size_t n, gs_err *err);

/* Like gs_target_read, for a range read once and whole (a goroutine's stack, a heap span):
 * copied straight from the backend, around the page cache. Safe to call from a second
 * thread on a core target (pread only; see gs_rt_prepare, gs_find_transports_start). */
int gs_target_read_bulk(gs_target *t, uint64_t addr, void *dst, size_t n, gs_err *err);

/* Convenience readers: return 0/-1 like gs_target_read. Little-endian. */
int gs_target_read_u64(gs_target *t, uint64_t addr, uint64_t *v, gs_err *err);
int gs_target_read_u32(gs_target *t, uint64_t addr, uint32_t *v, gs_err *err);

size_t gs_target_nthreads(const gs_target *t);
const gs_thread *gs_target_thread(const gs_target *t, size_t i);

size_t gs_target_nmappings(const gs_target *t);
const gs_mapping *gs_target_mapping(const gs_target *t, size_t i);

/* Looks up an auxv entry (AT_ENTRY, AT_PHDR, ...). 0 if found, -1 if not. */
int gs_target_auxv(const gs_target *t, uint64_t type, uint64_t *val);

/* The executable's path as the process knew it (core: the NT_FILE mapping that holds
 * AT_PHDR or AT_ENTRY; live: /proc/PID/exe). NULL when unknown. */
const char *gs_target_exe_path(const gs_target *t);

/* Registers a file region that backs [vaddr, vaddr+size): served for bytes the backend does
 * not have (a core's segments with p_filesz < p_memsz, or none at all). */
int gs_target_add_backing(gs_target *t, const char *path, uint64_t vaddr, uint64_t size,
			  uint64_t file_offset, gs_err *err);

/* Memory the process had that this target cannot give back: the dumped bytes past the end
 * of a truncated core file. Objects there read as unreadable. 0 when nothing is lost. */
uint64_t gs_target_missing_bytes(const gs_target *t);

/* Why a core's notes (threads, file mappings, auxv) are incomplete: cut off with the end
 * of a truncated file, or corrupt; what came before the problem is kept. NULL when they
 * are whole (and for other targets). */
const char *gs_target_notes_problem(const gs_target *t);

/* The lowest address above addr's region where the backend holds bytes (a core's next
 * dumped segment); UINT64_MAX when none, or for targets that cannot tell. */
uint64_t gs_target_next_dumped(gs_target *t, uint64_t addr);

/* 1 when addr is in the process's address space as the target records it (a core's
 * segments, dumped or not), 0 when it is not, -1 when the target cannot tell. */
int gs_target_mapped(const gs_target *t, uint64_t addr);

/* Live targets analysed after they run again (live_image.h). gs_target_image_begin, on a
 * paused live target, starts keeping what is read; gs_target_capture copies ranges
 * ([addr, len] pairs, any order; with ex, shared with one of its threads, since copying
 * needs no tracer thread) and gs_target_capture_mappings every present page of the
 * writable or anonymous mappings outside the sorted, disjoint skip ranges (whole: but those
 * that meet one), both in bulk (ex for both);
 * gs_target_resume then lets the process go and every later read is served from the copy
 * alone. -1 / 0 for other targets. Returns: 0 or -1; bytes copied. */
int gs_target_image_begin(gs_target *t);
struct gs_exec;
uint64_t gs_target_capture(gs_target *t, const uint64_t (*ranges)[2], size_t n,
			   struct gs_exec *ex);
uint64_t gs_target_capture_mappings(gs_target *t, const uint64_t (*skip)[2], size_t nskip,
				    bool whole, struct gs_exec *ex);
/* Reads the copy could not serve once the process ran again (outside its file mappings),
 * and the first such address; bytes the copy holds. */
uint64_t gs_target_image_misses(const gs_target *t, uint64_t *first);
uint64_t gs_target_image_bytes(const gs_target *t);

/* For a live target: nanoseconds the process has been (or was) paused. 0 otherwise. */
uint64_t gs_target_pause_ns(const gs_target *t);

/* For a live target: makes SIGINT and SIGTERM end the process with _exit(128 + signal),
 * which is all it takes to let the target go — the kernel detaches (and resumes) every
 * seized tracee of a tracer that exits, even one killed by SIGKILL. Installs process-wide
 * handlers (the one piece of process state the library touches; the handler itself holds
 * no state). No-op returning 0 for other kinds; -1 if sigaction fails. */
int gs_target_install_resume_on_signal(gs_target *t);

#endif
