/* Is this executable the program the target ran? Everything the target records is
 * compared with the file, before the file is allowed to back any memory:
 *   - the entry point in the auxv (AT_ENTRY) against e_entry, with the PIE bias, and the
 *     program headers' address (AT_PHDR);
 *   - the Go and GNU build-id notes, where the target holds its own copy of them;
 *   - the executable's file mappings (NT_FILE, /proc/PID/maps): each must be a segment of
 *     this file at its place, and none may reach past the file's end;
 *   - the bytes of the read-only segments that the target holds, against the file's.
 * A core cut short before its notes has no auxv and no mappings: the PIE bias is then
 * found by where the target holds the file's first page.
 */
#ifndef GS_GORUNTIME_IDENTITY_H
#define GS_GORUNTIME_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "../binary/elf_file.h"
#include "../target/target.h"
#include "../util/err.h"

/* 0 when nothing contradicts b being the executable of t loaded at bias; otherwise -1 with
 * err (GS_EINPUT): "EXE is not the executable of CORE: <the first contradiction>". */
int gs_identity_check(gs_target *t, gs_binary *b, uint64_t bias, gs_err *err);

/* The PIE bias from the target's memory alone: the dumped region that starts with the
 * file's first loaded page. 0 and *bias set, or -1. */
int gs_identity_bias_from_memory(gs_target *t, gs_binary *b, uint64_t *bias);

struct gs_rt;
/* The objection --force overrode (the message a mismatch would have given), or NULL. */
const char *gs_rt_forced_mismatch(const struct gs_rt *rt);

#endif
