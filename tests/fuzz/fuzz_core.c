/* libFuzzer: the ELF core reader and its notes (threads, NT_FILE mappings, auxv), then
 * reads at the addresses the core itself names. Input: a whole core file. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "../../analyzer/src/target/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_write_file("core", data, size);
	gs_err err = {0};
	gs_target *t = gs_core_target_open(path, &err);
	if (!t)
		return 0;
	uint8_t buf[64];
	for (size_t i = 0; i < gs_target_nthreads(t); i++) {
		const gs_thread *th = gs_target_thread(t, i);
		gs_target_read(t, th->regs.rsp, buf, sizeof buf, &err);
		gs_target_read(t, th->regs.rip, buf, 16, &err);
		gs_target_read(t, th->regs.fs_base - 8, buf, 8, &err);
	}
	for (size_t i = 0; i < gs_target_nmappings(t); i++) {
		const gs_mapping *m = gs_target_mapping(t, i);
		gs_target_read(t, m->start, buf, sizeof buf, &err);
		gs_target_read(t, m->end - 8, buf, 16, &err); /* straddles the end */
		(void)strlen(m->path ? m->path : "");
	}
	static const uint64_t types[] = {3 /* AT_PHDR */, 9 /* AT_ENTRY */, 33 /* SYSINFO_EHDR */};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		uint64_t v;
		if (gs_target_auxv(t, types[i], &v) == 0)
			gs_target_read(t, v, buf, sizeof buf, &err);
	}
	const char *exe = gs_target_exe_path(t);
	if (exe)
		(void)strlen(exe);
	uint64_t v;
	gs_target_read_u64(t, 0, &v, &err);
	gs_target_read_u64(t, UINT64_MAX - 3, &v, &err); /* wraps */
	gs_target_read(t, 0x400000, buf, sizeof buf, &err);
	gs_target_close(t);
	return 0;
}
