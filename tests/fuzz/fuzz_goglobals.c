/* libFuzzer: the runtime-globals finder (binary/goglobals.c) for executables without
 * symbols. The input is scanned as code for RIP-relative operands, and laid out as a
 * writable data section in which the waitReasonStrings signature is searched (string
 * headers pointing into the same section). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "../../analyzer/src/binary/elf_file.h"
#include "../../analyzer/src/binary/goglobals.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t out[64];
	uint8_t lea[64];
	size_t n = gs_rip_targets(data, size, 0x401000, out, lea, 64);
	if (n > 64)
		abort();
	fz_sec secs[] = {{".data", 0x600000, data, size}};
	size_t len;
	uint8_t *img = fz_make_elf(secs, 1, &len);
	img[68] = 7; /* the PT_LOAD read-write-execute: the finder only looks at writable data */
	const char *path = fz_write_file("goglobals", img, len);
	free(img);
	gs_err err = {0};
	gs_binary *b = gs_binary_open(path, &err);
	if (!b)
		abort();
	uint64_t c[GS_GLOBAL_MAX_CANDIDATES];
	size_t k = gs_goglobal_candidates(b, NULL, "runtime.waitReasonStrings", c,
					  GS_GLOBAL_MAX_CANDIDATES);
	if (k > GS_GLOBAL_MAX_CANDIDATES)
		abort();
	if (gs_goglobal_candidates(b, NULL, "runtime.allgs", c, GS_GLOBAL_MAX_CANDIDATES))
		abort(); /* code-found globals need a pclntab */
	gs_binary_close(b);
	return 0;
}
