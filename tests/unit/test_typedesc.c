/* Types from runtime type descriptors and globals from code, checked against DWARF and the
 * symbol table of the same real binaries: every Go toolchain's build of tests/unit/data/gobin
 * (GS_TEST_GOBINS, PIE and not) and the grpc fixture programs (GS_TEST_GRPC_EXES). A binary
 * that has both is its own oracle: what the descriptors say must equal what DWARF says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobins.h"

#include "../../analyzer/src/binary/dwarf_types.h"
#include "../../analyzer/src/binary/goglobals.h"
#include "../../analyzer/src/binary/pclntab.h"
#include "../../analyzer/src/binary/typedesc.h"

typedef struct both {
	gs_binary *b;
	gs_pclntab *pc;
	gs_dwarf *d;
	gs_typedesc *td;
} both;

static void open_both(const char *exe, both *x)
{
	gs_err err = {0};
	x->b = gs_binary_open(exe, &err);
	ck_assert_msg(x->b, "%s", err.msg);
	x->pc = gs_pclntab_open(x->b, &err);
	ck_assert_msg(x->pc, "%s", err.msg);
	x->d = gs_dwarf_open(x->b, &err);
	ck_assert_msg(x->d && gs_dwarf_has_dwarf(x->d), "%s: no DWARF (%s)", exe, err.msg);
	x->td = gs_typedesc_open(x->b, x->pc, 0, &err);
	ck_assert_msg(x->td, "%s", err.msg);
}

static void close_both(both *x)
{
	gs_typedesc_close(x->td);
	gs_dwarf_close(x->d);
	gs_pclntab_close(x->pc);
	gs_binary_close(x->b);
}

/* Every member DWARF gives the struct, the descriptor gives at the same offset; same size.
 * Returns 1 when the type exists in DWARF (so was compared). */
static int same_struct(const char *exe, both *x, const char *name, bool need_descriptor)
{
	const gs_dtype *dw = gs_dwarf_type(x->d, name, NULL);
	if (!dw)
		return 0;
	dw = gs_dwarf_resolve(dw);
	const gs_dtype *td = gs_typedesc_type(x->td, name, NULL);
	if (!td && !need_descriptor)
		return 0; /* the linker keeps a descriptor only for types the program needs */
	ck_assert_msg(td, "%s: %s is in DWARF but has no type descriptor", exe, name);
	ck_assert_msg(td->source == GS_TR_DESCRIPTOR, "%s: %s source", exe, name);
	ck_assert_msg(td->size == dw->size, "%s: %s size %llu, DWARF %llu", exe, name,
		      (unsigned long long)td->size, (unsigned long long)dw->size);
	for (size_t i = 0; i < dw->nmembers; i++) {
		const gs_dmember *m = &dw->members[i];
		if (strcmp(m->name, "_") == 0)
			continue; /* padding: several share the name */
		const gs_dmember *t = gs_dwarf_member(td, m->name);
		ck_assert_msg(t, "%s: %s.%s missing from the descriptor", exe, name, m->name);
		ck_assert_msg(t->offset == m->offset, "%s: %s.%s at %llu, DWARF %llu", exe, name,
			      m->name, (unsigned long long)t->offset, (unsigned long long)m->offset);
		const gs_dtype *mt = m->type ? gs_dwarf_resolve(m->type) : NULL;
		if (mt && t->type && mt->size && mt->kind != GS_DK_INTERFACE)
			ck_assert_msg(mt->size == t->type->size,
				      "%s: %s.%s type size", exe, name, m->name);
	}
	return 1;
}

/* Every Go program has descriptors for the first group (the runtime allocates them); the
 * others where the program uses them. */
static const char *const runtime_structs[] = {
	"runtime.g", "runtime.m", "runtime.sudog", "runtime.hchan", "runtime.waitq",
	"runtime.gobuf", "runtime.mspan", "runtime.moduledata", "string", NULL};
static const char *const optional_structs[] = {
	"runtime.pollDesc", "sync.Mutex", "internal/poll.FD", "context.cancelCtx", NULL};

START_TEST(test_typedesc_runtime_structs_match_dwarf)
{
	gobin bins[MAX_BINS];
	int n = need_gobins(bins);
	int compared = 0;
	for (int i = 0; i < n; i++) {
		if (ends_with(bins[i].path, "-stripped"))
			continue;
		both x;
		open_both(bins[i].path, &x);
		for (size_t k = 0; runtime_structs[k]; k++)
			compared += same_struct(bins[i].path, &x, runtime_structs[k], true);
		for (size_t k = 0; optional_structs[k]; k++)
			same_struct(bins[i].path, &x, optional_structs[k], false);
		/* Names are full import paths, as in DWARF. */
		ck_assert_ptr_nonnull(gs_typedesc_type(x.td, "*runtime.g", NULL));
		ck_assert_ptr_null(gs_typedesc_type(x.td, "runtime.noSuchType", NULL));
		ck_assert_uint_gt(gs_typedesc_count(x.td), 100);
		close_both(&x);
	}
	ck_assert_int_gt(compared, 10 * 2);
}
END_TEST

#define TRANSPORT "google.golang.org/grpc/internal/transport."
static const char *const grpc_structs[] = {
	TRANSPORT "http2Client", TRANSPORT "http2Server", TRANSPORT "Stream",
	TRANSPORT "ClientStream", TRANSPORT "ServerStream", TRANSPORT "recvBuffer",
	TRANSPORT "recvBufferReader", TRANSPORT "inFlow", TRANSPORT "writeQuota",
	TRANSPORT "loopyWriter", TRANSPORT "controlBuffer", "google.golang.org/grpc.ClientConn",
	"google.golang.org/grpc.addrConn", "google.golang.org/grpc.pickerWrapper", NULL};

static char **grpc_exes(size_t *n)
{
	const char *env = getenv("GS_TEST_GRPC_EXES");
	ck_assert_msg(env && *env, "GS_TEST_GRPC_EXES is not set (grpc fixture executables)");
	char *copy = strdup(env);
	char **v = calloc(strlen(env) + 2, sizeof *v);
	*n = 0;
	for (char *save = NULL, *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
		v[(*n)++] = strdup(p);
	free(copy);
	return v;
}

START_TEST(test_typedesc_grpc_structs_match_dwarf)
{
	size_t n;
	char **exes = grpc_exes(&n);
	ck_assert_uint_gt(n, 0);
	for (size_t i = 0; i < n; i++) {
		both x;
		open_both(exes[i], &x);
		int compared = 0;
		for (size_t k = 0; grpc_structs[k]; k++)
			compared += same_struct(exes[i], &x, grpc_structs[k], true);
		for (size_t k = 0; runtime_structs[k]; k++)
			same_struct(exes[i], &x, runtime_structs[k], true);
		for (size_t k = 0; optional_structs[k]; k++)
			same_struct(exes[i], &x, optional_structs[k], true);
		ck_assert_msg(compared >= 8, "%s: only %d grpc structs compared", exes[i], compared);
		/* Maps: the key and value types, and a runtime representation to walk. */
		const gs_dtype *ct = gs_typedesc_type(x.td, TRANSPORT "http2Client", NULL);
		const gs_dmember *as = gs_dwarf_member(ct, "activeStreams");
		ck_assert_ptr_nonnull(as);
		const gs_dtype *mt = gs_dwarf_resolve(as->type);
		ck_assert_int_eq(mt->kind, GS_DK_MAP);
		ck_assert_ptr_nonnull(mt->key);
		ck_assert_ptr_nonnull(mt->underlying);
		close_both(&x);
		free(exes[i]);
	}
	free(exes);
}
END_TEST

/* Every global the finder knows: the symbol table's address is among its candidates. */
START_TEST(test_goglobals_candidates_include_symbol)
{
	static const char *const names[] = {
		"runtime.allgs", "runtime.mheap_", "runtime.semtable", "runtime.sched",
		"runtime.allm", "runtime.itabTable", "runtime.persistentChunks",
		"runtime.waitReasonStrings", "runtime.firstmoduledata", NULL};
	size_t n;
	char **exes = grpc_exes(&n);
	gobin bins[MAX_BINS];
	int nb = need_gobins(bins);
	for (size_t i = 0; i < n + (size_t)nb; i++) {
		const char *exe = i < n ? exes[i] : bins[i - n].path;
		if (ends_with(exe, "-stripped"))
			continue;
		gs_err err = {0};
		gs_binary *b = gs_binary_open(exe, &err);
		ck_assert_msg(b, "%s", err.msg);
		gs_pclntab *pc = gs_pclntab_open(b, &err);
		ck_assert_msg(pc, "%s", err.msg);
		for (size_t k = 0; names[k]; k++) {
			uint64_t sym, c[GS_GLOBAL_MAX_CANDIDATES];
			if (gs_binary_symbol(b, names[k], &sym, NULL) < 0)
				continue; /* linked out of this program */
			size_t m = gs_goglobal_candidates(b, pc, names[k], c, GS_GLOBAL_MAX_CANDIDATES);
			bool found = false;
			for (size_t j = 0; j < m; j++)
				found |= c[j] == sym;
			ck_assert_msg(found, "%s: %s at 0x%llx not among %zu candidates", exe, names[k],
				      (unsigned long long)sym, m);
		}
		/* The wait-reason bound equals the DWARF array length where both exist. */
		gs_dwarf *d = gs_dwarf_open(b, &err);
		const gs_dtype *wt = NULL;
		uint64_t a;
		if (d && gs_dwarf_has_dwarf(d) &&
		    gs_dwarf_global(d, "runtime.waitReasonStrings", &a, &wt, NULL) == 0) {
			wt = gs_dwarf_resolve(wt);
			ck_assert_uint_eq(gs_goglobal_wait_reason_count(b, pc), wt->count);
		}
		gs_dwarf_close(d);
		gs_pclntab_close(pc);
		gs_binary_close(b);
	}
	for (size_t i = 0; i < n; i++)
		free(exes[i]);
	free(exes);
}
END_TEST

/* The RIP-relative scanner on hand-assembled instructions. */
START_TEST(test_rip_targets_forms)
{
	static const uint8_t code[] = {
		0x48, 0x8d, 0x05, 0x10, 0x00, 0x00, 0x00,       /* lea rax,[rip+0x10] */
		0x48, 0x8b, 0x0d, 0xf0, 0xff, 0xff, 0xff,       /* mov rcx,[rip-0x10] */
		0x80, 0x3d, 0x04, 0x00, 0x00, 0x00, 0x01,       /* cmp byte [rip+4],1 */
		0x90, 0x90, 0x90,
	};
	uint64_t out[8];
	uint8_t lea[8];
	size_t n = gs_rip_targets(code, sizeof code, 0x1000, out, lea, 8);
	/* Every offset is tried, so bytes inside an instruction may add false targets; the
	 * real ones must all be there, the LEA marked as one. */
	const uint64_t want[] = {0x1000 + 7 + 0x10, 0x1000 + 14 - 0x10, 0x1000 + 21 + 4};
	for (size_t w = 0; w < 3; w++) {
		size_t j = 0;
		while (j < n && out[j] != want[w])
			j++;
		ck_assert_msg(j < n, "target 0x%llx not found", (unsigned long long)want[w]);
		ck_assert(lea[j] == (w == 0 ? GS_REF_LEA : GS_REF_OTHER));
	}
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("typedesc");
	TCase *tc = tcase_create("synthetic");
	tcase_add_test(tc, test_rip_targets_forms);
	suite_add_tcase(s, tc);
	tc = tcase_create("go_binaries");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_typedesc_runtime_structs_match_dwarf);
	tcase_add_test(tc, test_typedesc_grpc_structs_match_dwarf);
	tcase_add_test(tc, test_goglobals_candidates_include_symbol);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
