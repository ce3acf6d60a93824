/* libFuzzer: the build-info readers. The first input byte picks the path: the modinfo text
 * parser on the rest, or the rest as a .go.buildinfo section of a synthetic executable
 * (both the pointer format and the inline varint format). */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "../../analyzer/src/binary/buildinfo.h"
#include "../../analyzer/src/binary/elf_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	gs_buildinfo bi;
	if (data[0] & 1) {
		memset(&bi, 0, sizeof bi);
		if (gs_buildinfo_parse_modinfo((const char *)data + 1, size - 1, &bi) == 0) {
			for (size_t i = 0; i < bi.ndeps; i++)
				gs_buildinfo_module_version(&bi, bi.deps[i].path);
			gs_buildinfo_module_version(&bi, "google.golang.org/grpc");
		}
		gs_buildinfo_free(&bi);
		return 0;
	}
	fz_sec secs[] = {{".go.buildinfo", 0x500000, data + 1, size - 1}};
	size_t n;
	uint8_t *img = fz_make_elf(secs, 1, &n);
	const char *path = fz_write_file("buildinfo", img, n);
	free(img);
	gs_err err = {0};
	gs_binary *b = gs_binary_open(path, &err);
	if (!b)
		abort();
	if (gs_buildinfo_read(b, &bi, &err) == 0) {
		gs_buildinfo_module_version(&bi, "google.golang.org/grpc");
		gs_buildinfo_free(&bi);
	}
	gs_binary_close(b);
	return 0;
}
