/* The notes of an ELF core: one NT_PRSTATUS per thread, NT_FILE (file mappings) and
 * NT_AUXV. The bytes are untrusted: every length is checked against the note segment. */
#ifndef GS_TARGET_CORE_NOTES_H
#define GS_TARGET_CORE_NOTES_H

#include <stddef.h>
#include <stdint.h>

#include "target_impl.h"

/* Adds the threads, mappings and auxv found in one PT_NOTE segment to t. On a malformed
 * note fills err (GS_EINPUT, "<path>: corrupt core notes (...)") and returns -1. */
int gs_core_parse_notes(gs_target *t, const char *path, const uint8_t *p, size_t size,
			uint64_t file_offset, gs_err *err);

#endif
