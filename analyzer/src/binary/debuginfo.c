#include "debuginfo.h"

#include <ctype.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/debuginfod.h>
#include <zlib.h>

#include "../util/strbuf.h"

/* One search: what it looks for and what it has met so far. */
typedef struct search {
	gs_binary *exe;
	struct stat exe_st;
	bool have_exe_st;
	gs_debuginfo *out;
	gs_strbuf searched, warnings;
	bool nomem; /* a path could not be built: the search is incomplete */
} search;

static void add_searched(search *se, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_searched(search *se, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (se->searched.len)
		gs_strbuf_puts(&se->searched, ", ");
	gs_strbuf_puts(&se->searched, buf);
}

static void warn(search *se, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(search *se, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	gs_strbuf_puts(&se->warnings, buf);
	gs_strbuf_putc(&se->warnings, '\n');
}

bool gs_debuginfo_has_dwarf(const gs_binary *b)
{
	static const char *const names[] = {".debug_info", ".zdebug_info"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const gs_section *s = gs_binary_section(b, names[i]);
		if (s && s->type != SHT_NOBITS && s->size > 0)
			return true;
	}
	return false;
}

/* dir + "/" + rest, without doubling the slash of a dir given as "DIR/". */
static char *join(const char *dir, const char *rest)
{
	if (!dir)
		return NULL;
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	while (*rest == '/')
		rest++;
	gs_strbuf sb;
	gs_strbuf_init(&sb);
	gs_strbuf_printf(&sb, "%.*s/%s", (int)n, dir, rest);
	return gs_strbuf_take(&sb);
}

char *gs_debuginfo_build_id_path(const char *dir, const char *hex)
{
	size_t n = strlen(hex);
	if (n < 3)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)hex[i]))
			return NULL;
	char rest[600];
	if (snprintf(rest, sizeof rest, ".build-id/%.2s/%s.debug", hex, hex + 2) >= (int)sizeof rest)
		return NULL;
	return join(dir, rest);
}

/* The section: the file name, NUL, padding to 4 bytes, then the CRC32 (file byte order,
 * little-endian: the only kind gs_binary opens). */
int gs_debuginfo_link(gs_binary *b, const char **name, uint32_t *crc)
{
	const gs_section *s = gs_binary_section(b, ".gnu_debuglink");
	const uint8_t *p = s ? gs_binary_section_data(b, s, NULL) : NULL;
	if (!p)
		return -1;
	size_t len = strnlen((const char *)p, s->size);
	size_t off = (len + 4) & ~(size_t)3;
	if (len == 0 || len == s->size || off > s->size || s->size - off < 4 ||
	    memchr(p, '/', len))
		return -1;
	memcpy(crc, p + off, 4);
	*name = (const char *)p;
	return 0;
}

int gs_debuginfo_file_crc(const char *path, uint32_t *crc)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	enum { CHUNK = 1 << 20 };
	unsigned char *buf = malloc(CHUNK);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	uLong c = crc32(0L, Z_NULL, 0);
	int rc = 0;
	for (;;) {
		ssize_t k = read(fd, buf, CHUNK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			rc = -1;
		if (k <= 0)
			break;
		c = crc32(c, buf, (uInt)k);
	}
	int saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	*crc = (uint32_t)c;
	return rc;
}

/* False, with the reason, when dbg cannot come from the link that made exe: another build
 * id, or its sections at other addresses (a relink moves them). */
static bool same_link(gs_binary *exe, gs_binary *dbg, char *why, size_t n)
{
	const char *a = gs_binary_gnu_build_id(exe), *b = gs_binary_gnu_build_id(dbg);
	if (a && b && strcmp(a, b) != 0) {
		snprintf(why, n, "its GNU build id is %s, the executable's %s", b, a);
		return false;
	}
	a = gs_binary_go_build_id(exe), b = gs_binary_go_build_id(dbg);
	if (a && b && strcmp(a, b) != 0) {
		snprintf(why, n, "its Go build id is %s, the executable's %s", b, a);
		return false;
	}
	for (size_t i = 0; i < gs_binary_nsections(exe); i++) {
		const gs_section *s = gs_binary_section_at(exe, i);
		if (!(s->flags & SHF_ALLOC) || !*s->name)
			continue;
		const gs_section *t = gs_binary_section(dbg, s->name);
		if (t && (t->addr != s->addr || t->size != s->size)) {
			snprintf(why, n, "its section %s is at 0x%llx (%llu bytes), the executable's "
					 "at 0x%llx (%llu bytes)",
				 s->name, (unsigned long long)t->addr, (unsigned long long)t->size,
				 (unsigned long long)s->addr, (unsigned long long)s->size);
			return false;
		}
	}
	return true;
}

static bool crc_matches(const char *path, uint32_t want, char *why, size_t n)
{
	uint32_t c;
	if (gs_debuginfo_file_crc(path, &c) < 0) {
		snprintf(why, n, "cannot read it: %s", strerror(errno));
		return false;
	}
	if (c != want) {
		snprintf(why, n, "its CRC32 is %08x, the .gnu_debuglink's %08x", c, want);
		return false;
	}
	return true;
}

/* A message from gs_binary_open without the "PATH: " it starts with. */
static const char *without_path(const char *msg, const char *path)
{
	size_t n = strlen(path);
	return strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ' ? msg + n + 2 : msg;
}

static void take(search *se, gs_binary *b, const char *found_by)
{
	se->out->source = GS_DEBUG_SEPARATE;
	se->out->file = b;
	se->out->found_by = found_by;
}

/* One candidate of the search; true when taken. A file that is not there is only noted as
 * searched; one that is there but cannot serve is a warning. crc: the debuglink's, or
 * NULL. */
static bool try_candidate(search *se, const char *path, const char *found_by,
			  const uint32_t *crc)
{
	struct stat st;
	if (!path) {
		se->nomem = true;
		return false;
	}
	if (stat(path, &st) != 0) {
		add_searched(se, "%s", path);
		return false;
	}
	if (se->have_exe_st && st.st_dev == se->exe_st.st_dev && st.st_ino == se->exe_st.st_ino)
		return false; /* the debuglink names the executable itself */
	const char *exe = gs_binary_path(se->exe);
	if (!S_ISREG(st.st_mode)) {
		warn(se, "%s: not used as debug file of %s: not a regular file", path, exe);
		return false;
	}
	char why[1024];
	gs_err e = {0};
	gs_binary *b = gs_binary_open(path, &e);
	if (!b) {
		warn(se, "%s: not used as debug file of %s: %s", path, exe, without_path(e.msg, path));
		return false;
	}
	if (!gs_debuginfo_has_dwarf(b))
		snprintf(why, sizeof why, "it has no .debug_info");
	else if ((!crc || crc_matches(path, *crc, why, sizeof why)) &&
		 same_link(se->exe, b, why, sizeof why)) {
		take(se, b, found_by);
		return true;
	}
	warn(se, "%s: not used as debug file of %s: %s", path, exe, why);
	gs_binary_close(b);
	return false;
}

/* --debug-file: used or refused, never searched past. */
static int use_explicit(search *se, const char *path, bool force, gs_err *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return gs_errf(err, GS_EINPUT, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return gs_errf(err, GS_EINPUT, "%s: not a regular file", path);
	gs_binary *b = gs_binary_open(path, err);
	if (!b)
		return -1;
	const char *exe = gs_binary_path(se->exe);
	if (!gs_debuginfo_has_dwarf(b)) {
		gs_binary_close(b);
		return gs_errf(err, GS_EINPUT, "%s: no DWARF (.debug_info) in this debug file", path);
	}
	char why[1024];
	if (!same_link(se->exe, b, why, sizeof why)) {
		if (!force) {
			gs_binary_close(b);
			return gs_errf(err, GS_EINPUT,
				       "%s: not the debug file of %s: %s (--force uses it anyway)",
				       path, exe, why);
		}
		warn(se, "%s: used as debug file of %s although it does not match (--force): %s",
		     path, exe, why);
	}
	take(se, b, "--debug-file");
	return 0;
}

/* libdebuginfod drags in libcurl, GnuTLS and Kerberos, whose loading and initialisation
 * cost about 28 ms at every start, over a tenth of a `goroutines` run. So it is loaded only
 * when a server is to be asked (as elfutils' libdwfl does), and never unloaded: GnuTLS does
 * not expect to be. */
typedef struct debuginfod_api {
	__typeof__(debuginfod_begin) *begin;
	__typeof__(debuginfod_find_debuginfo) *find_debuginfo;
	__typeof__(debuginfod_end) *end;
} debuginfod_api;

static const char *load_debuginfod(debuginfod_api *api)
{
	void *h = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return dlerror();
	api->begin = (__typeof__(api->begin))dlsym(h, "debuginfod_begin");
	api->find_debuginfo = (__typeof__(api->find_debuginfo))dlsym(h, "debuginfod_find_debuginfo");
	api->end = (__typeof__(api->end))dlsym(h, "debuginfod_end");
	if (!api->begin || !api->find_debuginfo || !api->end)
		return "libdebuginfod.so.1 lacks debuginfod_begin/find_debuginfo/end";
	return NULL;
}

/* debuginfod, by GNU build id, when DEBUGINFOD_URLS names a server. */
static bool try_debuginfod(search *se)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	if (!urls || !urls[strspn(urls, " \t")])
		return false;
	const char *id = gs_binary_gnu_build_id(se->exe);
	if (!id) {
		add_searched(se, "debuginfod (no GNU build id to ask for)");
		return false;
	}
	debuginfod_api api = {0};
	const char *why = load_debuginfod(&api);
	if (why) {
		warn(se, "debuginfod not asked (DEBUGINFOD_URLS is set): %s", why);
		return false;
	}
	debuginfod_client *c = api.begin();
	if (!c) {
		warn(se, "debuginfod: cannot start a client");
		return false;
	}
	char *path = NULL;
	int fd = api.find_debuginfo(c, (const unsigned char *)id, 0, &path);
	api.end(c);
	bool found = false;
	if (fd < 0)
		add_searched(se, "debuginfod %s (%s)", urls, strerror(-fd));
	else {
		close(fd);
		found = path && try_candidate(se, path, "debuginfod", NULL);
	}
	free(path);
	return found;
}

/* gdb's order: build-id directories, the debuglink's three places, debuginfod. */
static void search_all(search *se, const char *dirs_opt)
{
	const char *dirs = dirs_opt ? dirs_opt : getenv(GS_DEBUG_DIR_ENV);
	if (!dirs || !*dirs)
		dirs = GS_DEBUG_DIR_DEFAULT;
	char *list = strdup(dirs), *save = NULL;
	const char **dir = calloc(strlen(dirs) / 2 + 2, sizeof *dir);
	size_t ndir = 0;
	if (!list || !dir) {
		se->nomem = true;
		goto done;
	}
	for (char *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save))
		dir[ndir++] = d;
	const char *id = gs_binary_gnu_build_id(se->exe);
	for (size_t i = 0; id && i < ndir; i++) {
		char *p = gs_debuginfo_build_id_path(dir[i], id);
		bool found = p && try_candidate(se, p, "build-id directory", NULL);
		free(p);
		if (found)
			goto done;
	}
	const char *link;
	uint32_t crc;
	if (gs_debuginfo_link(se->exe, &link, &crc) == 0) {
		const char *exe = gs_binary_path(se->exe);
		char *real = realpath(exe, NULL);
		char *exedir = strdup(real ? real : exe);
		if (!exedir) {
			free(real);
			se->nomem = true;
			goto done;
		}
		char *slash = strrchr(exedir, '/');
		if (slash)
			slash[slash == exedir] = '\0'; /* "/exe" -> "/" */
		else
			strcpy(exedir, ".");
		char *local = join(exedir, ".debug");
		char *cand[2] = {join(exedir, link), join(local, link)};
		bool found = try_candidate(se, cand[0], "debuglink", &crc) ||
			     try_candidate(se, cand[1], "debuglink", &crc);
		for (size_t i = 0; !found && i < ndir; i++) {
			char *sub = join(dir[i], exedir), *p = join(sub, link);
			found = try_candidate(se, p, "debuglink", &crc);
			free(sub);
			free(p);
		}
		free(cand[0]);
		free(cand[1]);
		free(local);
		free(exedir);
		free(real);
		if (found)
			goto done;
	} else if (gs_binary_section(se->exe, ".gnu_debuglink")) {
		warn(se, "%s: malformed .gnu_debuglink, not followed", gs_binary_path(se->exe));
	}
	try_debuginfod(se);
done:
	free(dir);
	free(list);
}

static char *take_or_null(gs_strbuf *sb)
{
	if (sb->len)
		return gs_strbuf_take(sb);
	gs_strbuf_free(sb);
	return NULL;
}

int gs_debuginfo_find(gs_binary *exe, const gs_debuginfo_opts *opts, gs_debuginfo *out,
		      gs_err *err)
{
	memset(out, 0, sizeof *out);
	search se = {.exe = exe, .out = out};
	gs_strbuf_init(&se.searched);
	gs_strbuf_init(&se.warnings);
	se.have_exe_st = stat(gs_binary_path(exe), &se.exe_st) == 0;
	int rc = 0;
	if (opts->file)
		rc = use_explicit(&se, opts->file, opts->force, err);
	else if (gs_debuginfo_has_dwarf(exe))
		out->source = GS_DEBUG_EXECUTABLE;
	else
		search_all(&se, opts->dirs);
	se.nomem |= gs_strbuf_failed(&se.searched) || gs_strbuf_failed(&se.warnings);
	out->searched = take_or_null(&se.searched);
	out->warnings = take_or_null(&se.warnings);
	if (se.nomem && rc == 0) {
		gs_debuginfo_free(out);
		return gs_errf(err, GS_EINTERNAL, "%s: looking for debug info: out of memory",
			       gs_binary_path(exe));
	}
	return rc;
}

void gs_debuginfo_free(gs_debuginfo *d)
{
	if (!d)
		return;
	if (d->file)
		gs_binary_close(d->file);
	free(d->searched);
	free(d->warnings);
	memset(d, 0, sizeof *d);
}
