/* Sessions over a corruptible memory image of a real fixture snapshot (see memimage.h): the
 * executable is opened once (ELF, pclntab, DWARF), each session gets a fresh callback
 * target over the image and its own runtime and gRPC models, and runs commands the way the
 * CLI does. Shared by tests/fuzz/fuzz_runtime.c and tests/unit/test_hostile_memory.c. */
#ifndef GS_TESTS_IMGSESSION_H
#define GS_TESTS_IMGSESSION_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memimage.h"
#include "../../analyzer/src/api/session.h"

typedef struct imgfix {
	gs_binary *bin;
	gs_pclntab *pcln;
	gs_dwarf *dw;
	memimage mi;
	char exe[1024];
} imgfix;

/* Opens exe and core of a snapshot directory; 0 or -1 (message on stderr). */
static inline int imgfix_open(imgfix *f, const char *dir)
{
	char core[1024];
	gs_err err = {0};
	memset(f, 0, sizeof *f);
	snprintf(f->exe, sizeof f->exe, "%s/exe", dir);
	snprintf(core, sizeof core, "%s/core", dir);
	if (!(f->mi.base = gs_core_target_open(core, &err)) ||
	    !(f->bin = gs_binary_open(f->exe, &err)) || !(f->pcln = gs_pclntab_open(f->bin, &err)) ||
	    !(f->dw = gs_dwarf_open(f->bin, &err))) {
		fprintf(stderr, "imgfix: %s: %s\n", dir, err.msg);
		return -1;
	}
	return 0;
}

static inline void imgfix_close(imgfix *f)
{
	mi_reset(&f->mi);
	if (f->dw)
		gs_dwarf_close(f->dw);
	if (f->pcln)
		gs_pclntab_close(f->pcln);
	if (f->bin)
		gs_binary_close(f->bin);
	if (f->mi.base)
		gs_target_close(f->mi.base);
}

/* A session over the image as it is now (patches included). NULL with *err set when the
 * runtime model cannot be opened. */
static inline gs_session *imgfix_session(imgfix *f, gs_err *err)
{
	gs_session *s = calloc(1, sizeof *s);
	s->target = mi_target(&f->mi);
	s->binary = f->bin;
	s->pclntab = f->pcln;
	s->dwarf = f->dw;
	s->exe_path = f->exe;
	uint64_t bias = 0;
	s->rt = gs_rt_open_with_bias(s->target, f->bin, f->pcln, f->dw, false, &bias, err);
	if (!s->rt) {
		gs_target_close(s->target);
		free(s);
		return NULL;
	}
	return s;
}

static inline void imgfix_session_close(gs_session *s)
{
	if (!s)
		return;
	gs_grpc_close(s->grpc);
	gs_rt_close(s->rt);
	gs_target_close(s->target);
	free(s);
}

/* Runs one command (NULL-terminated argv); returns its status, *out its output (free). */
static inline int imgfix_run(gs_session *s, char **out, const char *cmd, ...)
{
	const char *argv[16];
	int argc = 0;
	va_list ap;
	va_start(ap, cmd);
	for (const char *a = cmd; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	char *text = NULL, *msg = NULL;
	int rc = gs_command(s, argc, argv, &text, &msg);
	gs_free(msg);
	if (out)
		*out = text;
	else
		gs_free(text);
	return rc;
}

#endif
