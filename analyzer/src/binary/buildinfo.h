/* .go.buildinfo: the Go version and, for module-mode builds, the module list. */
#ifndef GS_BINARY_BUILDINFO_H
#define GS_BINARY_BUILDINFO_H

#include "../util/err.h"
#include "elf_file.h"

typedef struct gs_module {
	char *path, *version;
} gs_module;

typedef struct gs_buildinfo {
	char *go_version;   /* "go1.27.4" */
	char *main_path;    /* main package path, or NULL (GOPATH builds) */
	gs_module *deps;    /* module dependencies ("dep" lines), may be empty */
	size_t ndeps;
	char *settings;     /* raw "build" lines, or NULL */
} gs_buildinfo;

/* Parses both the pre-1.18 (pointer) and 1.18+ (inline varint strings) formats. */
int gs_buildinfo_read(gs_binary *b, gs_buildinfo *out, gs_err *err);
void gs_buildinfo_free(gs_buildinfo *bi);
/* Fills main_path, deps and settings of *out from modinfo text (sentinels optional);
 * go_version is left alone. Replacements ("=>" lines) give their dep the replacement's
 * version when it has one. -1 when out of memory (what was filled is still freed by
 * gs_buildinfo_free). */
int gs_buildinfo_parse_modinfo(const char *text, size_t len, gs_buildinfo *out);
/* Version of a module path in deps, or NULL. */
const char *gs_buildinfo_module_version(const gs_buildinfo *bi, const char *path);

#endif
