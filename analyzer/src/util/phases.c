#include "phases.h"

#include <string.h>
#include <time.h>

uint64_t gs_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void gs_phases_start(gs_phases *ph)
{
	memset(ph, 0, sizeof *ph);
	ph->start = ph->last = gs_now_ns();
}

void gs_phases_mark(gs_phases *ph, const char *name)
{
	if (!ph)
		return;
	uint64_t t = gs_now_ns(), d = t - ph->last;
	ph->last = t;
	for (size_t i = 0; i < ph->n; i++) {
		if (strcmp(ph->p[i].name, name) == 0) {
			ph->p[i].ns += d;
			return;
		}
	}
	if (ph->n < GS_MAX_PHASES) {
		ph->p[ph->n].name = name;
		ph->p[ph->n++].ns = d;
	}
}

void gs_phases_format(const gs_phases *ph, gs_strbuf *out)
{
	gs_strbuf_puts(out, "timing:");
	for (size_t i = 0; i < ph->n; i++)
		gs_strbuf_printf(out, " %s %.1f ms,", ph->p[i].name, (double)ph->p[i].ns / 1e6);
	gs_strbuf_printf(out, " total %.1f ms\n", (double)(ph->last - ph->start) / 1e6);
}
