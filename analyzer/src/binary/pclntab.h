/* Go's pclntab: the runtime's own table from PCs to functions, frame sizes and source lines.
 *
 * Read from the executable (.gopclntab, or the region runtime.pclntab/.go.module point at)
 * for the header formats of Go 1.16, 1.18 and 1.20+. Addresses are link addresses: callers
 * subtract the PIE load bias before lookup. Funcdata that needs the process (none so far)
 * is not handled here.
 */
#ifndef GS_BINARY_PCLNTAB_H
#define GS_BINARY_PCLNTAB_H

#include <stdint.h>
#include <stdbool.h>

#include "../util/err.h"
#include "elf_file.h"

typedef struct gs_pclntab gs_pclntab;

typedef struct gs_func {
	uint64_t entry;     /* link address of the function's first instruction */
	uint64_t end;       /* one past its last */
	const char *name;   /* valid as long as the table */
	int32_t funcid;     /* abi.FuncID: special runtime functions (goexit, mstart, ...) */
	uint8_t flag;       /* abi.FuncFlag (TopFrame, SPWrite, Asm) */
	uint32_t index;     /* index in the function table (opaque) */
} gs_func;

/* One source position; for inlined code several frames share a PC. */
typedef struct gs_pcframe {
	const char *function;
	const char *file;
	int32_t line;
} gs_pcframe;

gs_pclntab *gs_pclntab_open(gs_binary *b, gs_err *err);
void gs_pclntab_close(gs_pclntab *t);

/* 16, 18 or 20 (1.20 and later share a header). */
int gs_pclntab_format(const gs_pclntab *t);
/* The text start function entries are relative to (1.18+; 0 for 1.16). From 1.26 the
 * header holds 0 and this comes from runtime.text or moduledata.text. */
uint64_t gs_pclntab_text_start(const gs_pclntab *t);

/* The function containing pc. 0, or -1 when pc is in no function. */
int gs_pclntab_find(const gs_pclntab *t, uint64_t pc, gs_func *out);
/* The function named name (exact, e.g. "runtime.goexit"). 0 or -1. */
int gs_pclntab_lookup(const gs_pclntab *t, const char *name, gs_func *out);

/* SP delta at pc (bytes the function has pushed/allocated, pcsp table). -1 on failure
 * (with *ok=false). */
int32_t gs_pclntab_spdelta(const gs_pclntab *t, const gs_func *f, uint64_t pc, bool *ok);

/* The frames at pc, innermost (deepest inlined) first, the physical function last.
 * Returns how many were written (at most max), at least 1 when pc is in f. File and
 * function strings are valid as long as the table. Callers pass pc-1 for return addresses. */
int gs_pclntab_frames(const gs_pclntab *t, const gs_func *f, uint64_t pc, gs_pcframe *out,
		      int max);

/* Link address of moduledata (runtime.firstmoduledata), found by symbol, by section, or
 * by the words that point at this table. 0 or -1. */
int gs_pclntab_moduledata(const gs_pclntab *t, uint64_t *addr);
/* Link address of the table's header. */
uint64_t gs_pclntab_addr(const gs_pclntab *t);

/* Function-table size, and iteration (for tests and indexes). */
uint32_t gs_pclntab_nfuncs(const gs_pclntab *t);
int gs_pclntab_func_at(const gs_pclntab *t, uint32_t index, gs_func *out);

#endif
