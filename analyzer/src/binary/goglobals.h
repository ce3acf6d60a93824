/* Runtime globals of a Go executable without a symbol table.
 *
 * Stripped binaries keep the pclntab, so the runtime's functions are known by name; the
 * globals they use are the RIP-relative operands of their instructions (allgs in allgadd,
 * mheap_ in (*mcentral).grow, semtable in semacquire1, ...). Some are found by a data
 * signature instead (moduledata points at the pclntab; waitReasonStrings starts "",
 * "GC assist marking", "IO wait"). What comes back is a list of candidates by link address,
 * most likely first: this layer has no process, so the runtime layer validates each against
 * the snapshot before it uses one.
 */
#ifndef GS_BINARY_GOGLOBALS_H
#define GS_BINARY_GOGLOBALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_file.h"
#include "pclntab.h"

#define GS_GLOBAL_MAX_CANDIDATES 16

/* Candidates for the global `name` ("runtime.allgs", ...): how many were written to out.
 * 0 when the name is not one this finder knows or nothing matched. pc may be NULL: then
 * only the globals found by a data signature are looked for. */
size_t gs_goglobal_candidates(const gs_binary *b, const gs_pclntab *pc, const char *name,
			      uint64_t *out, size_t max);

/* How many entries runtime.waitReasonStrings has (the bound waitReason.String compares
 * against), or 0 when the code does not say. */
size_t gs_goglobal_wait_reason_count(const gs_binary *b, const gs_pclntab *pc);

/* What kind of instruction a RIP-relative operand came from. */
enum gs_ref_kind { GS_REF_OTHER, GS_REF_LEA, GS_REF_CAS /* CMPXCHG: atomic.Cas on it */ };

/* The RIP-relative targets of the instructions of [entry, end): for tests and the finder.
 * kind[i] (if not NULL) says what out[i] came from. Returns how many. */
size_t gs_rip_targets(const uint8_t *code, size_t n, uint64_t entry, uint64_t *out,
		      uint8_t *kind, size_t max);

#endif
