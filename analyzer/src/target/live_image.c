#include "live_image.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "../util/executor.h"
#include "../util/strbuf.h"

#define PAGE 4096u
#define IOV_BATCH 1024
/* Copies at least this large get memory of their own from mmap, advised to be backed by
 * huge pages: faulting in the destination 4 KiB at a time would cost the pause as much as
 * the copy. */
#define BIG_BLOCK ((size_t)1 << 20)
/* A copy this large is split between the caller and a worker thread. */
#define SPLIT_MIN ((uint64_t)4 << 20)

struct gs_image_block {
	uint8_t *p;
	size_t len;
	int mapped;
};

/* False when out of memory (p is the caller's to free). */
static bool push_block(gs_image *im, uint8_t *p, size_t len, int mapped)
{
	if (im->nblocks == im->bcap) {
		void *v = gs_reallocarray(im->blocks, im->bcap ? im->bcap * 2 : 16, sizeof *im->blocks, NULL);
		if (!v)
			return false;
		im->blocks = v;
		im->bcap = im->bcap ? im->bcap * 2 : 16;
	}
	im->blocks[im->nblocks++] = (struct gs_image_block){ p, len, mapped };
	return true;
}

void gs_image_reserve(gs_image *im, size_t len)
{
	len = (len + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
	if (im->pool || !len)
		return;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	madvise(p, len, MADV_HUGEPAGE);
	for (size_t off = 0; off < len; off += PAGE)
		((volatile uint8_t *)p)[off] = 0;
	im->pool = p;
	im->pool_len = len;
}

void gs_image_trim(gs_image *im)
{
	size_t used = (im->pool_used + PAGE - 1) & ~(size_t)(PAGE - 1);
	if (im->pool && used < im->pool_len)
		madvise(im->pool + used, im->pool_len - used, MADV_DONTNEED);
}

static uint8_t *new_block(gs_image *im, size_t len)
{
	size_t a = (len + 63) & ~(size_t)63;
	if (im->pool && a <= im->pool_len - im->pool_used) {
		uint8_t *p = im->pool + im->pool_used;
		im->pool_used += a;
		return p;
	}
	if (len >= BIG_BLOCK) {
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			madvise(p, len, MADV_HUGEPAGE);
			if (push_block(im, p, len, 1))
				return p;
			munmap(p, len);
			im->nomem = true;
			return NULL;
		}
	}
	uint8_t *p = gs_malloc(len, NULL);
	if (!p || !push_block(im, p, len, 0)) {
		free(p);
		im->nomem = true;
		return NULL;
	}
	return p;
}

void gs_image_free(gs_image *im)
{
	for (size_t i = 0; i < im->nblocks; i++) {
		if (im->blocks[i].mapped)
			munmap(im->blocks[i].p, im->blocks[i].len);
		else
			free(im->blocks[i].p);
	}
	free(im->blocks);
	if (im->pool)
		munmap(im->pool, im->pool_len);
	free(im->ext);
	free(im->pending);
	free(im->regions);
	memset(im, 0, sizeof *im);
}

void gs_image_add(gs_image *im, uint64_t addr, uint64_t len, const uint8_t *data)
{
	if (!len)
		return;
	if (im->npending == im->pcap) {
		void *v = gs_reallocarray(im->pending, im->pcap ? im->pcap * 2 : 256, sizeof *im->pending, NULL);
		if (!v) {
			im->nomem = true;
			return;
		}
		im->pending = v;
		im->pcap = im->pcap ? im->pcap * 2 : 256;
	}
	im->pending[im->npending++] = (gs_image_ext){ addr, len, data };
}

void gs_image_record(gs_image *im, uint64_t addr, const void *src, size_t n)
{
	if (!n)
		return;
	uint8_t *b = new_block(im, n);
	if (!b)
		return;
	memcpy(b, src, n);
	im->bytes += n;
	gs_image_add(im, addr, n, b);
}

static int cmp_ext(const void *a, const void *b)
{
	const gs_image_ext *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->len > y->len ? -1 : x->len < y->len; /* the longer first */
}

void gs_image_settle(gs_image *im)
{
	if (!im->npending)
		return;
	size_t total = im->n + im->npending;
	if (total > im->cap) {
		void *v = gs_reallocarray(im->ext, total, sizeof *im->ext, NULL);
		if (!v) { /* what is pending stays out of reach */
			im->nomem = true;
			return;
		}
		im->ext = v;
		im->cap = total;
	}
	memcpy(im->ext + im->n, im->pending, im->npending * sizeof *im->pending);
	im->npending = 0;
	qsort(im->ext, total, sizeof *im->ext, cmp_ext);
	/* Everything was copied in one pause: where two extents overlap their bytes are equal,
	 * so the earlier keeps them and the later is trimmed. */
	size_t k = 0;
	uint64_t end = 0;
	for (size_t i = 0; i < total; i++) {
		gs_image_ext e = im->ext[i];
		uint64_t e_end = e.addr + e.len;
		if (k && e_end <= end)
			continue;
		if (k && e.addr < end) {
			uint64_t cut = end - e.addr;
			e.addr = end;
			e.len -= cut;
			if (e.data)
				e.data += cut;
		}
		im->ext[k++] = e;
		end = e_end;
	}
	im->n = k;
}

size_t gs_image_read(const gs_image *im, uint64_t addr, void *dst, size_t n)
{
	size_t lo = 0, hi = im->n;
	while (lo < hi) { /* the first extent that ends past addr */
		size_t mid = lo + (hi - lo) / 2;
		if (im->ext[mid].addr + im->ext[mid].len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint8_t *out = dst;
	size_t done = 0;
	for (size_t i = lo; i < im->n && done < n; i++) {
		const gs_image_ext *e = &im->ext[i];
		uint64_t a = addr + done;
		if (e->addr > a)
			break;
		uint64_t off = a - e->addr, k = e->len - off;
		if (k > n - done)
			k = n - done;
		if (e->data)
			memcpy(out + done, e->data + off, (size_t)k);
		else
			memset(out + done, 0, (size_t)k);
		done += (size_t)k;
	}
	return done;
}

uint64_t gs_image_next(const gs_image *im, uint64_t addr)
{
	size_t lo = 0, hi = im->n;
	while (lo < hi) { /* the first extent that starts past addr */
		size_t mid = lo + (hi - lo) / 2;
		if (im->ext[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < im->n ? im->ext[lo].addr : UINT64_MAX;
}

int gs_image_in_region(const gs_image *im, uint64_t addr)
{
	size_t lo = 0, hi = im->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (im->regions[mid][1] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < im->nregions && im->regions[lo][0] <= addr;
}

/* What one thread copies: ranges r[0, m) into buf, in order; the extents it read are kept
 * in its own list (the image is not shared between threads) and added by the caller. */
typedef struct copy_part {
	pid_t pid;
	int memfd;
	const uint64_t (*r)[2];
	size_t m;
	uint8_t *buf;
	gs_image_ext *ext;
	size_t n, cap;
	uint64_t got;
	bool nomem;
} copy_part;

static void part_add(copy_part *p, uint64_t addr, uint64_t len, const uint8_t *data)
{
	if (!len)
		return;
	if (p->n == p->cap) {
		void *v = gs_reallocarray(p->ext, p->cap ? p->cap * 2 : 256, sizeof *p->ext, NULL);
		if (!v) {
			p->nomem = true;
			return;
		}
		p->ext = v;
		p->cap = p->cap ? p->cap * 2 : 256;
	}
	p->ext[p->n++] = (gs_image_ext){ addr, len, data };
}

/* The pages of one range the kernel would not copy whole: page by page, readable ones
 * kept. */
static void copy_slowly(copy_part *p, uint64_t addr, uint64_t len, uint8_t *dst)
{
	uint64_t run = 0;
	for (uint64_t off = 0; off < len;) {
		uint64_t a = addr + off, k = PAGE - (a % PAGE);
		if (k > len - off)
			k = len - off;
		ssize_t r = p->memfd >= 0 && a <= (uint64_t)INT64_MAX
			? pread(p->memfd, dst + off, (size_t)k, (off_t)a) : -1;
		if (r == (ssize_t)k) {
			p->got += k;
			off += k;
			continue;
		}
		if (off > run)
			part_add(p, addr + run, off - run, dst + run);
		off += k;
		run = off;
	}
	if (len > run)
		part_add(p, addr + run, len - run, dst + run);
}

static void copy_run(void *arg)
{
	copy_part *p = arg;
	struct iovec loc[IOV_BATCH], rem[IOV_BATCH];
	uint64_t off = 0;
	size_t i = 0;
	while (i < p->m) {
		size_t k = 0;
		uint64_t want = 0;
		for (; k < IOV_BATCH && i + k < p->m; k++) {
			loc[k] = (struct iovec){ p->buf + off + want, (size_t)p->r[i + k][1] };
			rem[k] = (struct iovec){ (void *)(uintptr_t)p->r[i + k][0], (size_t)p->r[i + k][1] };
			want += p->r[i + k][1];
		}
		ssize_t c = process_vm_readv(p->pid, loc, (unsigned long)k, rem, (unsigned long)k, 0);
		uint64_t done = c > 0 ? (uint64_t)c : 0;
		/* The ranges copied whole, then the one it stopped in, page by page. */
		size_t j = 0;
		for (; j < k && done >= p->r[i + j][1]; j++) {
			part_add(p, p->r[i + j][0], p->r[i + j][1], p->buf + off);
			done -= p->r[i + j][1];
			off += p->r[i + j][1];
			p->got += p->r[i + j][1];
		}
		if (j < k) {
			copy_slowly(p, p->r[i + j][0], p->r[i + j][1], p->buf + off);
			off += p->r[i + j][1];
			j++;
		}
		i += j;
	}
}

static int cmp_range(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

uint64_t gs_image_copy(gs_image *im, pid_t pid, int memfd, const uint64_t (*ranges)[2], size_t n,
		       struct gs_exec *ex)
{
	if (!n)
		return 0;
	/* Sorted and joined: overlapping or touching ranges are one copy. */
	uint64_t (*r)[2] = gs_calloc(n, sizeof *r, NULL);
	if (!r) {
		im->nomem = true;
		return 0;
	}
	memcpy(r, ranges, n * sizeof *r);
	qsort(r, n, sizeof *r, cmp_range);
	size_t m = 0;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (!r[i][1] || r[i][0] + r[i][1] < r[i][0])
			continue;
		if (m && r[i][0] <= r[m - 1][0] + r[m - 1][1]) {
			uint64_t end = r[i][0] + r[i][1];
			if (end > r[m - 1][0] + r[m - 1][1])
				r[m - 1][1] = end - r[m - 1][0];
		} else {
			r[m][0] = r[i][0];
			r[m][1] = r[i][1];
			m++;
		}
	}
	for (size_t i = 0; i < m; i++)
		total += r[i][1];
	uint8_t *buf = new_block(im, (size_t)total);
	if (!buf) {
		free(r);
		return 0;
	}
	/* Two halves by bytes, the second on a worker thread when there is one: the copy is
	 * the kernel's work, per page, and the process waits for it. */
	copy_part part[2] = { { pid, memfd, (const uint64_t(*)[2])r, m, buf, NULL, 0, 0, 0, false },
			      { pid, memfd, NULL, 0, NULL, NULL, 0, 0, 0, false } };
	gs_job job;
	bool two = false;
	if (ex && total >= SPLIT_MIN && m > 1) {
		size_t h = 0;
		uint64_t acc = 0;
		while (h < m - 1 && acc + r[h][1] <= total / 2)
			acc += r[h++][1];
		h = h ? h : 1;
		acc = 0;
		for (size_t i = 0; i < h; i++)
			acc += r[i][1];
		part[0].m = h;
		part[1].r = (const uint64_t(*)[2])(r + h);
		part[1].m = m - h;
		part[1].buf = buf + acc;
		two = gs_exec_submit(ex, &job, copy_run, &part[1]);
		if (!two)
			part[0].m = m;
	}
	copy_run(&part[0]);
	if (two)
		gs_exec_join(&job);
	uint64_t got = 0;
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < part[k].n; i++)
			gs_image_add(im, part[k].ext[i].addr, part[k].ext[i].len, part[k].ext[i].data);
		got += part[k].got;
		im->nomem |= part[k].nomem;
		free(part[k].ext);
	}
	free(r);
	im->bytes += got;
	return got;
}

/* ---- whole mappings ---- */

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61)

typedef struct ranges {
	uint64_t (*v)[2];
	size_t n, cap;
	bool nomem;
} ranges;

static void push_range(ranges *rs, uint64_t a, uint64_t len)
{
	if (rs->n && rs->v[rs->n - 1][0] + rs->v[rs->n - 1][1] == a) {
		rs->v[rs->n - 1][1] += len;
		return;
	}
	if (rs->n == rs->cap) {
		void *v = gs_reallocarray(rs->v, rs->cap ? rs->cap * 2 : 64, sizeof *rs->v, NULL);
		if (!v) {
			rs->nomem = true;
			return;
		}
		rs->v = v;
		rs->cap = rs->cap ? rs->cap * 2 : 64;
	}
	rs->v[rs->n][0] = a;
	rs->v[rs->n][1] = len;
	rs->n++;
}

/* [s, e) of one mapping, its pages sorted into copies and zeros by the page map. */
static void classify(int pmfd, uint64_t s, uint64_t e, int anon, ranges *copy, ranges *zero)
{
	enum { CHUNK = 4096 };
	uint64_t pm[CHUNK];
	for (uint64_t a = s; a < e;) {
		uint64_t np = (e - a) / PAGE;
		if (np > CHUNK)
			np = CHUNK;
		ssize_t r = pread(pmfd, pm, np * 8, (off_t)(a / PAGE * 8));
		if (r <= 0) { /* no page map: copy it all */
			push_range(copy, a, e - a);
			return;
		}
		np = (uint64_t)r / 8;
		for (uint64_t i = 0; i < np; i++, a += PAGE) {
			uint64_t w = pm[i];
			if (w & PM_SWAPPED || (w & PM_PRESENT && (anon || !(w & PM_FILE))))
				push_range(copy, a, PAGE);
			else if (anon && !(w & PM_PRESENT))
				push_range(zero, a, PAGE); /* never touched: zeros */
			/* else a file page the process did not write: the file's bytes */
		}
	}
}

static int skip_name(const char *name)
{
	return strncmp(name, "[vvar", 5) == 0 || strcmp(name, "[vsyscall]") == 0;
}

uint64_t gs_image_copy_mappings(gs_image *im, pid_t pid, int memfd,
				const uint64_t (*skip)[2], size_t nskip, bool whole,
				struct gs_exec *ex)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
	int pmfd = open(path, O_RDONLY | O_CLOEXEC);
	if (!f) {
		if (pmfd >= 0)
			close(pmfd);
		return 0;
	}
	ranges copy = { 0 }, zero = { 0 };
	char line[4096];
	while (fgets(line, sizeof line, f)) {
		uint64_t s, e, off;
		unsigned long long inode;
		char perms[8] = "";
		int pos = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %llu %n", &s, &e,
			   perms, &off, &inode, &pos) < 5)
			continue;
		char *name = line + pos;
		name[strcspn(name, "\n")] = '\0';
		int anon = inode == 0;
		if (perms[0] != 'r' || skip_name(name))
			continue;
		if (im->nregions == im->rcap) {
			void *v = gs_reallocarray(im->regions, im->rcap ? im->rcap * 2 : 64,
						  sizeof *im->regions, NULL);
			if (!v) {
				im->nomem = true;
				break;
			}
			im->regions = v;
			im->rcap = im->rcap ? im->rcap * 2 : 64;
		}
		im->regions[im->nregions][0] = s;
		im->regions[im->nregions++][1] = e;
		if (perms[3] != 'p' || (!anon && perms[1] != 'w'))
			continue;
		/* Minus the skipped ranges (sorted, disjoint), or not at all if it meets one. */
		bool meets = false;
		for (size_t i = 0; whole && i < nskip && !meets; i++)
			meets = skip[i][0] < e && skip[i][0] + skip[i][1] > s;
		if (meets)
			continue;
		uint64_t a = s;
		for (size_t i = 0; i < nskip && a < e; i++) {
			uint64_t ks = skip[i][0], ke = skip[i][0] + skip[i][1];
			if (ke <= a || ks >= e)
				continue;
			if (ks > a)
				classify(pmfd, a, ks, anon, &copy, &zero);
			a = ke;
		}
		if (a < e)
			classify(pmfd, a, e, anon, &copy, &zero);
	}
	fclose(f);
	if (pmfd >= 0)
		close(pmfd);
	for (size_t i = 0; i < zero.n; i++)
		gs_image_add(im, zero.v[i][0], zero.v[i][1], NULL);
	uint64_t got = gs_image_copy(im, pid, memfd, (const uint64_t(*)[2])copy.v, copy.n, ex);
	im->nomem |= copy.nomem || zero.nomem;
	free(copy.v);
	free(zero.v);
	return got;
}
