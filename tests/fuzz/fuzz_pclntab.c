/* libFuzzer: the pclntab reader. Input: the bytes of a .gopclntab section, placed in a
 * synthetic executable; every function (up to a bound) is looked up by pc and by name, its
 * frames (inlining, files, lines) and SP deltas decoded. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "../../analyzer/src/binary/elf_file.h"
#include "../../analyzer/src/binary/pclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t text[16] = {0xc3};
	fz_sec secs[] = {{".text", 0x401000, text, sizeof text},
			 {".gopclntab", 0, data, size}};
	size_t n;
	uint8_t *img = fz_make_elf(secs, 2, &n);
	const char *path = fz_write_file("pclntab", img, n);
	free(img);
	gs_err err = {0};
	gs_binary *b = gs_binary_open(path, &err);
	if (!b)
		abort(); /* our own ELF must open */
	gs_pclntab *t = gs_pclntab_open(b, &err);
	if (t) {
		(void)gs_pclntab_format(t);
		uint64_t text0 = gs_pclntab_text_start(t);
		uint32_t nf = gs_pclntab_nfuncs(t);
		for (uint32_t i = 0; i < nf && i < 4096; i++) {
			gs_func f, g;
			if (gs_pclntab_func_at(t, i, &f) < 0)
				continue;
			uint64_t pcs[3] = {f.entry, f.end > f.entry ? f.end - 1 : f.entry,
					   f.entry + (f.end - f.entry) / 2};
			for (int k = 0; k < 3; k++) {
				if (gs_pclntab_find(t, pcs[k], &g) < 0)
					continue;
				gs_pcframe pf[16];
				int m = gs_pclntab_frames(t, &g, pcs[k], pf, 16);
				for (int j = 0; j < m; j++)
					(void)(strlen(pf[j].function) + strlen(pf[j].file));
				bool ok;
				gs_pclntab_spdelta(t, &g, pcs[k], &ok);
			}
			if (f.name && i < 64)
				gs_pclntab_lookup(t, f.name, &g);
		}
		gs_func f;
		gs_pclntab_find(t, text0, &f);
		gs_pclntab_find(t, UINT64_MAX, &f);
		gs_pclntab_lookup(t, "runtime.goexit", &f);
		gs_pclntab_close(t);
	}
	gs_binary_close(b);
	return 0;
}
