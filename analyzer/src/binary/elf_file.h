/* The executable: ELF sections, symbols, segments and build ids (libelf).
 *
 * A gs_binary is opened once per session and is immutable afterwards. Addresses are link
 * addresses as written in the file; the layer above adds the PIE load bias.
 * Compressed sections (SHF_COMPRESSED, zlib) are decompressed on first use (libdeflate:
 * twice zlib's speed on the megabytes of .debug_info every session reads).
 */
#ifndef GS_BINARY_ELF_FILE_H
#define GS_BINARY_ELF_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "../util/err.h"

typedef struct gs_binary gs_binary;

typedef struct gs_section {
	const char *name;
	uint64_t addr, size, offset; /* size: uncompressed size */
	uint32_t type;
	uint64_t flags;
} gs_section;

typedef struct gs_segment { /* a PT_LOAD */
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags;
} gs_segment;

/* Fails with GS_EINPUT ("EXE: not an ELF file", ...) naming the path. */
gs_binary *gs_binary_open(const char *path, gs_err *err);
void gs_binary_close(gs_binary *b);

const char *gs_binary_path(const gs_binary *b);
bool gs_binary_is_pie(const gs_binary *b);   /* ET_DYN */
uint64_t gs_binary_entry(const gs_binary *b); /* e_entry */

const gs_section *gs_binary_section(const gs_binary *b, const char *name);
/* Every section by ELF index (0 is the null section), for readers that walk them all. */
size_t gs_binary_nsections(const gs_binary *b);
const gs_section *gs_binary_section_at(const gs_binary *b, size_t i);
/* The section's contents (decompressed if needed), valid until close. NULL + err if absent. */
const uint8_t *gs_binary_section_data(gs_binary *b, const gs_section *s, gs_err *err);

size_t gs_binary_nsegments(const gs_binary *b);
const gs_segment *gs_binary_segment(const gs_binary *b, size_t i);

/* Reads n bytes at a link address from the file's PT_LOAD contents. 0 or -1. */
int gs_binary_read(const gs_binary *b, uint64_t addr, void *dst, size_t n);
/* The file bytes at a link address, without copying: NULL if addr is in no PT_LOAD's file
 * contents, else *avail (if not NULL) says how many bytes follow in that segment. Valid
 * until close. */
const uint8_t *gs_binary_ptr(const gs_binary *b, uint64_t addr, size_t *avail);

/* A pointer-sized word at a link address, as the loader leaves it: in a PIE whose file holds
 * 0 there, the addend of its RELATIVE relocation (a link address, not yet biased). */
int gs_binary_read_ptr(const gs_binary *b, uint64_t addr, uint64_t *v);

/* Symbols from .symtab (falling back to .dynsym). */
int gs_binary_symbol(const gs_binary *b, const char *name, uint64_t *addr, uint64_t *size);

/* Hex GNU build id (.note.gnu.build-id), or NULL. */
const char *gs_binary_gnu_build_id(const gs_binary *b);
/* Go build id string (.note.go.buildid), or NULL. */
const char *gs_binary_go_build_id(const gs_binary *b);

#endif
