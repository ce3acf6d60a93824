#include "target_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/alloc.h"

#define MAX_BACKING 4096

static size_t source_read(void *ctx, uint64_t addr, void *dst, size_t n);

#define GS_BULK_READ (4u << 10)
static uint64_t source_next(void *ctx, uint64_t addr);

gs_target *gs_target_new(enum gs_target_kind kind, const char *name, const gs_target_ops *ops,
			 void *impl, gs_err *err)
{
	gs_target *t = gs_calloc(1, sizeof *t, err);
	if (!t)
		return NULL;
	t->kind = kind;
	t->name = gs_strdup(name, err);
	t->ops = ops;
	t->impl = impl;
	gs_page_source src = { .ctx = t, .read = source_read, .next = source_next };
	t->cache = t->name ? gs_page_cache_new(&src, GS_PAGE_CACHE_DEFAULT_BYTES) : NULL;
	if (!t->cache) {
		if (t->name)
			gs_err_nomem(err, GS_PAGE_CACHE_DEFAULT_BYTES);
		free(t->name);
		free(t);
		return NULL;
	}
	return t;
}

gs_target *gs_target_view(gs_target *t)
{
	if (t->kind != GS_TARGET_CORE)
		return NULL;
	if (t->parent)
		t = t->parent;
	gs_target *v = malloc(sizeof *v);
	if (!v)
		return NULL;
	*v = *t;
	v->parent = t;
	gs_page_source src = { .ctx = v, .read = source_read, .next = source_next };
	v->cache = gs_page_cache_new(&src, GS_PAGE_CACHE_VIEW_BYTES);
	if (!v->cache) {
		free(v);
		return NULL;
	}
	return v;
}

void gs_target_release_cache(gs_target *t)
{
	if (t && t->cache)
		gs_page_cache_release(t->cache);
}

void gs_target_close(gs_target *t)
{
	if (!t)
		return;
	if (t->parent) { /* a view owns its cache only */
		gs_page_cache_free(t->cache);
		free(t);
		return;
	}
	if (t->ops->resume)
		t->ops->resume(t);
	t->ops->destroy(t);
	for (size_t i = 0; i < t->nmappings; i++)
		free(t->mappings[i].path);
	for (size_t i = 0; i < t->nbacking; i++) {
		if (t->backing[i].owns_fd)
			close(t->backing[i].fd);
		free(t->backing[i].path);
	}
	gs_page_cache_free(t->cache);
	free(t->threads);
	free(t->mappings);
	free(t->auxv);
	free(t->backing);
	free(t->exe_path);
	free(t->notes_problem);
	free(t->name);
	free(t);
}

void gs_target_resume(gs_target *t)
{
	if (t && !t->parent && t->ops->resume) {
		t->ops->resume(t);
		/* Pages read while paused describe a process that has moved on. */
		gs_page_cache_invalidate(t->cache);
	}
}

enum gs_target_kind gs_target_kind(const gs_target *t)
{
	return t->kind;
}

const char *gs_target_name(const gs_target *t)
{
	return t->name;
}

uint64_t gs_target_missing_bytes(const gs_target *t)
{
	return t->ops->missing ? t->ops->missing(t) : 0;
}

const char *gs_target_notes_problem(const gs_target *t)
{
	return t->parent ? t->parent->notes_problem : t->notes_problem;
}

uint64_t gs_target_next_dumped(gs_target *t, uint64_t addr)
{
	return t->kind == GS_TARGET_CORE && t->ops->next ? t->ops->next(t, addr) : UINT64_MAX;
}

int gs_target_mapped(const gs_target *t, uint64_t addr)
{
	return t->ops->mapped ? t->ops->mapped(t, addr) : -1;
}

uint64_t gs_target_pause_ns(const gs_target *t)
{
	return t->ops->pause_ns ? t->ops->pause_ns(t) : 0;
}

/* ---- threads, mappings, auxv ---- */

void gs_target_add_thread(gs_target *t, const gs_thread *th)
{
	if (t->nthreads == t->threads_cap) {
		size_t cap = t->threads_cap ? t->threads_cap * 2 : 8;
		gs_thread *v = gs_reallocarray(t->threads, cap, sizeof *v, NULL);
		if (!v) {
			t->nomem = true;
			return;
		}
		t->threads = v;
		t->threads_cap = cap;
	}
	t->threads[t->nthreads++] = *th;
}

size_t gs_target_nthreads(const gs_target *t)
{
	return t->nthreads;
}

const gs_thread *gs_target_thread(const gs_target *t, size_t i)
{
	return i < t->nthreads ? &t->threads[i] : NULL;
}

void gs_target_push_mapping(gs_target *t, uint64_t start, uint64_t end, uint64_t file_offset,
			    const char *path)
{
	if (t->nmappings == t->mappings_cap) {
		size_t cap = t->mappings_cap ? t->mappings_cap * 2 : 16;
		gs_mapping *v = gs_reallocarray(t->mappings, cap, sizeof *v, NULL);
		if (!v) {
			t->nomem = true;
			return;
		}
		t->mappings = v;
		t->mappings_cap = cap;
	}
	char *p = gs_strdup(path, NULL);
	if (!p) {
		t->nomem = true;
		return;
	}
	t->mappings[t->nmappings++] = (gs_mapping){ start, end, file_offset, p };
}

size_t gs_target_nmappings(const gs_target *t)
{
	return t->nmappings;
}

const gs_mapping *gs_target_mapping(const gs_target *t, size_t i)
{
	return i < t->nmappings ? &t->mappings[i] : NULL;
}

void gs_target_set_auxv(gs_target *t, const uint64_t *pairs, size_t npairs)
{
	free(t->auxv);
	t->auxv = npairs ? gs_calloc(npairs * 2, sizeof *pairs, NULL) : NULL;
	if (npairs && !t->auxv) {
		t->nomem = true;
		npairs = 0;
	}
	if (npairs)
		memcpy(t->auxv, pairs, npairs * 2 * sizeof *pairs);
	t->nauxv = npairs;
}

int gs_target_auxv(const gs_target *t, uint64_t type, uint64_t *val)
{
	for (size_t i = 0; i < t->nauxv; i++) {
		if (t->auxv[2 * i] == type) {
			*val = t->auxv[2 * i + 1];
			return 0;
		}
	}
	return -1;
}

void gs_target_set_exe_path(gs_target *t, const char *path)
{
	free(t->exe_path);
	t->exe_path = path ? gs_strdup(path, NULL) : NULL;
	if (path && !t->exe_path)
		t->nomem = true;
}

int gs_target_alloc_check(const gs_target *t, gs_err *err)
{
	if (t->nomem)
		return gs_errf(err, GS_EINTERNAL, "%s: out of memory", t->name);
	return 0;
}

const char *gs_target_exe_path(const gs_target *t)
{
	return t->exe_path;
}

void gs_target_exe_from_auxv(gs_target *t)
{
	static const uint64_t keys[] = { 3 /* AT_PHDR */, 9 /* AT_ENTRY */ };
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		uint64_t v;
		if (gs_target_auxv(t, keys[k], &v) != 0)
			continue;
		for (size_t i = 0; i < t->nmappings; i++) {
			if (v >= t->mappings[i].start && v < t->mappings[i].end) {
				gs_target_set_exe_path(t, t->mappings[i].path);
				return;
			}
		}
	}
}

void gs_regs_from_amd64_user(const uint64_t r[GS_AMD64_USER_REGS], gs_regs *o)
{
	/* struct user_regs_struct: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi
	 * orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs */
	*o = (gs_regs){
		.r15 = r[0], .r14 = r[1], .r13 = r[2], .r12 = r[3], .rbp = r[4], .rbx = r[5],
		.r11 = r[6], .r10 = r[7], .r9 = r[8], .r8 = r[9], .rax = r[10], .rcx = r[11],
		.rdx = r[12], .rsi = r[13], .rdi = r[14], .rip = r[16], .eflags = r[18],
		.rsp = r[19], .fs_base = r[21], .gs_base = r[22],
	};
}

/* ---- backing files ---- */

int gs_target_add_backing(gs_target *t, const char *path, uint64_t vaddr, uint64_t size,
			  uint64_t file_offset, gs_err *err)
{
	if (t->parent)
		return gs_errf(err, GS_EINTERNAL, "backing files are added to a target, not a view");
	if (size == 0)
		return 0;
	if (vaddr + size < vaddr || file_offset > (uint64_t)INT64_MAX)
		return gs_errf(err, GS_EINPUT, "%s: backing region 0x%" PRIx64 "+0x%" PRIx64
				" out of range", path, vaddr, size);
	if (t->nbacking >= MAX_BACKING)
		return gs_errf(err, GS_EINPUT, "%s: too many backing regions", path);
	int fd = -1, owns = 1;
	for (size_t i = 0; i < t->nbacking; i++) {
		if (strcmp(t->backing[i].path, path) == 0) {
			fd = t->backing[i].fd;
			owns = 0;
			break;
		}
	}
	if (fd < 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return gs_errf(err, GS_EINPUT, "%s: cannot open: %s", path, strerror(errno));
		struct stat st;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return gs_errf(err, GS_EINPUT, "%s: not a regular file", path);
		}
	}
	char *copy = gs_strdup(path, err);
	if (copy && t->nbacking == t->backing_cap) {
		size_t cap = t->backing_cap ? t->backing_cap * 2 : 8;
		gs_backing *v = gs_reallocarray(t->backing, cap, sizeof *v, err);
		if (v) {
			t->backing = v;
			t->backing_cap = cap;
		} else {
			free(copy);
			copy = NULL;
		}
	}
	if (!copy) {
		if (owns)
			close(fd);
		return -1;
	}
	t->backing[t->nbacking++] = (gs_backing){ vaddr, size, file_offset, fd, owns, copy };
	/* Pages cached as unreadable may now be served. */
	gs_page_cache_invalidate(t->cache);
	return 0;
}

static const gs_backing *backing_at(const gs_target *t, uint64_t addr)
{
	for (size_t i = 0; i < t->nbacking; i++) {
		const gs_backing *b = &t->backing[i];
		if (addr >= b->vaddr && addr - b->vaddr < b->size)
			return b;
	}
	return NULL;
}

static size_t backing_read(const gs_target *t, uint64_t addr, uint8_t *dst, uint64_t n)
{
	const gs_backing *b = backing_at(t, addr);
	if (!b)
		return 0;
	uint64_t rel = addr - b->vaddr;
	if (n > b->size - rel)
		n = b->size - rel;
	if (rel > (uint64_t)INT64_MAX - b->file_offset)
		return 0;
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(b->fd, dst + done, (size_t)(n - done),
				  (off_t)(b->file_offset + rel + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	return done;
}

static uint64_t backend_next(gs_target *t, uint64_t addr)
{
	if (t->ops->next)
		return t->ops->next(t, addr);
	uint64_t next_page = (addr | (GS_PAGE_SIZE - 1)) + 1;
	return next_page ? next_page : UINT64_MAX;
}

/* The backend first, backing regions for what it lacks. */
static size_t source_read(void *ctx, uint64_t addr, void *dst, size_t n)
{
	gs_target *t = ctx;
	uint8_t *out = dst;
	size_t done = 0;
	while (done < n) {
		uint64_t a = addr + done;
		size_t k = t->ops->read(t, a, out + done, n - done);
		if (k > n - done)
			k = n - done;
		if (k) {
			done += k;
			continue;
		}
		uint64_t lim = n - done, nb = backend_next(t, a);
		if (nb - a < lim)
			lim = nb - a;
		k = backing_read(t, a, out + done, lim);
		if (!k)
			break;
		done += k;
	}
	return done;
}

static uint64_t source_next(void *ctx, uint64_t addr)
{
	gs_target *t = ctx;
	uint64_t best = backend_next(t, addr);
	for (size_t i = 0; i < t->nbacking; i++)
		if (t->backing[i].vaddr > addr && t->backing[i].vaddr < best)
			best = t->backing[i].vaddr;
	return best;
}

/* ---- reads ---- */

int gs_target_read_bulk(gs_target *t, uint64_t addr, void *dst, size_t n, gs_err *err)
{
	size_t k = n ? source_read(t, addr, dst, n) : 0;
	if (k == n)
		return 0;
	if (t->ops->note_miss)
		t->ops->note_miss(t, addr + k);
	return gs_err_mem(err, addr, n, k, true); /* a bulk read names its extent */
}

int gs_target_read(gs_target *t, uint64_t addr, void *dst, size_t n, gs_err *err)
{
	if (n == 0)
		return 0;
	/* Bulk reads (a goroutine's stack, heap spans) go around the page cache: one copy
	 * costs less than filling pages one by one and does not evict the small objects the
	 * cache is for. */
	if (n >= GS_BULK_READ)
		return gs_target_read_bulk(t, addr, dst, n, err);
	size_t k = gs_page_cache_read(t->cache, addr, dst, n);
	if (k == n)
		return 0;
	if (t->ops->note_miss)
		t->ops->note_miss(t, addr + k);
	return gs_err_mem(err, addr, n, k, false);
}

int gs_target_read_u64(gs_target *t, uint64_t addr, uint64_t *v, gs_err *err)
{
	uint8_t b[8];
	if (gs_target_read(t, addr, b, sizeof b, err) != 0)
		return -1;
	uint64_t x = 0;
	for (int i = 7; i >= 0; i--)
		x = x << 8 | b[i];
	*v = x;
	return 0;
}

int gs_target_read_u32(gs_target *t, uint64_t addr, uint32_t *v, gs_err *err)
{
	uint8_t b[4];
	if (gs_target_read(t, addr, b, sizeof b, err) != 0)
		return -1;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return 0;
}
