/* DWARF types, globals and constants of real Go+grpc binaries, and the member lookup rules.
 *
 * The real binaries come from GS_TEST_GRPC_EXES (colon-separated): programs that link
 * grpc.NewServer and grpc.Dial, one per toolchain. Unset is a failure, not a skip: these
 * tests are the only check that our reading matches what Go's linker writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gs_check.h"

#include "../../analyzer/src/binary/dwarf_types.h"

#define TRANSPORT "google.golang.org/grpc/internal/transport."

static char **grpc_exes(size_t *n)
{
	const char *env = getenv("GS_TEST_GRPC_EXES");
	ck_assert_msg(env && *env,
		      "GS_TEST_GRPC_EXES is not set: give it a colon-separated list of Go "
		      "binaries that link google.golang.org/grpc (built with DWARF)");
	char *copy = strdup(env);
	char **v = calloc(strlen(env) + 2, sizeof *v);
	*n = 0;
	for (char *save = NULL, *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
		v[(*n)++] = strdup(p);
	free(copy);
	ck_assert_msg(*n > 0, "GS_TEST_GRPC_EXES lists no binaries");
	return v;
}

static void free_exes(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Opens exe and its DWARF, failing the test with the library's message. */
static gs_dwarf *open_dwarf(const char *exe, gs_binary **b)
{
	gs_err err = {0};
	*b = gs_binary_open(exe, &err);
	ck_assert_msg(*b, "%s", err.msg);
	gs_dwarf *d = gs_dwarf_open(*b, &err);
	ck_assert_msg(d, "%s", err.msg);
	return d;
}

/* Every member named in the list exists and lies inside the struct. */
static void assert_members(const char *exe, const gs_dtype *t, const char *const *names)
{
	for (size_t i = 0; names[i]; i++) {
		const gs_dmember *m = gs_dwarf_member(t, names[i]);
		ck_assert_msg(m, "%s: %s has no member %s", exe, t->name, names[i]);
		ck_assert_msg(m->type, "%s: %s.%s has no type", exe, t->name, names[i]);
		ck_assert_msg(m->offset < t->size, "%s: %s.%s at %llu outside size %llu", exe,
			      t->name, names[i], (unsigned long long)m->offset,
			      (unsigned long long)t->size);
	}
}

static const gs_dtype *must_type(const char *exe, gs_dwarf *d, const char *name)
{
	gs_err err = {0};
	const gs_dtype *t = gs_dwarf_type(d, name, &err);
	ck_assert_msg(t, "%s: %s", exe, err.msg);
	ck_assert_str_eq(t->name, name);
	return t;
}

START_TEST(test_dwarf_runtime_structs)
{
	size_t n;
	char **exes = grpc_exes(&n);
	for (size_t i = 0; i < n; i++) {
		gs_binary *b;
		gs_dwarf *d = open_dwarf(exes[i], &b);
		const gs_dtype *g = must_type(exes[i], d, "runtime.g");
		ck_assert_int_eq(g->kind, GS_DK_STRUCT);
		ck_assert_int_eq(g->go_kind, 25);
		ck_assert_uint_gt(g->size, 300);
		assert_members(exes[i], g,
			       (const char *const[]){"goid", "atomicstatus", "sched", "waiting",
						     "waitreason", NULL});
		const gs_dmember *goid = gs_dwarf_member(g, "goid");
		ck_assert_uint_gt(goid->offset, 0);
		ck_assert_uint_eq(gs_dwarf_resolve(goid->type)->size, 8);
		/* Cycles: runtime.g.m -> *runtime.m -> runtime.m.curg -> *runtime.g. */
		const gs_dtype *m = gs_dwarf_member(g, "m")->type;
		ck_assert_int_eq(m->kind, GS_DK_POINTER);
		ck_assert_str_eq(m->elem->name, "runtime.m");
		const gs_dmember *curg = gs_dwarf_member(m->elem, "curg");
		ck_assert_ptr_nonnull(curg);
		ck_assert_ptr_eq(curg->type->elem, g);

		const gs_dtype *hchan = must_type(exes[i], d, "runtime.hchan");
		assert_members(exes[i], hchan,
			       (const char *const[]){"qcount", "dataqsiz", "buf", "elemsize",
						     "closed", "recvq", "sendq", NULL});
		const gs_dtype *sudog = must_type(exes[i], d, "runtime.sudog");
		assert_members(exes[i], sudog,
			       (const char *const[]){"g", "elem", "c", "waitlink", NULL});
		/* 1.26+ wraps elem/c in a 16-byte maybeTraceablePtr. */
		uint64_t esz = gs_dwarf_resolve(gs_dwarf_member(sudog, "elem")->type)->size;
		ck_assert_msg(esz == 8 || esz == 16, "%s: sudog.elem is %llu bytes", exes[i],
			      (unsigned long long)esz);

		gs_dwarf_close(d);
		gs_binary_close(b);
	}
	free_exes(exes, n);
}
END_TEST

START_TEST(test_dwarf_grpc_transport)
{
	size_t n;
	char **exes = grpc_exes(&n);
	for (size_t i = 0; i < n; i++) {
		gs_binary *b;
		gs_dwarf *d = open_dwarf(exes[i], &b);
		const gs_dtype *t = must_type(exes[i], d, TRANSPORT "http2Client");
		ck_assert_int_eq(t->kind, GS_DK_STRUCT);
		assert_members(exes[i], t, (const char *const[]){"activeStreams", "conn", NULL});
		const gs_dtype *as = gs_dwarf_member(t, "activeStreams")->type;
		ck_assert_int_eq(as->kind, GS_DK_MAP);
		ck_assert_ptr_nonnull(as->key);
		ck_assert_str_eq(as->key->name, "uint32");
		ck_assert_int_eq(as->elem->kind, GS_DK_POINTER);
		ck_assert_ptr_nonnull(as->underlying); /* *hash<K,V> or *map<K,V> */
		ck_assert_int_eq(as->underlying->kind, GS_DK_POINTER);
		const gs_dtype *conn = gs_dwarf_member(t, "conn")->type;
		ck_assert_int_eq(conn->kind, GS_DK_INTERFACE);
		ck_assert_str_eq(conn->name, "net.Conn");
		ck_assert_ptr_nonnull(gs_dwarf_member(conn, "tab")); /* via runtime.iface */
		const gs_dtype *ptr = must_type(exes[i], d, "*" TRANSPORT "http2Client");
		ck_assert_ptr_eq(ptr->elem, t);
		gs_dwarf_close(d);
		gs_binary_close(b);
	}
	free_exes(exes, n);
}
END_TEST

static bool in_data_section(gs_binary *b, uint64_t addr)
{
	static const char *const secs[] = {".data", ".bss", ".noptrdata", ".noptrbss"};
	for (size_t i = 0; i < sizeof secs / sizeof *secs; i++) {
		const gs_section *s = gs_binary_section(b, secs[i]);
		if (s && addr >= s->addr && addr < s->addr + s->size)
			return true;
	}
	return false;
}

START_TEST(test_dwarf_globals_and_constants)
{
	size_t n;
	char **exes = grpc_exes(&n);
	for (size_t i = 0; i < n; i++) {
		gs_binary *b;
		gs_dwarf *d = open_dwarf(exes[i], &b);
		gs_err err = {0};
		uint64_t addr = 0;
		const gs_dtype *t = NULL;
		ck_assert_msg(gs_dwarf_global(d, "runtime.allgs", &addr, &t, &err) == 0, "%s: %s",
			      exes[i], err.msg);
		ck_assert_msg(in_data_section(b, addr), "%s: runtime.allgs at %#llx", exes[i],
			      (unsigned long long)addr);
		ck_assert_str_eq(t->name, "[]*runtime.g");
		ck_assert_int_eq(t->kind, GS_DK_SLICE);
		ck_assert_uint_eq(t->size, 24);
		ck_assert_str_eq(t->elem->name, "*runtime.g");
		ck_assert_int_eq(t->elem->kind, GS_DK_POINTER);
		ck_assert_uint_eq(t->elem->size, 8);
		ck_assert_str_eq(t->elem->elem->name, "runtime.g");
		ck_assert_int_eq(t->elem->elem->kind, GS_DK_STRUCT);
		ck_assert_ptr_nonnull(gs_dwarf_member(t, "array"));
		ck_assert_uint_eq(gs_dwarf_member(t, "cap")->offset, 16);

		ck_assert_msg(gs_dwarf_global(d, "runtime.waitReasonStrings", &addr, &t, &err) == 0,
			      "%s: %s", exes[i], err.msg);
		ck_assert_int_eq(t->kind, GS_DK_ARRAY);
		ck_assert_uint_gt(t->count, 10);
		ck_assert_int_eq(t->elem->kind, GS_DK_STRING);
		ck_assert_uint_eq(t->size, t->count * t->elem->size);
		ck_assert_uint_eq(gs_dwarf_member(t->elem, "len")->offset, 8);

		int64_t v = -1;
		ck_assert_msg(gs_dwarf_constant(d, "runtime._Gwaiting", &v, &err) == 0, "%s: %s",
			      exes[i], err.msg);
		ck_assert_int_eq(v, 4);

		ck_assert_int_eq(gs_dwarf_global(d, "runtime.noSuchGlobal", &addr, &t, &err), -1);
		ck_assert_int_eq(err.code, GS_ENOTFOUND);
		/* A type name is not a variable. */
		ck_assert_int_eq(gs_dwarf_global(d, "runtime.g", &addr, &t, &err), -1);
		gs_dwarf_close(d);
		gs_binary_close(b);
	}
	free_exes(exes, n);
}
END_TEST

START_TEST(test_dwarf_missing_type)
{
	size_t n;
	char **exes = grpc_exes(&n);
	gs_binary *b;
	gs_dwarf *d = open_dwarf(exes[0], &b);
	gs_err err = {0};
	ck_assert_ptr_null(gs_dwarf_type(d, "runtime.noSuchType", &err));
	ck_assert_int_eq(err.code, GS_ENOTFOUND);
	ck_assert_str_eq(err.msg, "runtime.noSuchType: no such type in DWARF");
	ck_assert_uint_gt(gs_dwarf_name_count(d), 1000);
	/* The index survives a miss. */
	ck_assert_ptr_nonnull(gs_dwarf_type(d, "runtime.g", &err));
	gs_dwarf_close(d);
	gs_binary_close(b);
	free_exes(exes, n);
}
END_TEST

/* The index holds the runtime units first and another package's unit only once one of its
 * names is asked for; a miss in an indexed package reads nothing more. */
START_TEST(test_dwarf_lazy_packages)
{
	size_t n;
	char **exes = grpc_exes(&n);
	for (size_t i = 0; i < n; i++) {
		gs_binary *b;
		gs_dwarf *d = open_dwarf(exes[i], &b);
		gs_err err = {0};
		ck_assert_ptr_nonnull(gs_dwarf_type(d, "runtime.g", &err));
		size_t runtime_only = gs_dwarf_name_count(d);
		/* Every type sits in the runtime units, a grpc one too. */
		ck_assert_msg(gs_dwarf_type(d, "google.golang.org/grpc.ClientConn", &err), "%s", err.msg);
		uint64_t addr = 0;
		ck_assert_msg(gs_dwarf_global(d, "os.Args", &addr, NULL, &err) == 0, "%s: %s", exes[i],
			      err.msg);
		ck_assert_uint_ne(addr, 0);
		size_t with_os = gs_dwarf_name_count(d);
		ck_assert_uint_gt(with_os, runtime_only);
		ck_assert_int_eq(gs_dwarf_global(d, "os.noSuchGlobal", &addr, NULL, &err), -1);
		ck_assert_int_eq(err.code, GS_ENOTFOUND);
		ck_assert_uint_eq(gs_dwarf_name_count(d), with_os);
		gs_dwarf_close(d);
		gs_binary_close(b);
	}
	free_exes(exes, n);
}
END_TEST

/* A binary without DWARF is not an error: it opens, says so, and answers nothing until
 * type descriptors are attached (test_typedesc.c covers those). */
static void assert_no_dwarf(const char *path)
{
	gs_err err = {0};
	gs_binary *b = gs_binary_open(path, &err);
	ck_assert_msg(b, "%s", err.msg);
	gs_dwarf *d = gs_dwarf_open(b, &err);
	ck_assert_msg(d, "%s", err.msg);
	ck_assert(!gs_dwarf_has_dwarf(d));
	ck_assert_ptr_null(gs_dwarf_type(d, "runtime.g", &err));
	ck_assert_int_eq(err.code, GS_ENOTFOUND);
	gs_dwarf_close(d);
	gs_binary_close(b);
}

START_TEST(test_dwarf_stripped_binary)
{
	size_t n;
	char **exes = grpc_exes(&n);
	char tmp[] = "/tmp/gs-test-nodwarf-XXXXXX";
	int fd = mkstemp(tmp);
	ck_assert_int_ge(fd, 0);
	close(fd);
	/* A Go binary with its debug sections removed, as -ldflags=-w leaves it. */
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "objcopy --strip-debug '%s' '%s'", exes[0], tmp);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	assert_no_dwarf(tmp);
	unlink(tmp);
	free_exes(exes, n);
}
END_TEST

START_TEST(test_dwarf_not_elf)
{
	char tmp[] = "/tmp/gs-test-notelf-XXXXXX";
	int fd = mkstemp(tmp);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	gs_err err = {0};
	gs_binary *b = gs_binary_open(tmp, &err);
	if (b) { /* should the ELF layer accept it, the DWARF layer must not */
		ck_assert_ptr_null(gs_dwarf_open(b, &err));
		gs_binary_close(b);
	}
	ck_assert_int_eq(err.code, GS_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, tmp));
	unlink(tmp);
}
END_TEST

/* Synthetic types: member alternatives and looking through typedefs and interfaces. */
static const gs_dtype u8 = {.name = "uint8", .kind = GS_DK_BASE, .size = 1};
static const gs_dmember hchan_members[] = {
	{"qcount", 0, &u8}, {"elemp", 8, &u8}, {"elem", 16, &u8}, {"_", 24, &u8}, {"closed", 24, &u8},
};
static const gs_dtype hchan = {.name = "runtime.hchan", .kind = GS_DK_STRUCT, .size = 32,
			       .nmembers = 5, .members = hchan_members};
static const gs_dtype hchan_td = {.name = "main.ch", .kind = GS_DK_TYPEDEF, .elem = &hchan};
static const gs_dtype hchan_td2 = {.name = "main.ch2", .kind = GS_DK_TYPEDEF, .elem = &hchan_td};
static const gs_dmember iface_members[] = {{"tab", 0, &u8}, {"data", 8, &u8}};
static const gs_dtype iface = {.name = "runtime.iface", .kind = GS_DK_STRUCT, .size = 16,
			       .nmembers = 2, .members = iface_members};
static const gs_dtype conn = {.name = "net.Conn", .kind = GS_DK_INTERFACE, .size = 16,
			      .elem = &iface, .underlying = &iface};

START_TEST(test_dwarf_member_alternatives)
{
	/* The first alternative that exists wins, not the first member in layout order. */
	ck_assert_uint_eq(gs_dwarf_member(&hchan, "elem|elemp")->offset, 16);
	ck_assert_uint_eq(gs_dwarf_member(&hchan, "elemp|elem")->offset, 8);
	ck_assert_uint_eq(gs_dwarf_member(&hchan, "nosuch|other|closed")->offset, 24);
	ck_assert_str_eq(gs_dwarf_member(&hchan, "closed")->name, "closed");
	ck_assert_ptr_null(gs_dwarf_member(&hchan, "nosuch|other"));
	ck_assert_ptr_null(gs_dwarf_member(&hchan, "ele"));    /* no prefix matches */
	ck_assert_ptr_null(gs_dwarf_member(&hchan, "elemxx")); /* nor longer names */
	ck_assert_ptr_null(gs_dwarf_member(&hchan, ""));
	ck_assert_uint_eq(gs_dwarf_member(&hchan, "|elem|")->offset, 16);
	/* Zero-size fields share an offset with the next member; both are found by name. */
	ck_assert_str_eq(gs_dwarf_member(&hchan, "_")->name, "_");
	ck_assert_ptr_null(gs_dwarf_member(NULL, "elem"));
	ck_assert_ptr_null(gs_dwarf_member(&hchan, NULL));
	ck_assert_ptr_null(gs_dwarf_member(&u8, "elem"));

	ck_assert_uint_eq(gs_dwarf_member(&hchan_td2, "elem")->offset, 16);
	ck_assert_ptr_eq(gs_dwarf_resolve(&hchan_td2), &hchan);
	ck_assert_ptr_eq(gs_dwarf_resolve(&conn), &conn); /* interfaces are not typedefs */
	ck_assert_uint_eq(gs_dwarf_member(&conn, "data")->offset, 8);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("dwarf_types");
	TCase *tc = tcase_create("synthetic");
	tcase_add_test(tc, test_dwarf_member_alternatives);
	tcase_add_test(tc, test_dwarf_not_elf);
	suite_add_tcase(s, tc);
	tc = tcase_create("go_binaries");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dwarf_runtime_structs);
	tcase_add_test(tc, test_dwarf_grpc_transport);
	tcase_add_test(tc, test_dwarf_globals_and_constants);
	tcase_add_test(tc, test_dwarf_missing_type);
	tcase_add_test(tc, test_dwarf_lazy_packages);
	tcase_add_test(tc, test_dwarf_stripped_binary);
	suite_add_tcase(s, tc);
	return s;
}

GS_CHECK_MAIN(make_suite)
