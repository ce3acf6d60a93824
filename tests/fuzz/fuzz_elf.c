/* libFuzzer: the executable reader (libelf underneath): sections (also compressed), the
 * segments, symbols, build ids, and the Go tables read through it. Input: a whole file. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "../../analyzer/src/binary/buildinfo.h"
#include "../../analyzer/src/binary/elf_file.h"
#include "../../analyzer/src/binary/pclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_write_file("elf", data, size);
	gs_err err = {0};
	gs_binary *b = gs_binary_open(path, &err);
	if (!b)
		return 0;
	(void)gs_binary_is_pie(b);
	uint64_t entry = gs_binary_entry(b);
	uint8_t buf[64];
	gs_binary_read(b, entry, buf, sizeof buf);
	static const char *const secs[] = {".text", ".gopclntab", ".go.buildinfo", ".debug_info",
					   ".zdebug_info", ".noptrdata", ".note.go.buildid",
					   ".debug_line", ".symtab"};
	for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
		const gs_section *s = gs_binary_section(b, secs[i]);
		if (!s)
			continue;
		const uint8_t *d = gs_binary_section_data(b, s, &err);
		if (d && s->size)
			buf[0] ^= d[s->size - 1] ^ d[0];
		gs_binary_read(b, s->addr, buf, 8);
	}
	for (size_t i = 0; i < gs_binary_nsegments(b); i++) {
		const gs_segment *g = gs_binary_segment(b, i);
		size_t avail;
		const uint8_t *p = gs_binary_ptr(b, g->vaddr, &avail);
		if (p && avail)
			buf[1] ^= p[avail - 1];
		gs_binary_read(b, g->vaddr + g->memsz - 4, buf, 8);
	}
	uint64_t a, sz;
	gs_binary_symbol(b, "runtime.firstmoduledata", &a, &sz);
	gs_binary_symbol(b, "main.main", &a, &sz);
	const char *id = gs_binary_gnu_build_id(b);
	if (id)
		(void)strlen(id);
	id = gs_binary_go_build_id(b);
	if (id)
		(void)strlen(id);
	gs_buildinfo bi;
	if (gs_buildinfo_read(b, &bi, &err) == 0)
		gs_buildinfo_free(&bi);
	gs_pclntab *t = gs_pclntab_open(b, &err);
	if (t) {
		gs_func f;
		if (gs_pclntab_find(t, entry, &f) == 0) {
			gs_pcframe pf[8];
			gs_pclntab_frames(t, &f, entry, pf, 8);
		}
		gs_pclntab_close(t);
	}
	gs_binary_close(b);
	return 0;
}
