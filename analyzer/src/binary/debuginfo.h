/* Separate debug information: finding the DWARF of a stripped executable the way gdb does.
 *
 * Production Go binaries ship without DWARF; distributions keep it apart (Debian's -dbgsym
 * packages under /usr/lib/debug/.build-id/) and leave in the executable a GNU build id and
 * a .gnu_debuglink (file name + CRC32) to find it by. The order is gdb's: an explicit file,
 * DEBUGDIR/.build-id/xx/rest.debug, EXEDIR/LINK, EXEDIR/.debug/LINK, DEBUGDIR/EXEDIR/LINK,
 * then debuginfod (libdebuginfod) when DEBUGINFOD_URLS is set.
 *
 * A candidate is used only when it comes from the same link as the executable (equal build
 * ids, the debuglink's CRC, the same section addresses) and has .debug_info. A rejected
 * candidate is a warning; finding nothing is the normal case, not an error: the layer above
 * then reads types from the executable itself. Only the debug file's DWARF is meant to be
 * used: code, pclntab and data stay the executable's.
 */
#ifndef GS_BINARY_DEBUGINFO_H
#define GS_BINARY_DEBUGINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "elf_file.h"

#define GS_DEBUG_DIR_DEFAULT "/usr/lib/debug"
#define GS_DEBUG_DIR_ENV "GRPCSCOPE_DEBUG_DIR"

typedef struct gs_debuginfo_opts {
	const char *file; /* --debug-file: used instead of searching; NULL to search */
	/* Debug directories, ':'-separated; NULL: $GRPCSCOPE_DEBUG_DIR, else /usr/lib/debug. */
	const char *dirs;
	bool force;       /* use an explicit file that does not match, with a warning */
} gs_debuginfo_opts;

enum gs_debug_source {
	GS_DEBUG_NONE,       /* no DWARF anywhere: searched and found nothing */
	GS_DEBUG_EXECUTABLE, /* the executable has its own DWARF: nothing searched */
	GS_DEBUG_SEPARATE,   /* a separate file, in file/found_by */
};

typedef struct gs_debuginfo {
	enum gs_debug_source source;
	gs_binary *file;      /* the debug file, opened (GS_DEBUG_SEPARATE), else NULL */
	const char *found_by; /* "--debug-file", "build-id directory", "debuglink", "debuginfod" */
	char *searched;       /* what was tried, ", "-separated (for "none found"), or NULL */
	char *warnings;       /* rejected candidates, one line each, or NULL */
} gs_debuginfo;

/* Fills *out (zeroed first). Returns -1 (GS_EINPUT, naming the file) only for an explicit
 * file that cannot be read, has no DWARF, or does not match the executable without
 * opts->force; anything the search finds wrong is a warning in out->warnings. */
int gs_debuginfo_find(gs_binary *exe, const gs_debuginfo_opts *opts, gs_debuginfo *out,
		      gs_err *err);
/* Closes the debug file: only after the DWARF reader over it is closed. */
void gs_debuginfo_free(gs_debuginfo *d);

/* True when the binary carries DWARF of its own (.debug_info or .zdebug_info with bytes). */
bool gs_debuginfo_has_dwarf(const gs_binary *b);
/* DIR/.build-id/xx/rest.debug for a hex build id (malloc'd), or NULL if it is too short
 * or not hex. */
char *gs_debuginfo_build_id_path(const char *dir, const char *hex);
/* The .gnu_debuglink's file name (valid until close) and CRC32; -1 if absent or malformed
 * (no NUL within the section, a name with '/', no room for the CRC). */
int gs_debuginfo_link(gs_binary *b, const char **name, uint32_t *crc);
/* The CRC32 that .gnu_debuglink records (zlib's), of a whole file. 0 or -1 (errno set). */
int gs_debuginfo_file_crc(const char *path, uint32_t *crc);

#endif
