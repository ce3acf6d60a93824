/* libFuzzer: the type-descriptor decoder (binary/typedesc.c), which reads executables
 * without DWARF. Input:
 *   u64 T (where the region lies; real descriptors hold absolute pointers into it),
 *   u8 go minor version (19 + n % 9), u8 NT, NT x u32 typelink offsets,
 *   u64 typedesclen, u64 itaboffset, u64 itabsize (1.27's walk), then the region bytes.
 * One section holds a moduledata laid out for that version, the typelinks and the region;
 * every name lookup, the closure walk and the gs_dtype graph of every descriptor reached
 * are exercised. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "../../analyzer/src/binary/elf_file.h"
#include "../../analyzer/src/binary/typedesc.h"

#define MD_SIZE 600

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* moduledata offsets (types, etypes, typelinks, itablinks, typedesclen, itaboffset,
 * itabsize) as typedesc.c's table has them. */
static void md_offsets(int minor, uint32_t o[7])
{
	static const uint32_t v19[7] = {280, 288, 336, 360, 0, 0, 0};
	static const uint32_t v20[7] = {296, 304, 352, 376, 0, 0, 0};
	static const uint32_t v26[7] = {296, 304, 360, 384, 0, 0, 0};
	static const uint32_t v27[7] = {296, 312, 0, 0, 304, 320, 328};
	memcpy(o, minor == 19 ? v19 : minor <= 25 ? v20 : minor == 26 ? v26 : v27, sizeof v19);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 10)
		return 0;
	uint64_t T = rd64(data) & ~7ull & 0x0000ffffffff0000ull;
	int minor = 19 + data[8] % 9;
	size_t nt = data[9], pos = 10;
	if (size < pos + 4 * nt + 24)
		return 0;
	const uint8_t *links = data + pos;
	pos += 4 * nt;
	uint64_t tdl = rd64(data + pos), itoff = rd64(data + pos + 8), itsz = rd64(data + pos + 16);
	pos += 24;
	const uint8_t *region = data + pos;
	size_t rlen = size - pos;
	size_t prefix = (MD_SIZE + 4 * nt + 7) & ~(size_t)7;
	if (T < prefix + 0x10000)
		T += 0x400000;
	uint64_t start = T - prefix;
	uint8_t *sec = calloc(1, prefix + rlen + 8);
	uint32_t o[7];
	md_offsets(minor, o);
	put64(sec + o[0], T);
	put64(sec + o[1], T + rlen);
	if (o[2]) {
		put64(sec + o[2], start + MD_SIZE);
		put64(sec + o[2] + 8, nt);
		put64(sec + o[2] + 16, nt);
	} else {
		put64(sec + o[4], tdl);
		put64(sec + o[5], itoff);
		put64(sec + o[6], itsz);
	}
	memcpy(sec + MD_SIZE, links, 4 * nt);
	memcpy(sec + prefix, region, rlen);
	fz_sec secs[] = {{".noptrdata", start, sec, prefix + rlen}};
	size_t n;
	uint8_t *img = fz_make_elf(secs, 1, &n);
	free(sec);
	const char *path = fz_write_file("typedesc", img, n);
	free(img);
	gs_err err = {0};
	gs_binary *b = gs_binary_open(path, &err);
	if (!b)
		abort(); /* our own ELF must open */
	gs_typedesc *td = gs_typedesc_open_at(b, start, minor, minor == 19 ? 18 : 20, &err);
	if (td) {
		static const char *const names[] = {"runtime.g", "*runtime.g", "[]*runtime.g",
						    "string", "runtime.hmap", "map[uint32]*int"};
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			const gs_dtype *t = gs_typedesc_type(td, names[i], &err);
			for (size_t k = 0; t && k < t->nmembers; k++)
				(void)(strlen(t->members[k].name) + (t->members[k].type != NULL));
		}
		for (uint64_t a = T; a < T + rlen && a < T + 4096; a += 8) {
			const gs_dtype *t = gs_typedesc_type_at(td, a);
			if (t && t->name)
				(void)strlen(t->name);
		}
		(void)gs_typedesc_count(td);
		gs_typedesc_close(td);
	}
	gs_binary_close(b);
	return 0;
}
