/* A directory of snapshots (`--snapshots DIR`): every core in it with the executable it ran.
 *
 * A core is a regular file holding an ELF core (told by its content), or a compressed one
 * (zstd, xz, gzip, lz4) whose name without the compression suffix ends in `.core` or is
 * `core`; a subdirectory SUB holding a file `core` counts as one snapshot too. Its
 * executable is, first found: for `NAME.core[.zst...]` the file `NAME` beside it; for
 * `SUB/core` the file `SUB/exe`; otherwise the file in DIR named as the executable the
 * core's file mappings record (its identity is then checked like any EXE CORE pair when the
 * snapshot opens). Snapshots are in the order of their names (strcmp). A file named like a
 * core that is not one, a core whose executable is not there, or no core at all is bad
 * input: exit 2 naming the file. Other files (notes, dumps, executables) are passed over. */
#ifndef GS_API_SNAPDIR_H
#define GS_API_SNAPDIR_H

#include <stddef.h>

typedef struct gs_snapref {
	char *exe, *core;
} gs_snapref;

/* Lists dir's snapshots into *out (*n of them): 0, or 2 with a one-line message in err
 * (1 with "out of memory"). */
int gs_snapdir_list(const char *dir, gs_snapref **out, size_t *n, char *err, size_t errlen);
void gs_snapdir_free(gs_snapref *v, size_t n);

#endif
