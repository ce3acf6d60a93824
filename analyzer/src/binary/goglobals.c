/* Runtime globals from the code that uses them (see goglobals.h). */
#include "goglobals.h"

#include <stdbool.h>
#include <string.h>

#define MAX_REFS 4096

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Matches the memory-operand forms Go's compiler emits for globals: [REX] op modrm disp32
 * with mod=00 rm=101 (RIP-relative). Scanning every offset instead of decoding finds a few
 * false targets; they land outside the data segments or fail validation. */
size_t gs_rip_targets(const uint8_t *code, size_t n, uint64_t entry, uint64_t *out,
		      uint8_t *kind, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i + 6 <= n && k < max; i++) {
		size_t j = i;
		if ((code[j] & 0xf0) == 0x40)
			j++;
		if (j + 6 > n)
			break;
		uint8_t op = code[j];
		size_t modrm, imm = 0;
		if (op == 0x0f) {
			uint8_t op2 = code[j + 1];
			if (op2 != 0xb6 && op2 != 0xb7 && op2 != 0x10 && op2 != 0x11 && op2 != 0xc1 &&
			    op2 != 0xb1 && op2 != 0x6f && op2 != 0x7f)
				continue;
			modrm = j + 2;
		} else if (op == 0x8d || op == 0x8b || op == 0x89 || op == 0x3b || op == 0x39 ||
			   op == 0x03 || op == 0x2b || op == 0x85 || op == 0x87 || op == 0x88 ||
			   op == 0x8a) {
			modrm = j + 1;
		} else if (op == 0x80 || op == 0x83 || op == 0xc6) {
			modrm = j + 1;
			imm = 1;
		} else if (op == 0x81 || op == 0xc7) {
			modrm = j + 1;
			imm = 4;
		} else {
			continue;
		}
		if (modrm + 5 + imm > n || (code[modrm] & 0xc7) != 0x05)
			continue;
		int32_t disp = (int32_t)rd32(code + modrm + 1);
		uint64_t next = entry + modrm + 5 + imm;
		out[k] = next + (uint64_t)(int64_t)disp;
		if (kind)
			kind[k] = op == 0x8d ? GS_REF_LEA
				: op == 0x0f && code[j + 1] == 0xb1 ? GS_REF_CAS : GS_REF_OTHER;
		k++;
	}
	return k;
}

static bool in_writable(const gs_binary *b, uint64_t a)
{
	for (size_t i = 0; i < gs_binary_nsegments(b); i++) {
		const gs_segment *s = gs_binary_segment(b, i);
		if ((s->flags & 2) && a >= s->vaddr && a < s->vaddr + s->memsz)
			return true;
	}
	return false;
}

/* The targets in writable memory of one function's instructions; 0 if it is absent. */
static size_t func_refs(const gs_binary *b, const gs_pclntab *pc, const char *fn,
			uint64_t *out, uint8_t *kind, size_t max)
{
	gs_func f;
	if (gs_pclntab_lookup(pc, fn, &f) < 0 || f.end <= f.entry || f.end - f.entry > (1u << 20))
		return 0;
	size_t avail;
	const uint8_t *code = gs_binary_ptr(b, f.entry, &avail);
	if (!code)
		return 0;
	size_t n = f.end - f.entry < avail ? (size_t)(f.end - f.entry) : avail;
	uint64_t all[MAX_REFS];
	uint8_t kinds[MAX_REFS];
	size_t m = gs_rip_targets(code, n, f.entry, all, kinds, MAX_REFS), k = 0;
	for (size_t i = 0; i < m && k < max; i++) {
		if (!in_writable(b, all[i]))
			continue;
		out[k] = all[i];
		if (kind)
			kind[k] = kinds[i];
		k++;
	}
	return k;
}

static bool has(const uint64_t *v, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static size_t add_unique(uint64_t *out, size_t k, size_t max, uint64_t x)
{
	if (k < max && !has(out, k, x))
		out[k++] = x;
	return k;
}

/* allgs = append(allgs, gp): the slice's pointer, length and capacity words are read. */
static size_t find_allgs(const gs_binary *b, const gs_pclntab *pc, uint64_t *out, size_t max)
{
	static const char *const fns[] = {"runtime.allgadd", "runtime.forEachG",
					  "runtime.forEachGRace", "runtime.checkdead"};
	uint64_t refs[MAX_REFS];
	size_t k = 0;
	for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
		size_t n = func_refs(b, pc, fns[f], refs, NULL, MAX_REFS);
		for (size_t i = 0; i < n; i++)
			if (has(refs, n, refs[i] + 8) || has(refs, n, refs[i] + 16))
				k = add_unique(out, k, max, refs[i]);
		if (k)
			break;
	}
	return k;
}

/* Targets of f1 (of instructions of kind `only`, unless GS_REF_OTHER) that f2 uses too, when
 * f2 is given: two functions that both use the global (mheap_, semtable). */
static size_t common_refs(const gs_binary *b, const gs_pclntab *pc, const char *f1,
			  const char *f2, int only, uint64_t *out, size_t max)
{
	uint64_t r1[MAX_REFS], r2[MAX_REFS];
	uint8_t k1[MAX_REFS];
	size_t n1 = func_refs(b, pc, f1, r1, k1, MAX_REFS);
	size_t n2 = f2 ? func_refs(b, pc, f2, r2, NULL, MAX_REFS) : 0;
	size_t k = 0;
	for (size_t i = 0; i < n1; i++) {
		if (only != GS_REF_OTHER && k1[i] != only)
			continue;
		if (!f2 || n2 == 0 || has(r2, n2, r1[i]))
			k = add_unique(out, k, max, r1[i]);
	}
	return k;
}

/* Targets fn both loads and takes the address of: persistentalloc1 reads persistentChunks
 * and passes &persistentChunks to atomic.Casuintptr, while the allocator state it also
 * uses (globalAlloc, memstats) is only addressed. */
static size_t loaded_and_addressed(const gs_binary *b, const gs_pclntab *pc, const char *fn,
				   uint64_t *out, size_t max)
{
	uint64_t r[MAX_REFS];
	uint8_t kind[MAX_REFS];
	size_t n = func_refs(b, pc, fn, r, kind, MAX_REFS), k = 0;
	for (size_t i = 0; i < n; i++) {
		if (kind[i] != GS_REF_LEA)
			continue;
		for (size_t j = 0; j < n; j++)
			if (r[j] == r[i] && kind[j] != GS_REF_LEA)
				k = add_unique(out, k, max, r[i]);
	}
	return k;
}

static size_t sort_small(uint64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j] < v[j - 1]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n;
}

/* A string header at addr whose bytes are s. */
static bool is_string(const gs_binary *b, uint64_t addr, const char *s)
{
	uint64_t p, n;
	size_t len = strlen(s);
	if (gs_binary_read_ptr(b, addr, &p) < 0 || gs_binary_read(b, addr + 8, &n, 8) < 0 ||
	    n != len)
		return false;
	if (len == 0)
		return true;
	size_t avail;
	const uint8_t *d = gs_binary_ptr(b, p, &avail);
	return d && avail >= len && memcmp(d, s, len) == 0;
}

/* runtime.waitReasonStrings: [0] "", [1] "GC assist marking", [2] "IO wait" (1.19-1.27). */
static size_t find_wait_reasons(const gs_binary *b, uint64_t *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < gs_binary_nsegments(b) && k < max; i++) {
		const gs_segment *s = gs_binary_segment(b, i);
		if (!(s->flags & 2))
			continue;
		for (uint64_t a = s->vaddr; a + 48 <= s->vaddr + s->filesz && k < max; a += 8) {
			uint64_t n1;
			if (gs_binary_read(b, a + 24, &n1, 8) < 0 || n1 != 17)
				continue;
			if (is_string(b, a + 16, "GC assist marking") && is_string(b, a + 32, "IO wait") &&
			    is_string(b, a, ""))
				out[k++] = a;
		}
	}
	return k;
}

size_t gs_goglobal_wait_reason_count(const gs_binary *b, const gs_pclntab *pc)
{
	gs_func f;
	if (gs_pclntab_lookup(pc, "runtime.waitReason.String", &f) < 0 || f.end <= f.entry ||
	    f.end - f.entry > 4096)
		return 0;
	size_t avail;
	const uint8_t *c = gs_binary_ptr(b, f.entry, &avail);
	size_t n = c ? (f.end - f.entry < avail ? (size_t)(f.end - f.entry) : avail) : 0;
	/* if w >= waitReason(len(waitReasonStrings)): CMP AL, imm8 (3C ib) or CMP r8, imm8
	 * (80 F8+r ib, with or without REX). */
	for (size_t i = 0; i + 2 <= n; i++) {
		if (c[i] == 0x3c && c[i + 1] >= 16)
			return c[i + 1];
		if (c[i] == 0x80 && i + 3 <= n && (c[i + 1] & 0xf8) == 0xf8 && c[i + 2] >= 16)
			return c[i + 2];
	}
	return 0;
}

size_t gs_goglobal_candidates(const gs_binary *b, const gs_pclntab *pc, const char *name,
			      uint64_t *out, size_t max)
{
	if (max > GS_GLOBAL_MAX_CANDIDATES)
		max = GS_GLOBAL_MAX_CANDIDATES;
	if (strcmp(name, "runtime.waitReasonStrings") == 0)
		return find_wait_reasons(b, out, max);
	if (!pc)
		return 0; /* everything else is found from code */
	if (strcmp(name, "runtime.firstmoduledata") == 0) {
		uint64_t a;
		if (max && gs_pclntab_moduledata(pc, &a) == 0) {
			out[0] = a;
			return 1;
		}
		return 0;
	}
	if (strcmp(name, "runtime.allgs") == 0)
		return find_allgs(b, pc, out, max);
	if (strcmp(name, "runtime.mheap_") == 0) {
		size_t k = common_refs(b, pc, "runtime.(*mcentral).grow",
				       "runtime.(*mcache).allocLarge", GS_REF_LEA, out, max);
		return sort_small(out, k); /* mheap_ itself: the lowest of the LEAs */
	}
	if (strcmp(name, "runtime.semtable") == 0)
		return common_refs(b, pc, "runtime.semacquire1", "runtime.semrelease1", GS_REF_LEA,
				   out, max);
	if (strcmp(name, "runtime.sched") == 0) {
		size_t k = common_refs(b, pc, "runtime.newproc1", NULL, GS_REF_LEA, out, max);
		return sort_small(out, k); /* goidgen.Add(...): the lowest LEA is sched+0 */
	}
	if (strcmp(name, "runtime.allm") == 0)
		return common_refs(b, pc, "runtime.mcommoninit", NULL, GS_REF_OTHER, out, max);
	if (strcmp(name, "runtime.itabTable") == 0) {
		/* t := (*itabTableType)(atomic.Loadp(&itabTable)) */
		return common_refs(b, pc, "runtime.getitab", NULL, GS_REF_OTHER, out, max);
	}
	if (strcmp(name, "runtime.persistentChunks") == 0)
		return loaded_and_addressed(b, pc, "runtime.persistentalloc1", out, max);
	return 0;
}
