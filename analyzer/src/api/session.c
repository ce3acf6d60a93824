#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../binary/grpc_version.h"
#include "../goruntime/capture.h"
#include "../goruntime/identity.h"
#include "../util/alloc.h"
#include "../util/strbuf.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The target layer's progress, passed on in the public shape. */
static void pass_progress(void *ctx, const gs_decompress_progress *p)
{
	const gs_open_options *o = ctx;
	gs_progress q = {p->path, p->format, p->in_done, p->in_total, p->out_done, p->finished};
	o->progress(o->progress_ctx, &q);
}

static gs_target *open_target(const gs_open_options *o, gs_err *err)
{
	if (o->core)
		return gs_core_target_open_progress(o->core, o->progress ? pass_progress : NULL,
						    (void *)o, err);
	if (o->pid > 0) /* analysed from a copy once it runs again (gs_rt_capture) */
		return gs_live_target_open_copying(o->pid, err);
	if (!o->read_memory) {
		gs_errf(err, GS_EINPUT, "no target: give a core file, --pid, or a debugger");
		return NULL;
	}
	gs_target_callbacks cb = {o->read_ctx, o->read_memory};
	gs_target *t = gs_callback_target_new(&cb, err);
	for (size_t i = 0; t && i < o->nthreads; i++) {
		gs_thread th = {0};
		th.tid = o->threads[i].tid;
		th.regs.rip = o->threads[i].rip;
		th.regs.rsp = o->threads[i].rsp;
		th.regs.rbp = o->threads[i].rbp;
		th.regs.fs_base = o->threads[i].fs_base;
		gs_target_add_thread(t, &th);
	}
	if (t && gs_target_alloc_check(t, err) < 0) {
		gs_target_close(t);
		return NULL;
	}
	return t;
}

/* DWARF from the executable, or from a separate debug file when it has none or one is
 * given; the pclntab and everything else stay the executable's. No debug file found is
 * the normal case for production binaries, not an error. */
static int open_dwarf(gs_session *s, const gs_open_options *o, gs_err *err)
{
	gs_debuginfo_opts d = {o->debug_file, o->debug_dirs, o->force != 0};
	if (gs_debuginfo_find(s->binary, &d, &s->debuginfo, err) < 0)
		return -1;
	s->dwarf = gs_dwarf_open(s->debuginfo.file ? s->debuginfo.file : s->binary, err);
	return s->dwarf ? 0 : -1;
}

/* A live process's executable, known before it is paused: the executable is then read
 * while it still runs. 0, or -1 when /proc cannot tell (the pause then comes first, and
 * says why). */
static int live_exe(int pid, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	ssize_t r = readlink(path, buf, cap - 1);
	if (r <= 0 || (size_t)r >= cap - 1)
		return -1;
	buf[r] = '\0';
	return 0;
}

/* The executable of a session already open that is the same file as exe (a set of
 * snapshots of several processes of one binary), or NULL. */
static gs_session *same_exe(const char *exe, gs_session *const *donors, size_t n)
{
	struct stat a, b;
	if (stat(exe, &a) != 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (donors[i] && donors[i]->binary && !donors[i]->borrowed &&
		    stat(donors[i]->exe_path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
		    a.st_size == b.st_size && a.st_mtime == b.st_mtime)
			return donors[i];
	return NULL;
}

/* What is read of the executable alone (no process in it) is taken from a session of the
 * same file: kept by it, never freed here. Its debug-info warnings were said once. */
static void borrow_exe(gs_session *s, const gs_session *d)
{
	s->binary = d->binary;
	s->pclntab = d->pclntab;
	s->dwarf = d->dwarf;
	s->typedesc = d->typedesc;
	s->debuginfo = d->debuginfo;
	s->debuginfo.searched = NULL;
	s->debuginfo.warnings = NULL;
	s->borrowed = true;
}

static int open_session(gs_session *s, const gs_open_options *o, gs_session *const *donors,
			size_t ndonors, gs_err *err)
{
	char exebuf[4096];
	bool late = !o->core && o->pid > 0 && !o->read_memory &&
		    (o->exe || live_exe(o->pid, exebuf, sizeof exebuf) == 0);
	if (!late && !(s->target = open_target(o, err)))
		return -1;
	const char *exe = o->exe ? o->exe : late ? exebuf : gs_target_exe_path(s->target);
	if (!exe && gs_target_notes_problem(s->target))
		return gs_errf(err, GS_EINPUT,
			       "%s: %s, so the executable it ran is not recorded; give EXE CORE",
			       gs_target_name(s->target), gs_target_notes_problem(s->target));
	if (!exe)
		return gs_errf(err, GS_EINPUT,
			       "%s: cannot tell which executable it ran; give EXE CORE",
			       gs_target_name(s->target));
	if (!(s->exe_path = gs_strdup(exe, err)))
		return -1;
	gs_phases_mark(&s->phases, "target");
	gs_session *donor = ndonors ? same_exe(exe, donors, ndonors) : NULL;
	if (donor) {
		borrow_exe(s, donor);
		goto layout;
	}
	s->binary = gs_binary_open(exe, err);
	if (!s->binary)
		return -1;
	gs_phases_mark(&s->phases, "binary");
	s->pclntab = gs_pclntab_open(s->binary, err);
	if (!s->pclntab && err->code == GS_EINTERNAL) /* out of memory, not a bad executable */
		return -1;
	if (!s->pclntab) {
		char why[sizeof err->msg]; /* err->msg is rewritten: never its own argument */
		snprintf(why, sizeof why, "%s", err->msg);
		return gs_errf(err, GS_EINPUT, "%s: not a Go executable (%s)", exe, why);
	}
	gs_phases_mark(&s->phases, "pclntab");
	if (open_dwarf(s, o, err) < 0)
		return -1;
	/* Type descriptors: every layout when there is no DWARF (the production case), and
	 * the dynamic types of interface values (connection wrappers) in any case. */
	gs_err terr = {0};
	s->typedesc = gs_typedesc_open(s->binary, s->pclntab, 0, &terr);
	if (!s->typedesc && !gs_dwarf_has_dwarf(s->dwarf)) {
		*err = terr;
		return -1;
	}
	if (s->typedesc)
		gs_dwarf_use_descriptors(s->dwarf, s->typedesc, s->pclntab);
	gs_phases_mark(&s->phases, "dwarf");
layout: /* a live target is opened here, after what the executable alone gives */
	if (late) {
		gs_rt_capture_prepare(s->dwarf);
		gs_phases_mark(&s->phases, "prepare");
		/* the pause starts here, and ends with gs_target_resume below */
		if (!(s->target = open_target(o, err)))
			return -1;
		gs_phases_mark(&s->phases, "pause");
	}
	bool copy = gs_target_kind(s->target) == GS_TARGET_LIVE &&
		    gs_target_image_begin(s->target) == 0;
	s->rt = gs_rt_open_layout(s->target, s->binary, s->pclntab, s->dwarf, o->force != 0,
				  o->has_bias_hint ? &o->load_bias_hint : NULL, err);
	if (!s->rt) {
		if (copy) /* not a moment longer than the copy would have taken */
			gs_target_resume(s->target);
		return -1;
	}
	gs_phases_mark(&s->phases, "layout");
	if (copy) { /* what the command reads is copied, and the process goes on */
		int rc = gs_rt_capture(s->rt, o->want_grpc != 0, &s->capture, err);
		gs_target_resume(s->target);
		if (rc < 0 || gs_target_alloc_check(s->target, err) < 0) /* the image too */
			return -1;
		gs_phases_mark(&s->phases, "copy");
	}
	/* The heap scan needs only the layout: it runs while the goroutines are read. On
	 * failure gs_close stops it before the model goes. */
	if (o->want_grpc)
		s->grpc_pending = gs_grpc_begin(s->rt);
	if (gs_rt_load(s->rt, err) < 0) {
		/* Cut short before the runtime's own globals: nothing to analyse, and the file is
		 * the problem. */
		if (err && err->code == GS_EMEM && gs_target_missing_bytes(s->target)) {
			char why[sizeof err->msg];
			snprintf(why, sizeof why, "%s", err->msg);
			const char *np = gs_target_notes_problem(s->target);
			return gs_errf(err, GS_EINPUT, "%s: truncated before the runtime's state (%s; "
				       "%llu bytes missing%s%s): nothing left to analyse",
				       gs_target_name(s->target), why,
				       (unsigned long long)gs_target_missing_bytes(s->target),
				       np ? "; " : "", np ? np : "");
		}
		/* Forced over a mismatch: the mismatch is the likelier cause. */
		const char *forced = gs_rt_forced_mismatch(s->rt);
		if (err && forced) {
			char why[sizeof err->msg];
			snprintf(why, sizeof why, "%s", err->msg);
			return gs_errf(err, GS_EINPUT, "%s (read with --force although %.600s)", why,
				       forced);
		}
		return -1;
	}
	gs_err verr = {0};
	s->grpc_version = gs_grpc_version(s->binary, &verr);
	if (!s->grpc_version && verr.code)
		return gs_errf(err, verr.code, "%s", verr.msg);
	gs_rt_set_grpc_version(s->rt, s->grpc_version);
	gs_phases_mark(&s->phases, "runtime");
	return 0;
}

gs_session *gs_open_sharing(const gs_open_options *o, gs_session *const *donors, size_t ndonors,
			    int *status, char *errbuf, size_t errlen)
{
	gs_err err = {0};
	gs_session *s = gs_calloc(1, sizeof *s, &err);
	if (!s) {
		*status = 1;
		snprintf(errbuf, errlen, "%s", err.msg);
		return NULL;
	}
	s->progress = o->progress;
	s->progress_ctx = o->progress_ctx;
	s->opened = *o;
	gs_phases_start(&s->phases);
	uint64_t t0 = now_ns();
	if (open_session(s, o, donors, ndonors, &err) < 0) {
		/* A debug file rejected, or forced on, may explain the failure: say so, since
		 * the warnings go with the session. */
		const char *w = s->debuginfo.warnings;
		size_t n = strlen(err.msg);
		if (w)
			snprintf(err.msg + n, sizeof err.msg - n, " (%.*s)", (int)strcspn(w, "\n"), w);
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", err.msg);
		if (status)
			*status = err.code == GS_EINPUT ? 2 : 1;
		gs_close(s);
		return NULL;
	}
	s->open_ns = now_ns() - t0;
	if (status)
		*status = 0;
	return s;
}

gs_session *gs_open(const gs_open_options *o, int *status, char *errbuf, size_t errlen)
{
	return gs_open_sharing(o, NULL, 0, status, errbuf, errlen);
}

void gs_session_grpc_begin(gs_session *s)
{
	if (!s->grpc && !s->grpc_pending) {
		s->grpc_pending = gs_grpc_begin(s->rt);
		gs_phases_mark(&s->phases, "grpc-begin");
	}
}

gs_grpc *gs_session_grpc(gs_session *s, gs_err *err)
{
	if (!s->grpc) {
		gs_session_grpc_begin(s);
		s->grpc = gs_grpc_finish(s->grpc_pending, err);
		s->grpc_pending = NULL;
		gs_phases_mark(&s->phases, "grpc");
	}
	return s->grpc;
}

gs_grpc *gs_session_grpc_linked(gs_session *s, gs_err *err)
{
	gs_grpc *g = gs_session_grpc(s, err);
	if (g)
		gs_grpc_link(g);
	return g;
}

gs_grpc *gs_session_grpc_for_verdicts(gs_session *s, gs_err *err)
{
	gs_session_grpc_begin(s);
	gs_rt_prepare(s->rt, NULL, GS_PREP_FULL);
	gs_phases_mark(&s->phases, "unwind");
	gs_rt_waits_job *w = gs_rt_waits_start(s->rt, NULL);
	gs_grpc *g = gs_session_grpc(s, err);
	gs_rt_waits_join(w);
	gs_phases_mark(&s->phases, "waits");
	if (g)
		gs_grpc_link(g);
	gs_phases_mark(&s->phases, "link");
	return g;
}

void gs_session_models_built(gs_session *s)
{
	if (!s)
		return;
	gs_target_release_cache(s->target);
	gs_phases_mark(&s->phases, "contexts");
}

void gs_resume(gs_session *s)
{
	if (s && s->target)
		gs_target_resume(s->target);
}

void gs_close(gs_session *s)
{
	if (!s)
		return;
	gs_grpc_close(s->grpc);
	gs_grpc_close(s->grpc_pending);
	gs_rt_close(s->rt);
	if (s->borrowed) { /* the donor's: it closes them */
		s->dwarf = NULL;
		s->typedesc = NULL;
		s->pclntab = NULL;
		s->binary = NULL;
		memset(&s->debuginfo, 0, sizeof s->debuginfo);
	}
	if (s->dwarf)
		gs_dwarf_close(s->dwarf);
	gs_typedesc_close(s->typedesc);
	gs_debuginfo_free(&s->debuginfo);
	if (s->pclntab)
		gs_pclntab_close(s->pclntab);
	if (s->binary)
		gs_binary_close(s->binary);
	if (s->target)
		gs_target_close(s->target); /* resumes a live process */
	free(s->exe_path);
	free(s->grpc_version);
	for (size_t i = 0; i < s->nextra_warnings; i++)
		free(s->extra_warnings[i]);
	free(s->extra_warnings);
	free(s);
}

char *gs_timing(gs_session *s)
{
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_phases_format(&s->phases, &sb);
	if (s->target && gs_target_kind(s->target) == GS_TARGET_LIVE && sb.len &&
	    sb.buf[sb.len - 1] == '\n') { /* the pause, and what was copied during it */
		sb.len--;
		uint64_t first, miss = gs_target_image_misses(s->target, &first);
		gs_strbuf_printf(&sb, ", paused %.1f ms (copied %.1f MiB; %llu reads outside it, "
				      "first at 0x%llx)\n", gs_target_pause_ns(s->target) / 1e6,
				 gs_target_image_bytes(s->target) / 1048576.0,
				 (unsigned long long)miss, (unsigned long long)first);
	}
	char *t = gs_strbuf_take(&sb);
	return t ? t : gs_msg_dup("out of memory");
}

const char *gs_open_warnings(gs_session *s)
{
	return s->debuginfo.warnings ? s->debuginfo.warnings : "";
}

/* What a message is when even it cannot be allocated: gs_free knows not to free it. */
static const char nomem_msg[] = "out of memory";

char *gs_msg_dup(const char *s)
{
	char *p = strdup(s);
	return p ? p : (char *)nomem_msg;
}

void gs_free(void *p)
{
	if (p != (const void *)nomem_msg)
		free(p);
}

const char *gs_version(void)
{
	return GS_VERSION;
}
