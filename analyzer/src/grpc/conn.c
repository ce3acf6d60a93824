/* The connection under a transport: its addresses, and the socket (fd, pollDesc) or
 * in-memory pipe behind whatever wraps it.
 *
 * Addresses come first from the transport's own cached net.Addr fields (remoteAddr/localAddr,
 * or peer.Addr/LocalAddr of 1.64+ servers): they are what the wrapped conn reported when the
 * transport was made, the same objects as the socket's for TCP and unix sockets. The conn
 * itself is then followed to its leaf by one generic rule: descend through the first member
 * of interface type net.Conn (TLS, grpc's credentials syscallConn, ALTS, proxies' bufConn,
 * cmux and other muxers all embed or keep one), with the dynamic type of each level read
 * from the runtime's type descriptors, so that wrappers grpcscope has never seen are crossed
 * too. Where no net.Conn member leads on, the type that sits there is named.
 */
#include <stdio.h>
#include <string.h>

#include "../binary/typedesc.h"
#include "../util/strbuf.h"
#include "grpc_internal.h"

#define MAX_WRAPPERS 8 /* a wrapper chain deeper than this is a cycle or garbage */

/* "*crypto/tls.Conn" -> "*tls.Conn": the package's last path element, as Go prints it. */
static void short_name(const char *full, char *buf, size_t cap)
{
	const char *end = strchr(full, '[');
	const char *cut = full, *p;
	for (p = full; *p && (!end || p < end); p++)
		if (*p == '/')
			cut = p + 1;
	snprintf(buf, cap, "%s%s", full[0] == '*' && cut != full ? "*" : "", cut);
}

/* The gs_dtype of a dynamic type (descriptor at a run-time address), or NULL. */
static const gs_dtype *dyn_type(gs_grpc *g, uint64_t type_addr)
{
	struct gs_typedesc *td = gs_dwarf_descriptors(g->d);
	if (!td || !type_addr)
		return NULL;
	return gs_typedesc_type_at(td, type_addr - gs_rt_bias(g->rt));
}

/* The full name of a dynamic type: from its descriptor's gs_dtype, else the runtime's
 * own (package-short) name. */
static void type_name(gs_grpc *g, uint64_t type_addr, char *buf, size_t cap)
{
	const gs_dtype *t = dyn_type(g, type_addr);
	if (t && t->name)
		snprintf(buf, cap, "%s", t->name);
	else if (gs_type_name(g->ty, type_addr, buf, cap, NULL) < 0)
		snprintf(buf, cap, "type@0x%llx", (unsigned long long)type_addr);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void format_ip(const uint8_t *b, size_t n, uint64_t port, char *buf, size_t cap)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (n == 4 || (n == 16 && memcmp(b, v4mapped, 12) == 0)) {
		const uint8_t *p = n == 4 ? b : b + 12;
		snprintf(buf, cap, "%u.%u.%u.%u:%llu", p[0], p[1], p[2], p[3],
			 (unsigned long long)port);
	} else if (n == 16) {
		gs_strbuf sb;
		gs_strbuf_init(&sb);
		gs_strbuf_putc(&sb, '[');
		for (int i = 0; i < 16; i += 2)
			gs_strbuf_printf(&sb, "%s%x", i ? ":" : "", (unsigned)(b[i] << 8 | b[i + 1]));
		gs_strbuf_printf(&sb, "]:%llu", (unsigned long long)port);
		snprintf(buf, cap, "%s", sb.buf);
		gs_strbuf_free(&sb);
	} else {
		snprintf(buf, cap, ":%llu", (unsigned long long)port);
	}
}

/* A net.Addr interface value as text: "127.0.0.1:50051", "unix:/run/x.sock", "unix:@name"
 * (abstract), "unix:(unnamed)", "pipe", "bufconn"; "?" when unknown. False when the value
 * is nil or its type is not one of those. */
bool gs_grpc_format_addr(gs_grpc *g, uint64_t iface_addr, char *buf, size_t cap)
{
	const int64_t *o = g->l.offsets;
	gs_iface ifc;
	snprintf(buf, cap, "?");
	if (!iface_addr || gs_iface_read(g->ty, iface_addr, false, &ifc, NULL) < 0 || !ifc.type)
		return false;
	if (gs_type_is(g->ty, ifc.type, "*net.TCPAddr")) {
		uint64_t ip[2] = {0}, port = 0;
		if (!ifc.data ||
		    gs_layout_read_words(&g->l, TCPADDR_IP, g->t, ifc.data, 0, 2, ip) < 0 ||
		    gs_layout_read(&g->l, TCPADDR_PORT, g->t, ifc.data, 0, &port) < 0)
			return false;
		uint8_t b[16] = {0};
		size_t n = ip[1] <= 16 ? ip[1] : 0;
		if (n && gs_target_read(g->t, ip[0], b, n, NULL) < 0)
			return false;
		format_ip(b, n, port, buf, cap);
		return true;
	}
	if (gs_type_is(g->ty, ifc.type, "*net.UnixAddr")) {
		char name[200];
		if (!ifc.data || o[UNIXADDR_NAME] < 0 ||
		    gs_rt_read_string(g->rt, ifc.data + (uint64_t)o[UNIXADDR_NAME], name, sizeof name,
				      NULL) < 0)
			return false;
		/* Go writes an abstract name's leading NUL as '@'; an unnamed socket is "@" or "". */
		snprintf(buf, cap, "unix:%s", name[0] && strcmp(name, "@") ? name : "(unnamed)");
		return true;
	}
	char tn[160];
	type_name(g, ifc.type, tn, sizeof tn);
	if (ends_with(tn, "bufconn.addr")) {
		snprintf(buf, cap, "bufconn");
		return true;
	}
	if (ends_with(tn, "net.pipeAddr")) {
		snprintf(buf, cap, "pipe");
		return true;
	}
	return false;
}

/* *net.TCPConn / *net.UnixConn: conn{fd *netFD}. */
static void read_netfd(gs_grpc *g, gs_transport *tr, uint64_t conn)
{
	const int64_t *o = g->l.offsets;
	uint64_t fd = 0;
	if (o[NETFD_PFD] < 0 || gs_layout_read(&g->l, CONN_FD, g->t, conn, 0, &fd) < 0 || !fd)
		return;
	char l[64], r[64];
	if (tr->local[0] == '?' && gs_grpc_format_addr(g, fd + (uint64_t)o[NETFD_LADDR], l, sizeof l))
		snprintf(tr->local, sizeof tr->local, "%s", l);
	if (tr->remote[0] == '?' && gs_grpc_format_addr(g, fd + (uint64_t)o[NETFD_RADDR], r, sizeof r))
		snprintf(tr->remote, sizeof tr->remote, "%s", r);
	uint64_t pfd = fd + (uint64_t)o[NETFD_PFD], sysfd = 0, rctx = 0;
	if (gs_layout_read(&g->l, FD_SYSFD, g->t, pfd, 0, &sysfd) == 0)
		tr->fd = (int64_t)sysfd;
	if (o[FD_PD] >= 0 && gs_layout_read(&g->l, PD_RUNTIMECTX, g->t, pfd, o[FD_PD], &rctx) == 0)
		tr->pollDesc = rctx;
}

/* Word `word` of member m of a type found at run time (a wrapper's struct), read only
 * when the member's own type (DWARF or descriptor) is of kind `want`: a pointer is one
 * word, an interface two (0 its type, 1 its data); another kind or width is refused (0). */
static uint64_t dyn_word(gs_grpc *g, const gs_dmember *m, enum gs_fkind want, uint64_t base,
			 unsigned word)
{
	uint8_t w = 0;
	enum gs_fkind k = m && m->type ? gs_fkind_of(m->type, &w) : GS_FK_OTHER;
	uint64_t v = 0;
	if (k != want || w != 8 || word >= (k == GS_FK_IFACE ? 2u : 1u))
		return 0;
	if (gs_target_read_u64(g->t, base + m->offset + 8 * word, &v, NULL) < 0)
		return 0;
	return v;
}

static uint64_t member_word(gs_grpc *g, const gs_dtype *st, uint64_t base, const char *name)
{
	return dyn_word(g, st ? gs_dwarf_member(st, name) : NULL, GS_FK_PTR, base, 0);
}

/* In-memory pipes: the objects data goes in and out through, so that the two ends pair
 * exactly (each end's in is the other's out). */
static bool read_pipe(gs_grpc *g, gs_transport *tr, const char *name, const gs_dtype *st,
		      uint64_t base)
{
	if (ends_with(name, "net.pipe")) { /* net.Pipe: p1.rdRx == p2.wrTx */
		tr->conn_kind = "pipe";
		tr->pipe_in = member_word(g, st, base, "rdRx");
		tr->pipe_out = member_word(g, st, base, "wrTx");
	} else if (ends_with(name, "bufconn.conn")) { /* conn{Reader: p1, Writer: p2} */
		tr->conn_kind = "bufconn";
		const gs_dmember *r = st ? gs_dwarf_member(st, "Reader") : NULL;
		const gs_dmember *w = st ? gs_dwarf_member(st, "Writer") : NULL;
		/* Reader and Writer are io.Reader / io.Writer: the data word is the *pipe. */
		if (r)
			tr->pipe_in = dyn_word(g, r, GS_FK_IFACE, base, 1);
		if (w)
			tr->pipe_out = dyn_word(g, w, GS_FK_IFACE, base, 1);
	} else {
		return false;
	}
	const char *what = tr->conn_kind;
	if (tr->local[0] == '?')
		snprintf(tr->local, sizeof tr->local, "%s", what);
	if (tr->remote[0] == '?')
		snprintf(tr->remote, sizeof tr->remote, "%s", what);
	return true;
}

static void add_via(gs_transport *tr, const char *full)
{
	char s[96];
	short_name(full, s, sizeof s);
	size_t n = strlen(tr->via);
	snprintf(tr->via + n, sizeof tr->via - n, "%s%s", n ? " > " : "", s);
}

/* Follows the net.Conn interface value at iface_addr down to a socket or pipe. */
static void follow_conn(gs_grpc *g, gs_transport *tr, uint64_t iface_addr)
{
	uint64_t seen[MAX_WRAPPERS];
	for (int depth = 0; depth < MAX_WRAPPERS; depth++) {
		gs_iface ifc;
		if (gs_iface_read(g->ty, iface_addr, false, &ifc, NULL) < 0 || !ifc.type)
			return; /* nil: no conn (closed transports keep theirs, so rare) */
		if (gs_type_is(g->ty, ifc.type, "*net.TCPConn") ||
		    gs_type_is(g->ty, ifc.type, "*net.UnixConn")) {
			tr->conn_kind = gs_type_is(g->ty, ifc.type, "*net.TCPConn") ? "tcp" : "unix";
			if (ifc.data)
				read_netfd(g, tr, ifc.data);
			return;
		}
		for (int k = 0; k < depth; k++)
			if (seen[k] == ifc.data)
				goto opaque; /* a wrapper that contains itself */
		seen[depth] = ifc.data;
		const gs_dtype *t = dyn_type(g, ifc.type);
		const gs_dtype *st = t ? gs_dwarf_resolve(t) : NULL;
		if (st && st->kind == GS_DK_POINTER)
			st = st->elem ? gs_dwarf_resolve(st->elem) : NULL;
		/* A struct value in an interface is boxed: the data word points to it, as for a
		 * pointer type. (A one-word struct would be direct, but holds no interface.) */
		if (!t || !st || st->kind != GS_DK_STRUCT || !ifc.data)
			goto opaque;
		if (read_pipe(g, tr, t->name, st, ifc.data))
			return;
		const gs_dmember *next = NULL;
		bool leaf_ptr = false;
		for (size_t i = 0; i < st->nmembers && !next; i++) {
			const gs_dtype *mt = st->members[i].type;
			const char *mn = mt ? mt->name : NULL;
			if (!mn)
				continue;
			if (strcmp(mn, "net.Conn") == 0)
				next = &st->members[i];
			else if (strcmp(mn, "*net.TCPConn") == 0 || strcmp(mn, "*net.UnixConn") == 0) {
				next = &st->members[i];
				leaf_ptr = true;
			}
		}
		if (!next)
			goto opaque;
		add_via(tr, t->name);
		if (leaf_ptr) { /* a wrapper embedding *net.TCPConn itself */
			tr->conn_kind = strstr(next->type->name, "TCP") ? "tcp" : "unix";
			uint64_t c = dyn_word(g, next, GS_FK_PTR, ifc.data, 0);
			if (c)
				read_netfd(g, tr, c);
			return;
		}
		iface_addr = ifc.data + next->offset;
		continue;
	opaque: {
		char full[160];
		type_name(g, ifc.type, full, sizeof full);
		short_name(full, tr->opaque, sizeof tr->opaque);
		return;
	}
	}
}

void gs_grpc_read_conn(gs_grpc *g, gs_transport *tr, uint64_t conn_iface, uint64_t local_iface,
		       uint64_t remote_iface)
{
	snprintf(tr->local, sizeof tr->local, "?");
	snprintf(tr->remote, sizeof tr->remote, "?");
	tr->fd = -1;
	tr->conn_kind = "";
	char buf[64];
	if (gs_grpc_format_addr(g, local_iface, buf, sizeof buf))
		snprintf(tr->local, sizeof tr->local, "%s", buf);
	if (gs_grpc_format_addr(g, remote_iface, buf, sizeof buf))
		snprintf(tr->remote, sizeof tr->remote, "%s", buf);
	follow_conn(g, tr, conn_iface);
}
