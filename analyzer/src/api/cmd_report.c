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

static int fail(char **errmsg, int code, const char *fmt, const char *arg, const char *arg2)
{
	char buf[1024];
	snprintf(buf, sizeof buf, fmt, arg, arg2);
	*errmsg = gs_xstrdup(buf);
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

/* Written whole or not at all: to FILE.tmp, then renamed. */
static int write_file(const char *path, const gs_strbuf *sb, char **errmsg)
{
	size_t n = strlen(path) + 8;
	char *tmp = gs_xmalloc(n);
	snprintf(tmp, n, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	int rc = 0;
	if (!f) {
		rc = fail(errmsg, 2, "%s: %s", path, strerror(errno));
	} else {
		bool ok = fwrite(sb->buf, 1, sb->len, f) == sb->len;
		ok = (fclose(f) == 0) && ok;
		if (!ok || rename(tmp, path) != 0) {
			rc = fail(errmsg, 2, "%s: %s", path, strerror(errno ? errno : EIO));
			unlink(tmp);
		}
	}
	free(tmp);
	return rc;
}

int gs_cmd_report(gs_session *s, const gs_cmdline *cl, gs_strbuf *out, char **errmsg)
{
	const gs_item *o = gs_cmdline_get(cl, "-o"), *peer = gs_cmdline_get(cl, "--peer");
	const char *file = o ? o->v1 : NULL;
	gs_open_options po = {0};
	if (gs_cmdline_count(cl, "--peer") > 1)
		return fail(errmsg, 2, "report: --peer %s: following chains into more than one "
			    "other snapshot is not supported yet%s", peer->v1, "");
	if (peer) { /* --peer CORE or --peer EXE CORE */
		po.exe = peer->v2 ? peer->v1 : NULL;
		po.core = peer->v2 ? peer->v2 : peer->v1;
	}
	if (!s)
		return 0; /* gs_command_check: the arguments only */
	gs_err e = {0};
	gs_grpc *g = gs_session_grpc_for_verdicts(s, &e);
	if (!g)
		return fail(errmsg, 1, "%s%s", e.msg, "");
	gs_session *ps = NULL;
	gs_grpc *pg = NULL;
	if (po.core) {
		char msg[1024];
		int st;
		po.progress = s->progress;
		po.progress_ctx = s->progress_ctx;
		ps = gs_open(&po, &st, msg, sizeof msg);
		if (ps)
			pg = gs_session_grpc_linked(ps, &e);
		if (!ps || !pg) {
			int rc = fail(errmsg, ps ? 1 : st, "%s%s", ps ? e.msg : msg, "");
			gs_close(ps);
			return rc;
		}
	}
	gs_session_models_built(s);
	gs_session_models_built(ps);
	gs_diagnosis dg, pdg;
	if (gs_diagnose_pair(s->rt, g, ps ? ps->rt : NULL, pg, NULL, 0, &dg, &pdg, &e) < 0) {
		gs_close(ps);
		return fail(errmsg, e.code == GS_EINPUT ? 2 : 1, "%s%s", e.msg, "");
	}
	gs_vgroups gr, pgr = {0};
	gs_group_verdicts(s->rt, g, &dg, &gr);
	if (ps)
		gs_group_verdicts(ps->rt, pg, &pdg, &pgr);
	char when[128];
	taken(s, when, sizeof when);
	gs_info info;
	char types[96];
	gs_session_info(s, &info, types, sizeof types);
	gs_html_input in = {&info, when, s->rt, g, &dg, &gr,
			    ps ? po.core : NULL, ps ? &pdg : NULL, ps ? &pgr : NULL,
			    ps ? ps->rt : NULL};
	int rc = 0;
	if (file) {
		gs_strbuf page;
		gs_strbuf_init(&page);
		gs_report_html(&in, &page);
		rc = write_file(file, &page, errmsg);
		gs_strbuf_free(&page);
	} else {
		gs_report_html(&in, out);
	}
	gs_vgroups_free(&gr);
	gs_diagnosis_free(&dg);
	if (ps) {
		gs_vgroups_free(&pgr);
		gs_diagnosis_free(&pdg);
		gs_close(ps);
	}
	return rc;
}
