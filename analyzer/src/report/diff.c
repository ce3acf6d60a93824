/* Rendering `diff`: streams and goroutines of one process at two moments. */
#include "diff.h"

#include <stdio.h>
#include <string.h>

static const char *side_name(enum gs_side s)
{
	return s == GS_CLIENT ? "client" : "server";
}

static void json_stream_state(gs_grpc *g, const gs_stream *s, gs_strbuf *out)
{
	gs_strbuf_printf(out, "{\"state\":%u,\"recv\":{\"queued_messages\":%llu,\"queued_bytes\":%u}",
			 s->state, (unsigned long long)s->queued_messages, s->in.pending_data);
	if (s->in.known)
		gs_strbuf_printf(out, ",\"inbound\":{\"limit\":%u,\"pending_data\":%u,"
				      "\"pending_update\":%u,\"delta\":%u}",
				 s->in.limit, s->in.pending_data, s->in.pending_update, s->in.delta);
	if (s->wq_known)
		gs_strbuf_printf(out, ",\"write_quota\":%d", s->wq_quota);
	if (s->out.known)
		gs_strbuf_printf(out, ",\"outbound\":{\"bytes_outstanding\":%lld,\"queued_items\":%llu}",
				 (long long)s->out.bytes_outstanding,
				 (unsigned long long)s->out.queued_items);
	gs_strbuf_puts(out, ",\"goroutines\":[");
	for (size_t i = 0; i < s->ngoroutines; i++)
		gs_strbuf_printf(out, "%s%llu", i ? "," : "", (unsigned long long)s->goroutines[i]);
	gs_strbuf_puts(out, "]}");
	(void)g;
}

static const gs_stream *pick(gs_grpc *g1, gs_grpc *g2, const gs_stream_diff *sd, gs_grpc **g)
{
	*g = sd->before >= 0 ? g1 : g2;
	return gs_grpc_stream(*g, (size_t)(sd->before >= 0 ? sd->before : sd->after));
}

static void count(const gs_diff *d, size_t *n, size_t ng[6])
{
	memset(n, 0, 6 * sizeof *n);
	memset(ng, 0, 6 * sizeof *ng);
	for (size_t i = 0; i < d->nstreams; i++)
		n[d->streams[i].change]++;
	for (size_t i = 0; i < d->ngoroutines; i++)
		ng[d->goroutines[i].change]++;
}

void gs_report_diff(gs_rt *r1, gs_grpc *g1, gs_rt *r2, gs_grpc *g2, const gs_diff *d,
		    bool json, gs_strbuf *out)
{
	size_t n[6], ng[6];
	count(d, n, ng);
	if (json) {
		gs_strbuf_puts(out, "{\"schema\":\"grpcscope/1\",\"command\":\"diff\",\"earlier\":");
		gs_strbuf_json_str(out, gs_target_name(gs_rt_target(r1)));
		gs_strbuf_puts(out, ",\"later\":");
		gs_strbuf_json_str(out, gs_target_name(gs_rt_target(r2)));
		gs_strbuf_puts(out, ",\"streams\":[");
		for (size_t i = 0; i < d->nstreams; i++) {
			const gs_stream_diff *sd = &d->streams[i];
			gs_grpc *g;
			const gs_stream *s = pick(g1, g2, sd, &g);
			const gs_transport *t = gs_grpc_transport(g, s->transport);
			gs_strbuf_printf(out, "%s{\"side\":\"%s\",\"transport\":\"0x%llx\",\"id\":%u,"
					      "\"method\":", i ? "," : "", side_name(s->side),
					 (unsigned long long)t->addr, s->id);
			gs_strbuf_json_str(out, s->method);
			gs_strbuf_printf(out, ",\"change\":\"%s\",\"moved\":", gs_change_name(sd->change));
			gs_strbuf_json_str(out, sd->moved);
			gs_strbuf_puts(out, ",\"before\":");
			if (sd->before >= 0)
				json_stream_state(g1, gs_grpc_stream(g1, (size_t)sd->before), out);
			else
				gs_strbuf_puts(out, "null");
			gs_strbuf_puts(out, ",\"after\":");
			if (sd->after >= 0)
				json_stream_state(g2, gs_grpc_stream(g2, (size_t)sd->after), out);
			else
				gs_strbuf_puts(out, "null");
			gs_strbuf_putc(out, '}');
		}
		gs_strbuf_puts(out, "],\"goroutines\":[");
		for (size_t i = 0; i < d->ngoroutines; i++) {
			const gs_goroutine_diff *gd = &d->goroutines[i];
			gs_strbuf_printf(out, "%s{\"id\":%llu,\"change\":\"%s\",\"wait_minutes\":[",
					 i ? "," : "", (unsigned long long)gd->goid,
					 gs_change_name(gd->change));
			if (gd->before >= 0)
				gs_strbuf_printf(out, "%lld", (long long)gs_rt_wait_minutes(
					r1, gs_rt_goroutine(r1, (size_t)gd->before)));
			else
				gs_strbuf_puts(out, "null");
			if (gd->after >= 0)
				gs_strbuf_printf(out, ",%lld]}", (long long)gs_rt_wait_minutes(
					r2, gs_rt_goroutine(r2, (size_t)gd->after)));
			else
				gs_strbuf_puts(out, ",null]}");
		}
		gs_strbuf_printf(out, "],\"summary\":{\"stuck\":%zu,\"progressed\":%zu,\"new\":%zu,"
				      "\"gone\":%zu,\"parked\":%zu,\"moved\":%zu}",
				 n[GS_CH_UNCHANGED], n[GS_CH_PROGRESSED], n[GS_CH_NEW], n[GS_CH_GONE],
				 ng[GS_CH_PARKED], ng[GS_CH_MOVED]);
		gs_strbuf_puts(out, "}\n");
		return;
	}
	gs_strbuf_printf(out, "%s -> %s\n\n", gs_target_name(gs_rt_target(r1)),
			 gs_target_name(gs_rt_target(r2)));
	static const enum gs_change order[] = {GS_CH_UNCHANGED, GS_CH_PROGRESSED, GS_CH_NEW,
					       GS_CH_GONE};
	for (size_t o = 0; o < 4; o++) {
		for (size_t i = 0; i < d->nstreams; i++) {
			const gs_stream_diff *sd = &d->streams[i];
			if (sd->change != order[o])
				continue;
			gs_grpc *g;
			const gs_stream *s = pick(g1, g2, sd, &g);
			const gs_transport *t = gs_grpc_transport(g, s->transport);
			gs_strbuf_printf(out, "%-10s %s stream %u %s  %s -> %s", gs_change_name(sd->change),
					 side_name(s->side), s->id, s->method, t->local, t->remote);
			if (sd->change == GS_CH_PROGRESSED)
				gs_strbuf_printf(out, "  (%s moved)", sd->moved);
			if (sd->change == GS_CH_UNCHANGED && s->ngoroutines) {
				gs_strbuf_puts(out, "  goroutines");
				for (size_t k = 0; k < s->ngoroutines; k++)
					gs_strbuf_printf(out, " %llu", (unsigned long long)s->goroutines[k]);
				gs_strbuf_puts(out, " parked on the same objects");
			}
			gs_strbuf_putc(out, '\n');
		}
	}
	gs_strbuf_printf(out, "\ngoroutines: %zu parked on the same objects since the same moment, "
			      "%zu moved, %zu new, %zu gone\n",
			 ng[GS_CH_PARKED], ng[GS_CH_MOVED], ng[GS_CH_NEW], ng[GS_CH_GONE]);
	gs_strbuf_printf(out, "streams: %zu stuck (nothing moved, goroutines parked), %zu progressed "
			      "(slow, not stuck), %zu new, %zu gone\n",
			 n[GS_CH_UNCHANGED], n[GS_CH_PROGRESSED], n[GS_CH_NEW], n[GS_CH_GONE]);
}
