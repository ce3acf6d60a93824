/* The session: one snapshot opened for analysis, everything hanging off it.
 *
 * Owns the target, the executable and the runtime model (and, as they land, the gRPC model
 * and the verdicts). Commands (commands.c) take a session and render through report/. */
#ifndef GS_API_SESSION_H
#define GS_API_SESSION_H

#include "grpcscope.h"
#include "../binary/debuginfo.h"
#include "../binary/dwarf_types.h"
#include "../binary/elf_file.h"
#include "../binary/pclntab.h"
#include "../binary/typedesc.h"
#include "../goruntime/capture.h"
#include "../goruntime/model.h"
#include "../grpc/grpc_model.h"
#include "../target/target.h"
#include "../report/info.h"
#include "../util/phases.h"

struct gs_session {
	gs_target *target;
	gs_binary *binary;
	gs_pclntab *pclntab;
	gs_dwarf *dwarf;
	struct gs_typedesc *typedesc; /* only when the executable has no DWARF */
	gs_debuginfo debuginfo; /* where the DWARF came from; owns a separate debug file */
	gs_rt *rt;
	gs_grpc *grpc;      /* opened on first use */
	gs_grpc *grpc_pending; /* begun (heap scan running), not finished */
	char *exe_path;
	char *grpc_version; /* NULL when unknown */
	uint64_t open_ns;   /* time to open, for info */
	gs_phases phases;   /* GRPCSCOPE_TIMING */
	char **extra_warnings; /* warnings.c: the commands' own */
	size_t nextra_warnings;
	bool nomem; /* a warning was dropped for want of memory: the command fails */
	gs_capture_stats capture; /* a live target: what was copied while it was paused */
	gs_open_options opened;   /* what it was opened with (live sampling opens it again) */
	gs_progress_fn progress; /* from the open options, for a --peer core */
	void *progress_ctx;
	bool borrowed; /* binary, pclntab, dwarf, typedesc, debuginfo: another session's */
};

/* gs_open, taking what is read of the executable alone from one of the donors when it runs
 * the same file (peers of one binary): the donor must stay open until this one closes. */
gs_session *gs_open_sharing(const gs_open_options *o, gs_session *const *donors, size_t ndonors,
			    int *status, char *errbuf, size_t errlen);

/* Starts building the gRPC model (its heap scan runs on a worker thread for cores): a
 * command calls it first, works on the runtime model, then calls gs_session_grpc. */
void gs_session_grpc_begin(gs_session *s);
/* A copy of s for a front end (freed with gs_free); when it cannot be allocated, the
 * constant "out of memory", which gs_free leaves alone. */
char *gs_msg_dup(const char *s);
/* What `info` shows of the session (also the report's facts); types: scratch for the
 * type-source text, which in->types_from may point to. */
void gs_session_info(gs_session *s, gs_info *in, char *types, size_t cap);
/* The gRPC model, built on first use; NULL with *err set on failure. */
gs_grpc *gs_session_grpc(gs_session *s, gs_err *err);
/* Same, with goroutines linked to streams and transports (gs_grpc_link). */
gs_grpc *gs_session_grpc_linked(gs_session *s, gs_err *err);
/* The linked model with what the verdict rules read of every goroutine (full stacks,
 * waits): the waits are computed by a job while the model is built (gs_diagnose_prepare
 * and gs_session_grpc_linked in one, on two threads). */
gs_grpc *gs_session_grpc_for_verdicts(gs_session *s, gs_err *err);
/* The models are built (contexts too): the rules and renderers that follow read the model,
 * not the target, so the page cache's memory goes back to the system before verdicts are
 * made (peak RSS); what is still read refills it. NULL does nothing. */
void gs_session_models_built(gs_session *s);

#endif
