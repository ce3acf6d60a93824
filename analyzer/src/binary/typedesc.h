/* Go types from the runtime's own type descriptors, for executables without DWARF.
 *
 * Every Go binary keeps abi.Type descriptors (what reflect and interfaces use), with the
 * names and offsets of unexported struct fields, even when `-s -w` or strip removed DWARF
 * and the symbol table. They are enumerated from moduledata: typelinks and itablinks up to
 * Go 1.26, the back-to-back typelinked descriptors and itabs from 1.27; named types (which
 * no table lists) are reached by following element, field, key, method and PtrToThis edges.
 *
 * The result is the same gs_dtype graph the DWARF reader builds (names by full import path,
 * e.g. "google.golang.org/grpc/internal/transport.http2Client", "*runtime.g",
 * "[]*runtime.g"), so the layers above do not know which one they got. Descriptors are read
 * from the executable file (link addresses; PIE relocations applied), lazily: the first
 * query walks the closure and indexes the names, a type's gs_dtype is built when first
 * asked for. Types the linker gave no descriptor (runtime.mheap, schedt, semaRoot, ...) are
 * not here: see rtables.h.
 */
#ifndef GS_BINARY_TYPEDESC_H
#define GS_BINARY_TYPEDESC_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "dwarf_types.h"
#include "elf_file.h"
#include "pclntab.h"

typedef struct gs_typedesc gs_typedesc;

/* Finds moduledata and the descriptor region; GS_EINPUT naming the file when the binary's
 * moduledata is missing or implausible. go_minor: 19..27 when known (buildinfo), else 0. */
gs_typedesc *gs_typedesc_open(gs_binary *b, const gs_pclntab *pc, int go_minor, gs_err *err);
/* The same with moduledata's link address given (tests and fuzzing: no pclntab needed).
 * pcln_format: 18 for the 1.18/1.19 header, 20 for later ones, 0 unknown. */
gs_typedesc *gs_typedesc_open_at(gs_binary *b, uint64_t md, int go_minor, int pcln_format,
				 gs_err *err);
void gs_typedesc_close(gs_typedesc *td);

/* A type by its full Go name; NULL (GS_ENOTFOUND) when no descriptor has that name. */
const gs_dtype *gs_typedesc_type(gs_typedesc *td, const char *name, gs_err *err);
/* The type whose descriptor is at a link address (e.g. an interface value's dynamic type,
 * less the PIE bias); NULL when addr is not a descriptor. Works without the name index. */
const gs_dtype *gs_typedesc_type_at(gs_typedesc *td, uint64_t addr);
/* Whether an allocation failed: no type is handed out any more. */
bool gs_typedesc_nomem(const gs_typedesc *td);
/* A synthetic type owned by td (for the tables of types without a descriptor); NULL when
 * out of memory (td then hands out no more types). */
gs_dtype *gs_typedesc_new_type(gs_typedesc *td, const char *name, int kind, uint64_t size);
void gs_typedesc_set_members(gs_typedesc *td, gs_dtype *t, const gs_dmember *m, size_t n);

/* The raw Kind_ and TFlag bytes of the descriptor of the type named `name`, flag bits
 * included (what the constants table is checked against); -1 when none has that name. */
int gs_typedesc_flags(gs_typedesc *td, const char *name, uint8_t *kind, uint8_t *tflag);

/* Link address of moduledata, and the descriptor region [types, etypes). */
uint64_t gs_typedesc_moduledata(const gs_typedesc *td);
void gs_typedesc_region(const gs_typedesc *td, uint64_t *types, uint64_t *etypes);
/* Descriptors indexed so far (0 before the first query). */
size_t gs_typedesc_count(const gs_typedesc *td);

#endif
