/* What the target backends share: the gs_target object and the hooks each backend fills.
 * Private to analyzer/src/target/; the layers above see only target.h.
 *
 * A backend supplies raw memory reads and its own teardown. target.c puts backing files
 * behind the backend (for bytes it does not have) and the page cache in front of both.
 */
#ifndef GS_TARGET_IMPL_H
#define GS_TARGET_IMPL_H

#include "page_cache.h"
#include "target.h"

typedef struct gs_target_ops {
	/* Copies up to n bytes at addr; returns the readable prefix length (0..n). */
	size_t (*read)(gs_target *t, uint64_t addr, void *dst, size_t n);
	/* Lowest address > addr where the backend may have bytes again; NULL: whole pages. */
	uint64_t (*next)(gs_target *t, uint64_t addr);
	/* Lets the process go (live only); NULL otherwise. */
	void (*resume)(gs_target *t);
	uint64_t (*pause_ns)(const gs_target *t);
	/* Frees t->impl. */
	void (*destroy)(gs_target *t);
	/* Bytes the process had that this source lost (a truncated core); NULL: none. */
	uint64_t (*missing)(const gs_target *t);
	/* 1 when addr lies in the process's address space as the source records it (a core's
	 * PT_LOAD, dumped or not), 0 when not; NULL: unknown. */
	int (*mapped)(const gs_target *t, uint64_t addr);
	/* A read failed at addr (live copies count what they left out); NULL: nothing. */
	void (*note_miss)(gs_target *t, uint64_t addr);
} gs_target_ops;

typedef struct gs_backing {
	uint64_t vaddr, size, file_offset;
	int fd;
	int owns_fd; /* several regions of one file share the first region's fd */
	char *path;
} gs_backing;

struct gs_target {
	enum gs_target_kind kind;
	char *name;
	const gs_target_ops *ops;
	void *impl;

	gs_thread *threads;
	size_t nthreads, threads_cap;
	gs_mapping *mappings;
	size_t nmappings, mappings_cap;
	uint64_t *auxv; /* type, value pairs */
	size_t nauxv;
	char *exe_path;
	char *notes_problem; /* why a core's notes are incomplete (cut short, corrupt), or NULL */
	gs_backing *backing;
	size_t nbacking, backing_cap;
	bool nomem; /* a call that returns nothing could not allocate (gs_target_alloc_check) */

	gs_page_cache *cache;
	/* A view (gs_target_view): everything above is the parent's, read-only; only the
	 * page cache is the view's own. */
	gs_target *parent;
};

/* NULL when out of memory: impl is then still the caller's to free. */
gs_target *gs_target_new(enum gs_target_kind kind, const char *name, const gs_target_ops *ops,
			 void *impl, gs_err *err);
void gs_target_push_mapping(gs_target *t, uint64_t start, uint64_t end, uint64_t file_offset,
			    const char *path);
void gs_target_set_auxv(gs_target *t, const uint64_t *pairs, size_t npairs);
void gs_target_set_exe_path(gs_target *t, const char *path);
/* The executable is the mapping that holds AT_PHDR (or else AT_ENTRY). */
void gs_target_exe_from_auxv(gs_target *t);

/* Register slots of the kernel's amd64 struct user_regs_struct, in order (27 words), as found
 * in NT_PRSTATUS and returned by PTRACE_GETREGS. */
#define GS_AMD64_USER_REGS 27
void gs_regs_from_amd64_user(const uint64_t raw[GS_AMD64_USER_REGS], gs_regs *out);

#endif
