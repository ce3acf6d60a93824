#include "findings.h"

#include <stdlib.h>
#include <string.h>

#define CYCLES_SHOWN 8 /* per shape in the grouped text, before "and N more" */

static const char *const why_stuck =
	"each goroutine waits on the next; none moves until something outside the cycle "
	"breaks it (a deadline, a cancel, a closed connection)";

static const gs_stream *stream_of(const gs_grpc *g, const gs_verdict *v)
{
	return v->stream >= 0 ? gs_grpc_stream(g, (size_t)v->stream) : NULL;
}

static const char *side(const gs_stream *s)
{
	return s->side == GS_CLIENT ? "client" : "server";
}

void gs_report_cycle_line(const gs_diagnosis *dg, const gs_cycle *c, gs_strbuf *out)
{
	gs_strbuf_puts(out, "goroutines ");
	for (size_t i = 0; i < c->n; i++)
		gs_strbuf_printf(out, "%llu -> ", (unsigned long long)dg->v[c->members[i]].goid);
	gs_strbuf_printf(out, "%llu wait on each other", (unsigned long long)dg->v[c->members[0]].goid);
}

void gs_report_cycle_step(const gs_grpc *g, const gs_diagnosis *dg, size_t v, gs_strbuf *out)
{
	const gs_verdict *x = &dg->v[v];
	const gs_stream *s = stream_of(g, x);
	gs_strbuf_printf(out, "goroutine %llu (%s)", (unsigned long long)x->goid, x->code);
	if (s) {
		char e[1024];
		gs_strbuf_printf(out, " on %s stream %u %s (0x%llx)", side(s), s->id, GS_SAFE(s->method, e),
				 (unsigned long long)s->addr);
	}
}

static void steps_text(const gs_grpc *g, const gs_diagnosis *dg, const gs_cycle *c, gs_strbuf *out)
{
	for (size_t i = 0; i < c->n; i++) {
		gs_strbuf_puts(out, "    - ");
		gs_report_cycle_step(g, dg, c->members[i], out);
		gs_strbuf_putc(out, '\n');
	}
	if (c->nothers) {
		gs_strbuf_puts(out, "    - also caught in it:");
		for (size_t i = 0; i < c->nothers; i++)
			gs_strbuf_printf(out, "%s goroutine %llu", i ? "," : "",
					 (unsigned long long)dg->v[c->others[i]].goid);
		gs_strbuf_putc(out, '\n');
	}
}

/* Two cycles have one shape when their steps say the same in order: verdict, side, method.
 * Each key carries what its comparison needs (qsort passes no context). */
typedef struct skey {
	const gs_grpc *g;
	const gs_diagnosis *dg;
	const gs_cycle *c;
	size_t idx;
} skey;

static int shape_cmp(const skey *x, const skey *y)
{
	const gs_cycle *a = x->c, *b = y->c;
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (size_t i = 0; i < a->n; i++) {
		const gs_verdict *p = &x->dg->v[a->members[i]], *q = &y->dg->v[b->members[i]];
		const gs_stream *sp = stream_of(x->g, p), *sq = stream_of(y->g, q);
		/* codes are literals and methods interned: equal pointers are the common case */
		int c = p->code == q->code ? 0 : strcmp(p->code, q->code);
		if (c)
			return c;
		if (!sp != !sq)
			return sp ? -1 : 1;
		if (sp && sp->side != sq->side)
			return sp->side < sq->side ? -1 : 1;
		if (sp && sp->method != sq->method && (c = strcmp(sp->method, sq->method)))
			return c;
	}
	return 0;
}

static int cmp_skey(const void *a, const void *b)
{
	const skey *x = a, *y = b;
	int c = shape_cmp(x, y);
	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

typedef struct srun {
	size_t at, n; /* a run of one shape in the sorted keys */
} srun;

static int cmp_srun_first(const void *a, const void *b, const skey *k)
{
	size_t x = k[((const srun *)a)->at].idx, y = k[((const srun *)b)->at].idx;
	return (x > y) - (x < y);
}

static void shape_text(const gs_grpc *g, const gs_diagnosis *dg, const gs_cycle *c, gs_strbuf *out)
{
	char e[1024];
	for (size_t i = 0; i < c->n; i++) {
		const gs_verdict *x = &dg->v[c->members[i]];
		const gs_stream *s = stream_of(g, x);
		gs_strbuf_printf(out, "%s%s", i ? " -> " : "", x->code);
		if (s)
			gs_strbuf_printf(out, " (%s %s)", side(s), GS_SAFE(s->method, e));
	}
}

static void grouped(const gs_grpc *g, const gs_diagnosis *dg, const gs_cycles *cy, gs_strbuf *out)
{
	skey *k = malloc(cy->n * sizeof *k);
	srun *runs = malloc(cy->n * sizeof *runs);
	if (!k || !runs) { /* the answer fails whole */
		gs_strbuf_fail(out);
		free(k);
		free(runs);
		return;
	}
	for (size_t i = 0; i < cy->n; i++)
		k[i] = (skey){g, dg, &cy->c[i], i};
	qsort(k, cy->n, sizeof *k, cmp_skey);
	size_t nruns = 0;
	for (size_t i = 0; i < cy->n; i++) {
		if (i == 0 || shape_cmp(&k[i - 1], &k[i]) != 0)
			runs[nruns++] = (srun){i, 0};
		runs[nruns - 1].n++;
	}
	/* Shapes in the order of their first cycle (insertion sort: few shapes). */
	for (size_t i = 1; i < nruns; i++)
		for (size_t j = i; j > 0 && cmp_srun_first(&runs[j - 1], &runs[j], k) > 0; j--) {
			srun t = runs[j];
			runs[j] = runs[j - 1];
			runs[j - 1] = t;
		}
	for (size_t r = 0; r < nruns; r++) {
		const skey *m = k + runs[r].at;
		size_t ns = runs[r].n;
		const gs_cycle *c = &cy->c[m[0].idx];
		gs_strbuf_printf(out, "cycle %zu: ", r + 1);
		if (ns == 1) {
			gs_report_cycle_line(dg, c, out);
		} else {
			gs_strbuf_printf(out, "%zu alike, ", ns);
			shape_text(g, dg, c, out);
			gs_strbuf_puts(out, "\n  goroutines ");
			for (size_t i = 0; i < ns && i < CYCLES_SHOWN; i++) {
				const gs_cycle *x = &cy->c[m[i].idx];
				gs_strbuf_puts(out, i ? ", " : "");
				for (size_t s = 0; s < x->n; s++)
					gs_strbuf_printf(out, "%s%llu", s ? " -> " : "",
							 (unsigned long long)dg->v[x->members[s]].goid);
			}
			if (ns > CYCLES_SHOWN)
				gs_strbuf_printf(out, " and %zu more", ns - CYCLES_SHOWN);
			gs_strbuf_puts(out, "\n  the first: ");
			gs_report_cycle_line(dg, c, out);
		}
		gs_strbuf_putc(out, '\n');
		steps_text(g, dg, c, out);
	}
	free(k);
	free(runs);
}

void gs_report_cycles_text(const gs_grpc *g, const gs_diagnosis *dg, const gs_cycles *cy,
			   bool all, gs_strbuf *out)
{
	if (!cy->n)
		return;
	gs_strbuf_printf(out, "%zu cycle%s in the wait-for graph: %s\n", cy->n, cy->n == 1 ? "" : "s",
			 why_stuck);
	if (all) {
		for (size_t i = 0; i < cy->n; i++) {
			gs_strbuf_printf(out, "cycle %zu: ", i + 1);
			gs_report_cycle_line(dg, &cy->c[i], out);
			gs_strbuf_putc(out, '\n');
			steps_text(g, dg, &cy->c[i], out);
		}
	} else {
		grouped(g, dg, cy, out);
	}
}

void gs_report_stream_json(const gs_grpc *g, const gs_stream *s, gs_strbuf *out)
{
	if (!s) {
		gs_strbuf_puts(out, "null");
		return;
	}
	gs_strbuf_printf(out, "{\"transport\":\"0x%llx\",\"id\":%u,\"method\":",
			 (unsigned long long)gs_grpc_transport(g, s->transport)->addr, s->id);
	gs_strbuf_json_str(out, s->method);
	gs_strbuf_printf(out, ",\"side\":\"%s\",\"address\":\"0x%llx\"}", side(s),
			 (unsigned long long)s->addr);
}

void gs_report_cycles_json(const gs_grpc *g, const gs_diagnosis *dg, const gs_cycles *cy,
			   bool more, gs_strbuf *out)
{
	gs_strbuf line;
	gs_strbuf_init(&line);
	for (size_t i = 0; i < cy->n; i++) {
		const gs_cycle *c = &cy->c[i];
		line.len = 0;
		gs_report_cycle_line(dg, c, &line);
		gs_strbuf_printf(&line, ": %s", why_stuck);
		gs_strbuf_putc(&line, '\0');
		gs_strbuf_printf(out, "%s{\"finding\":\"cycle\",\"summary\":", i || more ? "," : "");
		gs_strbuf_json_str(out, line.buf);
		gs_strbuf_puts(out, ",\"stream\":null,\"evidence\":[");
		for (size_t k = 0; k < c->n; k++) {
			line.len = 0;
			gs_report_cycle_step(g, dg, c->members[k], &line);
			gs_strbuf_putc(&line, '\0');
			gs_strbuf_puts(out, k ? "," : "");
			gs_strbuf_json_str(out, line.buf);
		}
		gs_strbuf_puts(out, "],\"goroutines\":[");
		for (size_t k = 0; k < c->n; k++)
			gs_strbuf_printf(out, "%s%llu", k ? "," : "",
					 (unsigned long long)dg->v[c->members[k]].goid);
		gs_strbuf_puts(out, "],\"steps\":[");
		for (size_t k = 0; k < c->n; k++) {
			const gs_verdict *v = &dg->v[c->members[k]];
			gs_strbuf_printf(out, "%s{\"goroutine\":%llu,\"verdict\":\"%s\",\"stream\":",
					 k ? "," : "", (unsigned long long)v->goid, v->code);
			gs_report_stream_json(g, stream_of(g, v), out);
			gs_strbuf_putc(out, '}');
		}
		gs_strbuf_puts(out, "],\"methods\":[");
		size_t nm = 0;
		for (size_t k = 0; k < c->n; k++) {
			const gs_stream *s = stream_of(g, &dg->v[c->members[k]]);
			bool seen = !s;
			for (size_t j = 0; j < k && !seen; j++) {
				const gs_stream *t = stream_of(g, &dg->v[c->members[j]]);
				seen = t && strcmp(t->method, s->method) == 0;
			}
			if (seen)
				continue;
			gs_strbuf_puts(out, nm++ ? "," : "");
			gs_strbuf_json_str(out, s->method);
		}
		gs_strbuf_puts(out, "],\"others\":[");
		for (size_t k = 0; k < c->nothers; k++)
			gs_strbuf_printf(out, "%s%llu", k ? "," : "",
					 (unsigned long long)dg->v[c->others[k]].goid);
		gs_strbuf_puts(out, "]}");
	}
	gs_strbuf_free(&line);
}
