#include "model.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>

#include "../util/radix.h"
#include "../util/alloc.h"
#include "../util/strbuf.h"
#include "../binary/goglobals.h"
#include "gread.h"
#include "../util/executor.h"
#include "identity.h"
#include "labels.h"
#include "plausible.h"
#include "rtables.h"
#include "model_internal.h"

/* Bounds against hostile cores: no real program has more goroutines or wait reasons. */
#define GS_MAX_WAITREASONS 256
#define GS_MAX_MS 65536

static int read_field(gs_rt *rt, uint64_t base, enum gs_rt_field f, uint64_t *v)
{
	return gs_layout_read(&rt->layout, f, rt->target, base, 0, v);
}

/* persistentChunks heads the list of 256 KiB chunks the runtime allocates off-heap (the
 * pollDescs among them), each starting with the next one's address: the real head is the
 * candidate with the longest well-formed chain (an allocator's current chunk is a suffix). */
static unsigned chunk_chain(gs_rt *rt, uint64_t a)
{
	uint64_t p;
	unsigned n = 0;
	if (gs_target_read_u64(rt->target, a, &p, NULL) < 0)
		return 0;
	for (; p && n < 4096; n++)
		if ((p & 4095) || gs_target_read_u64(rt->target, p, &p, NULL) < 0)
			return 0;
	return p ? 0 : n;
}

/* allm heads the list of m's (alllink): it ends, and some m's procid is a thread of the
 * snapshot (every one is, unless threads were lost). */
static bool plausible_allm(gs_rt *rt, uint64_t a)
{
	int64_t link = rt->layout.offsets[RT_M_ALLLINK], pid = rt->layout.offsets[RT_M_PROCID];
	uint64_t m;
	size_t threads = gs_target_nthreads(rt->target), matched = 0;
	if (link < 0 || pid < 0 || gs_target_read_u64(rt->target, a, &m, NULL) < 0 || !m)
		return false;
	for (unsigned k = 0; m; k++) {
		uint64_t procid;
		if ((m & 7) || k >= GS_MAX_MS ||
		    read_field(rt, m, RT_M_PROCID, &procid) < 0 ||
		    read_field(rt, m, RT_M_ALLLINK, &m) < 0)
			return false;
		for (size_t i = 0; i < threads; i++)
			matched += (uint64_t)gs_target_thread(rt->target, i)->tid == procid;
	}
	return threads == 0 || matched > 0;
}

/* Fields f and g of the struct at base into v[0] and v[1] (one when f == g), with their
 * types' widths; a binary without the type (stripped, no descriptor) reads the struct's
 * first words, where both fields have been since Go 1.19. */
static bool first_words(gs_rt *rt, uint64_t base, enum gs_rt_field f, enum gs_rt_field g,
			uint64_t *v)
{
	if (gs_layout_has(&rt->layout, f) && gs_layout_has(&rt->layout, g))
		return read_field(rt, base, f, &v[0]) == 0 &&
		       (f == g || read_field(rt, base, g, &v[1]) == 0);
	return gs_target_read(rt->target, base, v, f == g ? 8 : 16, NULL) == 0;
}

/* A global found without DWARF or symbols is one of several candidates from the code that
 * uses it: the first whose contents look like what the runtime keeps there wins. */
static bool plausible_global(gs_rt *rt, const char *name, uint64_t a)
{
	uint64_t w[3];
	gs_target *t = rt->target;
	if (strcmp(name, "runtime.allgs") == 0) {
		int64_t lo = rt->layout.offsets[RT_G_STACK_LO], hi = rt->layout.offsets[RT_G_STACK_HI];
		uint64_t g, slo, shi;
		return gs_target_read(t, a, w, 24, NULL) == 0 && w[0] && !(w[0] & 7) && w[1] &&
		       w[1] <= w[2] && w[2] <= GS_MAX_GOROUTINES &&
		       gs_target_read_u64(t, w[0], &g, NULL) == 0 && g && !(g & 7) && lo >= 0 &&
		       hi >= 0 && read_field(rt, g, RT_G_STACK_LO, &slo) == 0 &&
		       read_field(rt, g, RT_G_STACK_HI, &shi) == 0 && slo < shi &&
		       shi - slo <= (1ull << 30);
	}
	if (strcmp(name, "runtime.allm") == 0) /* the list of m's, whose procids are threads */
		return plausible_allm(rt, a);
	if (strcmp(name, "runtime.itabTable") == 0) /* *itabTableType{size, count, entries} */
		return gs_target_read_u64(t, a, &w[0], NULL) == 0 && w[0] &&
		       first_words(rt, w[0], RT_ITABTABLE_SIZE, RT_ITABTABLE_COUNT, w + 1) &&
		       w[1] && w[1] <= (1u << 24) && !(w[1] & (w[1] - 1)) && w[2] <= w[1];
	if (strcmp(name, "runtime.sched") == 0) /* goidgen counts goroutines */
		return first_words(rt, a, RT_SCHED_GOIDGEN, RT_SCHED_GOIDGEN, w) && w[0] &&
		       w[0] < (1ull << 40);
	return gs_target_read(t, a, w, 8, NULL) == 0;
}

int gs_rt_global(gs_rt *rt, const char *name, uint64_t *addr, gs_err *err)
{
	uint64_t c[GS_GLOBAL_MAX_CANDIDATES];
	size_t n = gs_dwarf_global_candidates(rt->dwarf, name, c, GS_GLOBAL_MAX_CANDIDATES);
	bool exact = gs_dwarf_has_dwarf(rt->dwarf) ||
		     gs_binary_symbol(rt->binary, name, addr, NULL) == 0;
	bool chunks = !exact && strcmp(name, "runtime.persistentChunks") == 0;
	unsigned best = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned score = exact ? 1 : chunks ? chunk_chain(rt, c[i] + rt->bias)
				: plausible_global(rt, name, c[i] + rt->bias);
		if (score > best) {
			best = score;
			*addr = c[i] + rt->bias;
		}
		if (score && !chunks)
			break;
	}
	if (best)
		return 0;
	if (n && !exact)
		return gs_errf(err, GS_EINPUT,
			       "%s: no plausible %s (%zu candidates from the code rejected)",
			       gs_binary_path(rt->binary), name, n);
	return gs_errf(err, GS_ENOTFOUND, "%s: no such global", name);
}

int gs_rt_read_string(gs_rt *rt, uint64_t addr, char *buf, size_t cap, gs_err *err)
{
	uint64_t hdr[2];
	if (gs_target_read(rt->target, addr, hdr, sizeof hdr, err) < 0)
		return -1;
	uint64_t n = hdr[1];
	if (n >= cap)
		n = cap - 1;
	if (n && gs_target_read(rt->target, hdr[0], buf, n, err) < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int load_version(gs_rt *rt, gs_err *err)
{
	char v[64];
	uint64_t a;
	if (gs_rt_global(rt, "runtime.buildVersion", &a, NULL) == 0 &&
	    gs_rt_read_string(rt, a, v, sizeof v, NULL) == 0 && strncmp(v, "go", 2) == 0) {
		rt->go_version = gs_strdup(v, err);
		return rt->go_version ? 0 : -1;
	}
	gs_buildinfo bi;
	if (gs_buildinfo_read(rt->binary, &bi, err) == 0) {
		if (bi.go_version && !(rt->go_version = gs_strdup(bi.go_version, err))) {
			gs_buildinfo_free(&bi);
			return -1;
		}
		gs_buildinfo_free(&bi);
	} else if (err && err->code == GS_EINTERNAL) { /* out of memory */
		return -1;
	}
	if (!rt->go_version)
		rt->go_version = gs_strdup("unknown", err);
	return rt->go_version ? 0 : -1;
}

/* Wait-reason strings come from the binary (runtime.waitReasonStrings), never a table. */
static int load_wait_reasons(gs_rt *rt, gs_err *err)
{
	uint64_t addr;
	const gs_dtype *type = NULL;
	size_t n = 0;
	if (gs_dwarf_global(rt->dwarf, "runtime.waitReasonStrings", &addr, &type, NULL) == 0) {
		addr += rt->bias;
		while (type && type->kind == GS_DK_TYPEDEF)
			type = type->elem;
		if (type && type->kind == GS_DK_ARRAY)
			n = type->count;
	}
	if (n > GS_MAX_WAITREASONS)
		n = GS_MAX_WAITREASONS;
	rt->wait_reasons = gs_calloc(n ? n : 1, sizeof *rt->wait_reasons, err);
	if (!rt->wait_reasons)
		return -1;
	rt->nwait_reasons = n;
	for (size_t i = 0; i < n; i++) {
		char s[128];
		if (gs_rt_read_string(rt, addr + 16 * i, s, sizeof s, NULL) < 0)
			snprintf(s, sizeof s, "unreadable wait reason %zu", i);
		if (!(rt->wait_reasons[i] = gs_strdup(s, err)))
			return -1;
	}
	return 0;
}

/* PIE executables are relocated by the loader: the bias is where AT_ENTRY landed minus the
 * file's e_entry (without an auxv: where the target holds the file's first page).
 * Read-only segments a core did not dump are served from the executable, once identity.c
 * found nothing that says it is another program's. */
static int map_executable(gs_rt *rt, bool force, const uint64_t *bias_hint, gs_err *err)
{
	uint64_t entry;
	rt->bias = 0;
	if (gs_binary_is_pie(rt->binary)) {
		if (gs_target_auxv(rt->target, AT_ENTRY, &entry) == 0)
			rt->bias = entry - gs_binary_entry(rt->binary);
		else if (bias_hint)
			rt->bias = *bias_hint;
		else if (gs_identity_bias_from_memory(rt->target, rt->binary, &rt->bias) < 0)
			return gs_errf(err, GS_EINPUT,
				       "%s: PIE executable, and %s records no AT_ENTRY nor holds its "
				       "first page: its load address is unknown",
				       gs_binary_path(rt->binary), gs_target_name(rt->target));
	}
	gs_err e = {0};
	if (gs_identity_check(rt->target, rt->binary, rt->bias, &e) < 0) {
		if (!force)
			return gs_errf(err, e.code, "%s; use --force to read it anyway", e.msg);
		if (!(rt->forced_mismatch = gs_strdup(e.msg, err)))
			return -1;
	}
	for (size_t i = 0; i < gs_binary_nsegments(rt->binary); i++) {
		const gs_segment *s = gs_binary_segment(rt->binary, i);
		if (s->filesz == 0)
			continue;
		if (gs_target_add_backing(rt->target, gs_binary_path(rt->binary),
					  s->vaddr + rt->bias, s->filesz, s->offset, err) < 0)
			return -1;
	}
	return 0;
}

static int cmp_gaddr(const void *a, const void *b)
{
	const gs_goid_index *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Running goroutines take their registers from the thread whose tid is m.procid. */
static void attach_threads(gs_rt *rt)
{
	uint64_t allm;
	if (gs_rt_global(rt, "runtime.allm", &allm, NULL) < 0 ||
	    gs_target_read_u64(rt->target, allm, &allm, NULL) < 0)
		return;
	for (unsigned k = 0; allm && k < GS_MAX_MS; k++) {
		uint64_t procid = 0, curg = 0, next = 0;
		read_field(rt, allm, RT_M_PROCID, &procid);
		read_field(rt, allm, RT_M_CURG, &curg);
		if (read_field(rt, allm, RT_M_ALLLINK, &next) < 0)
			break;
		gs_goroutine *g = curg ? gs_rt_goroutine_by_addr(rt, curg) : NULL;
		if (g) {
			for (size_t i = 0; i < gs_target_nthreads(rt->target); i++) {
				const gs_thread *th = gs_target_thread(rt->target, i);
				if ((uint64_t)th->tid == procid)
					g->thread = th;
			}
		}
		allm = next;
	}
}

static int load_goroutines(gs_rt *rt, gs_err *err)
{
	uint64_t allgs, hdr[3];
	if (gs_rt_global(rt, "runtime.allgs", &allgs, err) < 0)
		return gs_err_wrap(err, "finding goroutines");
	if (gs_target_read(rt->target, allgs, hdr, sizeof hdr, err) < 0)
		return gs_err_wrap(err, "reading runtime.allgs");
	uint64_t n = hdr[1];
	if (n > GS_MAX_GOROUTINES || n > hdr[2])
		return gs_errf(err, GS_EINPUT, "runtime.allgs has an absurd length %llu (cap %llu)",
			       (unsigned long long)n, (unsigned long long)hdr[2]);
	uint64_t *ptrs = gs_calloc(n ? n : 1, 8, err);
	if (!ptrs)
		return -1;
	bool *slot_lost = NULL;
	if (n && gs_target_read(rt->target, hdr[0], ptrs, n * 8, err) < 0) {
		/* In an intact core an unreadable allgs array is a corrupt one; in a truncated
		 * core it is memory that was cut off: what is left is read, the rest named. */
		if (!gs_target_missing_bytes(rt->target)) {
			free(ptrs);
			return gs_err_wrap(err, "reading the allgs array");
		}
		slot_lost = gs_calloc(n, sizeof *slot_lost, err);
		if (!slot_lost) {
			free(ptrs);
			return -1;
		}
		for (uint64_t i = 0; i < n; i++)
			if (gs_target_read(rt->target, hdr[0] + 8 * i, &ptrs[i], 8, NULL) < 0)
				slot_lost[i] = true;
	}
	size_t gsize = rt->layout.sizes[RT_G_GOID];
	bool *ok = gs_calloc(n ? n : 1, sizeof *ok, err);
	rt->gs = slot_lost || !ok ? NULL : gs_gread_take(rt->gread, allgs, hdr, ptrs, gsize, ok);
	int rc = ok ? 0 : -1;
	if (!rt->gs && ok) {
		rt->gs = gs_calloc(n ? n : 1, sizeof *rt->gs, err);
		rc = rt->gs ? gs_gread_all(rt, ptrs, n, gsize, rt->gs, ok, err) : -1;
	}
	if (rc < 0) {
		free(ok);
		free(slot_lost);
		free(ptrs);
		return -1;
	}
	gs_gread_free(rt->gread);
	rt->gread = NULL;
	if (gs_plausible_check(rt, ptrs, n, rt->gs, ok, err) < 0) /* garbage is named, never listed */
		goto nomem;
	/* Compacted in allgs order: dead and idle g's dropped, dead-extra ones kept aside. */
	for (uint64_t i = 0; i < n; i++) {
		if (!ok[i]) {
			if (!rt->unreadable_g) {
				rt->unreadable_g = gs_calloc(GS_MAX_UNREADABLE_GS, sizeof *rt->unreadable_g, err);
				rt->unreadable_slot = gs_calloc(GS_MAX_UNREADABLE_GS, sizeof *rt->unreadable_slot, err);
				if (!rt->unreadable_g || !rt->unreadable_slot)
					goto nomem;
			}
			if (rt->unreadable_gs < GS_MAX_UNREADABLE_GS) {
				bool lost = slot_lost && slot_lost[i];
				rt->unreadable_g[rt->unreadable_gs] = lost ? hdr[0] + 8 * i : ptrs[i];
				rt->unreadable_slot[rt->unreadable_gs] = lost;
			}
			rt->unreadable_gs++;
			continue;
		}
		const gs_goroutine *g = &rt->gs[i];
		if (g->status == GS_G_DEADEXTRA) {
			void *h = gs_reallocarray(rt->hidden, rt->nhidden + 1, sizeof *rt->hidden, err);
			if (!h)
				goto nomem;
			rt->hidden = h;
			rt->hidden[rt->nhidden].goid = g->goid;
			rt->hidden[rt->nhidden++].status = g->status;
			continue;
		}
		if (g->status == GS_G_DEAD || g->status == GS_G_IDLE)
			continue;
		if (rt->ngs != i) /* nothing dropped yet: already in place */
			rt->gs[rt->ngs] = *g;
		rt->ngs++;
	}
	free(ok);
	free(slot_lost);
	free(ptrs);
	/* Dead and idle g's were read too: their slots go. */
	if (rt->ngs < n) {
		/* a shrink that fails keeps the larger block, which is as good */
		gs_goroutine *shrunk = realloc(rt->gs, (rt->ngs ? rt->ngs : 1) * sizeof *rt->gs);
		if (shrunk)
			rt->gs = shrunk;
	}
	rt->by_goid = gs_calloc(rt->ngs ? rt->ngs : 1, sizeof *rt->by_goid, err);
	rt->by_addr = gs_calloc(rt->ngs ? rt->ngs : 1, sizeof *rt->by_addr, err);
	gs_goid_index *tmp = gs_calloc(rt->ngs ? rt->ngs : 1, sizeof *tmp, err);
	if (!rt->by_goid || !rt->by_addr || !tmp) {
		free(tmp);
		return -1; /* the indexes are freed with the model */
	}
	for (size_t i = 0; i < rt->ngs; i++) {
		rt->by_goid[i] = (gs_goid_index){rt->gs[i].goid, rt->gs[i].addr, i};
		rt->by_addr[i] = rt->by_goid[i];
	}
	gs_radix_sort(rt->by_goid, rt->ngs, sizeof *rt->by_goid, offsetof(gs_goid_index, goid), tmp);
	gs_radix_sort(rt->by_addr, rt->ngs, sizeof *rt->by_addr, offsetof(gs_goid_index, addr), tmp);
	free(tmp);
	return 0;
nomem:
	free(ok);
	free(slot_lost);
	free(ptrs);
	return -1;
}

/* nanotime at the snapshot: the newest waitsince is a lower bound; the runtime's own clock
 * (runtime.sched.lastpoll / work.tstart) would be better but is optional. */
static void load_now(gs_rt *rt)
{
	int64_t best = 0;
	uint64_t a, v;
	if (gs_rt_global(rt, "runtime.sched", &a, NULL) == 0) {
		if (read_field(rt, a, RT_SCHED_LASTPOLL, &v) == 0)
			best = (int64_t)v;
	}
	for (size_t i = 0; i < rt->ngs; i++)
		if (rt->gs[i].waitsince > best)
			best = rt->gs[i].waitsince;
	rt->now = best;
}

gs_rt *gs_rt_open(gs_target *t, gs_binary *b, gs_pclntab *pcln, gs_dwarf *d, bool force,
		  gs_err *err)
{
	return gs_rt_open_with_bias(t, b, pcln, d, force, NULL, err);
}

gs_rt *gs_rt_open_with_bias(gs_target *t, gs_binary *b, gs_pclntab *pcln, gs_dwarf *d,
			    bool force, const uint64_t *bias_hint, gs_err *err)
{
	gs_rt *rt = gs_rt_open_layout(t, b, pcln, d, force, bias_hint, err);
	if (rt && gs_rt_load(rt, err) < 0) {
		gs_rt_close(rt);
		return NULL;
	}
	return rt;
}

static uint32_t model_status(const gs_rt *rt, uint32_t raw);

gs_rt *gs_rt_open_layout(gs_target *t, gs_binary *b, gs_pclntab *pcln, gs_dwarf *d, bool force,
			 const uint64_t *bias_hint, gs_err *err)
{
	gs_rt *rt = gs_calloc(1, sizeof *rt, err);
	if (!rt)
		return NULL;
	rt->target = t;
	rt->binary = b;
	rt->pcln = pcln;
	rt->dwarf = d;
	rt->exec = gs_exec_new(GS_EXEC_MAX_THREADS);
	if (!rt->exec) {
		gs_err_nomem(err, sizeof(gs_exec *));
		goto fail;
	}
	if (map_executable(rt, force, bias_hint, err) < 0)
		goto fail;
	rt->gread = gs_gread_start(rt); /* reads the g's while DWARF is read */
	if (gs_rt_register_tables(rt, err) < 0 || gs_rt_unwinder_init(rt, err) < 0)
		goto fail;
	if (gs_layout_resolve(&rt->layout, gs_runtime_fields, RT_NFIELDS, d, err) < 0) {
		gs_err_wrap(err, "%s", gs_binary_path(b));
		goto fail;
	}
	if (load_version(rt, err) < 0)
		goto fail;
	gs_consts_resolve(&rt->consts, d, rt->go_version, NULL);
	for (uint32_t s = 0; s < 32; s++)
		rt->status_of[s] = model_status(rt, s);
	gs_gread_plan(rt);
	uint64_t allgs;
	gs_gread_layout(rt->gread,
			gs_rt_global(rt, "runtime.allgs", &allgs, NULL) == 0 ? allgs : 0,
			(size_t)rt->layout.sizes[RT_G_GOID]);
	if (load_wait_reasons(rt, err) < 0)
		goto fail;
	return rt;
fail:
	gs_rt_close(rt);
	return NULL;
}

int gs_rt_alloc_check(const gs_rt *rt, gs_err *err)
{
	if (rt->nomem || gs_unwinder_nomem(rt->uw) || gs_dwarf_nomem(rt->dwarf) || rt->sema.nomem || rt->netpoll.nomem ||
	    rt->sendq_walked.failed || rt->sending_sudogs.failed)
		return gs_errf(err, GS_EINTERNAL, "out of memory");
	return 0;
}

int gs_rt_load(gs_rt *rt, gs_err *err)
{
	if (load_goroutines(rt, err) < 0)
		return -1;
	attach_threads(rt);
	load_now(rt);
	gs_labels_load(rt);
	return 0;
}

void gs_rt_close(gs_rt *rt)
{
	if (!rt)
		return;
	gs_gread_free(rt->gread);
	/* Every job is joined by now (the heap scan by gs_grpc_close, before this). */
	gs_exec_free(rt->exec);
	for (size_t i = 0; i < rt->ngs; i++) {
		if (!rt->gs[i].frames_chunked)
			free(rt->gs[i].frames);
		free(rt->gs[i].stack_error);
	}
	for (size_t i = 0; i < rt->nwait_reasons; i++)
		free(rt->wait_reasons[i]);
	free(rt->wait_reasons);
	free(rt->gs);
	free(rt->hidden);
	free(rt->by_goid);
	free(rt->by_addr);
	free(rt->go_version);
	free(rt->forced_mismatch);
	gs_plausible_free(rt);
	gs_labels_free(rt);
	gs_chunks_free(&rt->wait_chunks);
	gs_chunks_free(&rt->frame_chunks);
	free(rt->origins);
	gs_sema_index_free(&rt->sema);
	gs_netpoll_index_free(&rt->netpoll);
	gs_u64set_free(&rt->sendq_walked);
	gs_unwinder_free(rt->uw);
	free(rt->unreadable_g);
	free(rt->unreadable_slot);
	gs_u64set_free(&rt->sending_sudogs);
	gs_layout_free(&rt->layout);
	free(rt);
}

const char *gs_rt_go_version(const gs_rt *rt) { return rt->go_version; }
const gs_consts *gs_rt_consts(const gs_rt *rt) { return &rt->consts; }

static uint32_t model_status(const gs_rt *rt, uint32_t raw)
{
	/* Order = GS_K_G_IDLE .. GS_K_G_DEADEXTRA. */
	static const int64_t model[] = {GS_G_IDLE, GS_G_RUNNABLE, GS_G_RUNNING, GS_G_SYSCALL,
					GS_G_WAITING, GS_G_DEAD, GS_G_COPYSTACK, GS_G_PREEMPTED,
					GS_G_LEAKED, GS_G_DEADEXTRA};
	const gs_consts *c = &rt->consts;
	int64_t scan = gs_const(c, GS_K_G_SCAN);
	if (scan != GS_CONST_NONE)
		raw &= ~(uint32_t)scan;
	return (uint32_t)gs_consts_canon(c, GS_K_G_IDLE, 10, model, GS_G_DEADEXTRA + 1, raw);
}

uint32_t gs_rt_model_status(const gs_rt *rt, uint32_t raw)
{
	int64_t scan = gs_const(&rt->consts, GS_K_G_SCAN);
	uint32_t r = scan != GS_CONST_NONE ? raw & ~(uint32_t)scan : raw;
	return r < 32 ? rt->status_of[r] : model_status(rt, raw);
}
void gs_rt_set_grpc_version(gs_rt *rt, const char *v) { gs_consts_set_grpc(&rt->consts, v); }
uint64_t gs_rt_bias(const gs_rt *rt) { return rt->bias; }
const gs_layout *gs_rt_layout(const gs_rt *rt) { return &rt->layout; }
gs_target *gs_rt_target(const gs_rt *rt) { return rt->target; }
struct gs_exec *gs_rt_exec(const gs_rt *rt) { return rt->exec; }
gs_dwarf *gs_rt_dwarf(const gs_rt *rt) { return rt->dwarf; }
gs_pclntab *gs_rt_pclntab(const gs_rt *rt) { return rt->pcln; }
size_t gs_rt_ngoroutines(const gs_rt *rt) { return rt->ngs; }
int64_t gs_rt_off(const gs_rt *rt, enum gs_rt_field f) { return rt->layout.offsets[f]; }
int gs_rt_field(gs_rt *rt, uint64_t base, enum gs_rt_field f, uint64_t *v)
{
	return gs_layout_read(&rt->layout, f, rt->target, base, 0, v);
}

gs_goroutine *gs_rt_goroutine(gs_rt *rt, size_t i)
{
	return i < rt->ngs ? &rt->gs[i] : NULL;
}

/* Inline, not bsearch: the verdicts, groups and cycles look goroutines up by the hundred
 * thousand, and a comparator call per step doubled the cost. Goids are unique. */
gs_goroutine *gs_rt_find_goroutine(gs_rt *rt, uint64_t goid)
{
	size_t lo = 0, hi = rt->ngs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rt->by_goid[mid].goid < goid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < rt->ngs && rt->by_goid[lo].goid == goid ? &rt->gs[rt->by_goid[lo].index]
							    : NULL;
}

gs_goroutine *gs_rt_goroutine_by_addr(gs_rt *rt, uint64_t gaddr)
{
	gs_goid_index key = {0, gaddr, 0};
	gs_goid_index *hit = bsearch(&key, rt->by_addr, rt->ngs, sizeof key, cmp_gaddr);
	return hit ? &rt->gs[hit->index] : NULL;
}

size_t gs_rt_nhidden(const gs_rt *rt) { return rt->nhidden; }

size_t gs_rt_unreadable(const gs_rt *rt, const uint64_t **addrs, const bool **slot,
			size_t *listed)
{
	*addrs = rt->unreadable_g;
	*slot = rt->unreadable_slot;
	*listed = rt->unreadable_gs < GS_MAX_UNREADABLE_GS ? rt->unreadable_gs : GS_MAX_UNREADABLE_GS;
	return rt->unreadable_gs;
}

void gs_rt_hidden(const gs_rt *rt, size_t i, uint64_t *goid, uint32_t *status)
{
	*goid = rt->hidden[i].goid;
	*status = rt->hidden[i].status;
}

const char *gs_rt_status_name(uint32_t st)
{
	static const char *const names[] = {"idle", "runnable", "running", "syscall", "waiting",
					    "moribund", "dead", "enqueue", "copystack",
					    "preempted", "leaked", "deadextra"};
	return st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

const char *gs_rt_wait_reason(const gs_rt *rt, const gs_goroutine *g)
{
	if (g->status != GS_G_WAITING &&
	    g->waitreason == gs_const(&rt->consts, GS_K_WAIT_REASON_ZERO))
		return "";
	if (g->waitreason < rt->nwait_reasons)
		return rt->wait_reasons[g->waitreason];
	return "unknown wait reason";
}

int64_t gs_rt_wait_minutes(const gs_rt *rt, const gs_goroutine *g)
{
	if (g->waitsince <= 0 || rt->now < g->waitsince)
		return -1;
	return (rt->now - g->waitsince) / 60000000000LL;
}
