/* grpc-go's version as the executable carries it. */
#ifndef GS_BINARY_GRPC_VERSION_H
#define GS_BINARY_GRPC_VERSION_H

#include "elf_file.h"

/* Module-mode builds record it in .go.buildinfo; GOPATH builds do not, but grpc-go folds
 * its Version constant into the user-agent string "grpc-go/X.Y.Z" in .rodata. Returns a
 * malloc'd string or NULL when neither is there, or NULL with *err set when out of memory. */
char *gs_grpc_version(gs_binary *b, gs_err *err);

#endif
