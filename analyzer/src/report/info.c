#include "info.h"

#include <stdlib.h>
#include <string.h>

#include "../binary/debuginfo.h"
#include "../goruntime/constants.h"
#include "../goruntime/plausible.h"

static const char *kind_name(int k)
{
	return k == GS_TARGET_CORE ? "core" : k == GS_TARGET_LIVE ? "live" : "debugger";
}

static void json_opt_str(gs_strbuf *out, const char *key, const char *v)
{
	gs_strbuf_printf(out, ",\"%s\":", key);
	if (v)
		gs_strbuf_json_str(out, v);
	else
		gs_strbuf_puts(out, "null");
}

static void json_debug(gs_strbuf *out, const gs_info *in)
{
	static const char *const names[] = {"none", "executable", "separate"};
	gs_strbuf_printf(out, ",\"debug_info\":\"%s\",\"debug_file\":", names[in->debug_source]);
	if (in->debug_source == GS_DEBUG_SEPARATE) {
		gs_strbuf_puts(out, "{\"path\":");
		gs_strbuf_json_str(out, in->debug_file);
		gs_strbuf_puts(out, ",\"found_by\":");
		gs_strbuf_json_str(out, in->debug_found_by);
		gs_strbuf_puts(out, "}");
	} else {
		gs_strbuf_puts(out, "null");
	}
	if (in->debug_source == GS_DEBUG_NONE)
		json_opt_str(out, "debug_searched", in->debug_searched);
	if (!in->warnings)
		return;
	gs_strbuf_puts(out, ",\"warnings\":[");
	for (const char *p = in->warnings, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		char *line = strndup(p, (size_t)(nl - p));
		if (p != in->warnings)
			gs_strbuf_putc(out, ',');
		gs_strbuf_json_str(out, line);
		free(line);
	}
	gs_strbuf_puts(out, "]");
}

static void text_debug(gs_strbuf *out, const gs_info *in)
{
	if (in->debug_source == GS_DEBUG_SEPARATE)
		gs_strbuf_printf(out, "debug info:   %s (%s)\n", in->debug_file, in->debug_found_by);
	else if (in->debug_source == GS_DEBUG_EXECUTABLE)
		gs_strbuf_puts(out, "debug info:   in the executable\n");
	else
		gs_strbuf_printf(out, "debug info:   none found (searched: %s)\n",
				 in->debug_searched ? in->debug_searched
						    : "nothing: no GNU build id, no .gnu_debuglink");
}

void gs_report_info(gs_rt *rt, const gs_info *in, bool json, gs_strbuf *out)
{
	size_t n = gs_rt_ngoroutines(rt), waiting = 0, running = 0, listed;
	const uint64_t *bad;
	const bool *slot;
	size_t unreadable = gs_rt_unreadable(rt, &bad, &slot, &listed);
	for (size_t i = 0; i < n; i++) {
		gs_goroutine *g = gs_rt_goroutine(rt, i);
		waiting += g->status == GS_G_WAITING;
		running += g->status == GS_G_RUNNING;
	}
	if (json) {
		gs_strbuf_puts(out, "{\"schema\":\"grpcscope/1\",\"command\":\"info\"");
		json_opt_str(out, "executable", in->exe);
		json_opt_str(out, "target", in->target);
		json_opt_str(out, "target_kind", kind_name(in->target_kind));
		json_opt_str(out, "go_version", in->go_version);
		json_opt_str(out, "grpc_version", in->grpc_version);
		json_opt_str(out, "go_build_id", in->go_build_id);
		json_opt_str(out, "gnu_build_id", in->gnu_build_id);
		gs_strbuf_printf(out, ",\"pie\":%s,\"load_bias\":\"0x%llx\",\"threads\":%zu,"
				      "\"goroutines\":%zu,\"waiting\":%zu,\"running\":%zu",
				 in->pie ? "true" : "false", (unsigned long long)in->bias,
				 in->threads, n, waiting, running);
		if (in->target_kind == GS_TARGET_LIVE)
			gs_strbuf_printf(out, ",\"pause_ms\":%.3f", in->pause_ns / 1e6);
		gs_strbuf_printf(out, ",\"missing_bytes\":%llu", (unsigned long long)in->missing_bytes);
		gs_strbuf_printf(out, ",\"unreadable_goroutines\":%zu", unreadable);
		gs_strbuf_printf(out, ",\"implausible_goroutines\":%zu", gs_rt_implausible(rt));
		json_debug(out, in);
		gs_strbuf_puts(out, ",\"sources\":{\"types\":");
		gs_strbuf_json_str(out, in->types_from ? in->types_from : "");
		gs_strbuf_puts(out, ",\"globals\":");
		gs_strbuf_json_str(out, in->symbols_from ? in->symbols_from : "");
		gs_strbuf_puts(out, ",\"constants\":");
		gs_strbuf_json_str(out, gs_consts_sources(gs_rt_consts(rt)));
		char detail[200];
		gs_consts_detail(gs_rt_consts(rt), detail, sizeof detail);
		gs_strbuf_puts(out, ",\"constants_detail\":");
		gs_strbuf_json_str(out, detail);
		gs_strbuf_puts(out, "}}\n");
		return;
	}
	char e1[1024], e2[1024];
	gs_strbuf_printf(out, "target:       %s (%s)\n", GS_SAFE(in->target, e1),
			 kind_name(in->target_kind));
	gs_strbuf_printf(out, "executable:   %s%s\n", GS_SAFE(in->exe, e2), in->pie ? " (PIE)" : "");
	if (in->pie)
		gs_strbuf_printf(out, "load bias:    0x%llx\n", (unsigned long long)in->bias);
	gs_strbuf_printf(out, "go:           %s\n", in->go_version);
	gs_strbuf_printf(out, "grpc-go:      %s\n", in->grpc_version ? in->grpc_version : "unknown");
	if (in->go_build_id)
		gs_strbuf_printf(out, "go build id:  %s\n", in->go_build_id);
	if (in->gnu_build_id)
		gs_strbuf_printf(out, "gnu build id: %s\n", in->gnu_build_id);
	text_debug(out, in);
	gs_strbuf_printf(out, "types from:   %s\n", in->types_from);
	gs_strbuf_printf(out, "globals from: %s\n", in->symbols_from);
	gs_strbuf_printf(out, "consts from:  %s\n", gs_consts_sources(gs_rt_consts(rt)));
	gs_strbuf_printf(out, "threads:      %zu\n", in->threads);
	gs_strbuf_printf(out, "goroutines:   %zu (%zu waiting, %zu running)\n", n, waiting, running);
	if (unreadable)
		gs_strbuf_printf(out, "unreadable:   %zu goroutine%s in runtime.allgs (%zu of them "
				      "implausible; first at 0x%llx)\n",
				 unreadable, unreadable == 1 ? "" : "s", gs_rt_implausible(rt),
				 (unsigned long long)(listed ? bad[0] : 0));
	if (in->target_kind == GS_TARGET_LIVE)
		gs_strbuf_printf(out, "paused for:   %.3f ms\n", in->pause_ns / 1e6);
	if (in->missing_bytes)
		gs_strbuf_printf(out, "TRUNCATED:    %llu bytes of the process's memory are missing from "
				      "the core; objects there read as unreadable\n",
				 (unsigned long long)in->missing_bytes);
}
