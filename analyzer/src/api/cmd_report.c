#include "cmd_report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../diagnose/groups.h"
#include "../report/html.h"
#include "../util/alloc.h"
#include "peers.h"

static int fail(char **errmsg, int code, const char *fmt, const char *arg, const char *arg2)
{
	char buf[1024];
	snprintf(buf, sizeof buf, fmt, arg, arg2);
	*errmsg = gs_msg_dup(buf);
	return code;
}

/* When the snapshot was taken: the core file's modification time (gcore and the kernel
 * write it as the process is dumped); for a live process, now. */
static void taken(gs_session *s, char *buf, size_t cap)
{
	struct stat st;
	time_t t;
	const char *how;
	if (gs_target_kind(s->target) == GS_TARGET_CORE && stat(gs_target_name(s->target), &st) == 0) {
		t = st.st_mtime;
		how = "the core file's modification time";
	} else {
		t = time(NULL);
		how = "read from the live process now";
	}
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(buf + n, cap - n, " (%s)", how);
}

typedef struct file_sink {
	FILE *f;
	int err; /* the first write's errno (EIO when it set none), 0 while all went well */
} file_sink;

static void to_file(void *ctx, const char *p, size_t n)
{
	file_sink *fs = ctx;
	errno = 0;
	if (!fs->err && fwrite(p, 1, n, fs->f) != n)
		fs->err = errno ? errno : EIO;
}

/* Written whole or not at all: to FILE.tmp, then renamed. The page goes out a MiB at a time
 * as it is rendered (a 50,000-stream page is 13 MB: held whole, it set the peak RSS). */
static int write_file(const char *path, const gs_html_input *in, bool short_of, char **errmsg)
{
	size_t n = strlen(path) + 8;
	char *tmp = short_of ? NULL : malloc(n); /* a page short of memory: none */
	if (!tmp)
		return fail(errmsg, 1, "%s%s", "out of memory", "");
	snprintf(tmp, n, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	int rc = 0;
	if (!f) {
		rc = fail(errmsg, 2, "%s: %s", path, strerror(errno));
	} else {
		file_sink fs = {f, 0};
		gs_strbuf page;
		gs_strbuf_init(&page);
		page.sink = to_file;
		page.sink_ctx = &fs;
		gs_report_html(in, &page);
		gs_strbuf_flush(&page);
		bool nomem = gs_strbuf_failed(&page);
		gs_strbuf_free(&page);
		int err = fs.err;
		errno = 0;
		if (fclose(f) != 0 && !err)
			err = errno ? errno : EIO;
		errno = 0;
		if (!err && !nomem && rename(tmp, path) != 0)
			err = errno ? errno : EIO;
		if (err || nomem) {
			rc = nomem ? fail(errmsg, 1, "%s%s", "out of memory", "")
				   : fail(errmsg, 2, "%s: %s", path, strerror(err));
			unlink(tmp);
		}
	}
	free(tmp);
	return rc;
}

int gs_cmd_report(gs_session *s, const gs_cmdline *cl, gs_strbuf *out, char **errmsg)
{
	const gs_item *o = gs_cmdline_get(cl, "-o");
	const char *file = o ? o->v1 : NULL;
	gs_peers ps;
	int rc = gs_peers_open(NULL, cl, &ps, errmsg); /* the line first: bad input opens nothing */
	if (rc || !s)
		return rc;
	gs_err e = {0};
	gs_grpc *g = gs_session_grpc_for_verdicts(s, &e);
	if (!g)
		return fail(errmsg, 1, "%s%s", e.msg, "");
	/* the page cache goes before the peers open (each theirs once built, peers.c): judging
	 * reads no memory */
	gs_session_models_built(s);
	if ((rc = gs_peers_open(s, cl, &ps, errmsg)) != 0)
		return rc;
	if (ps.n) /* their opening is no verdict time */
		gs_phases_mark(&s->phases, "peers");
	size_t n = ps.n + 1;
	gs_rt **rts = gs_calloc(n, sizeof *rts, NULL);
	gs_grpc **gs = gs_calloc(n, sizeof *gs, NULL);
	gs_diagnosis *dg = gs_calloc(n, sizeof *dg, NULL);
	gs_vgroups *gr = gs_calloc(n, sizeof *gr, NULL);
	const char **names = gs_calloc(n, sizeof *names, NULL);
	if (!rts || !gs || !dg || !gr || !names) {
		rc = fail(errmsg, 1, "%s%s", "out of memory", "");
		goto done;
	}
	rts[0] = s->rt;
	gs[0] = g;
	for (size_t i = 1; i < n; i++) {
		rts[i] = ps.p[i - 1].s->rt;
		gs[i] = ps.p[i - 1].g;
		names[i - 1] = ps.p[i - 1].core;
	}
	if (gs_diagnose_set(rts, gs, n, NULL, 0, dg, &e) < 0) {
		rc = fail(errmsg, e.code == GS_EINPUT ? 2 : 1, "%s%s", e.msg, "");
		goto done;
	}
	bool short_of = false;
	for (size_t i = 0; i < n; i++)
		short_of |= gs_group_verdicts(rts[i], gs[i], &dg[i], &gr[i]) < 0;
	if (short_of)
		gs_strbuf_fail(out); /* the command says "out of memory" */
	char when[128];
	taken(s, when, sizeof when);
	gs_info info;
	char types[96];
	gs_session_info(s, &info, types, sizeof types);
	gs_html_input in = {&info, when, s->rt, g, &dg[0], &gr[0], ps.n, names, rts + 1,
			    (const gs_grpc *const *)(gs + 1), dg + 1, gr + 1};
	if (file) {
		rc = write_file(file, &in, short_of, errmsg);
	} else {
		gs_report_html(&in, out);
	}
	for (size_t i = 0; i < n; i++) {
		gs_vgroups_free(&gr[i]);
		gs_diagnosis_free(&dg[i]);
	}
done:
	free(rts);
	free(gs);
	free(dg);
	free(gr);
	free(names);
	gs_peers_close(&ps);
	return rc;
}
