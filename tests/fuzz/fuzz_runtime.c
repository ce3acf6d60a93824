/* libFuzzer: the runtime walkers and the gRPC model over mutated memory. The memory is a
 * real fixture core's image with the input's patches laid over chosen objects — goroutine
 * structs, their sudogs and wait objects, allgs, transports and streams — then the runtime
 * model, every goroutine's stack and waits, the gRPC model and the verdicts are computed
 * through the commands (goroutines --stacks, streams, why-blocked --json).
 *
 * Snapshots: GS_FUZZ_SNAPSHOTS ("pair/scenario,...", non-PIE) under GS_FIXTURES (default
 * fixtures/out); the first input byte picks one.
 *
 * Input: [snapshot] then records [op][region][off lo][off hi][len][len bytes]:
 *   op%4 0: write the bytes at region+off;  1: write a pointer to region bytes[0] (+bytes[1])
 *   at region+off;  2: make len*16 bytes at region+off unreadable;  3: write a pointer to
 *   the region itself at region+off (self cycles). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imgsession.h"

#define MAX_SNAPS 4
#define MAX_REGIONS 512

typedef struct region {
	uint64_t addr, span;
} region;

typedef struct snap {
	imgfix f;
	region r[MAX_REGIONS];
	size_t nr;
} snap;

static snap snaps[MAX_SNAPS];
static size_t nsnaps;

static void add_region(snap *s, uint64_t addr, uint64_t span)
{
	if (addr && s->nr < MAX_REGIONS)
		s->r[s->nr++] = (region){addr, span};
}

static void collect_regions(snap *s)
{
	gs_err err = {0};
	gs_session *ss = imgfix_session(&s->f, &err);
	if (!ss) {
		fprintf(stderr, "fuzz_runtime: %s: %s\n", s->f.exe, err.msg);
		abort();
	}
	uint64_t a;
	if (gs_rt_global(ss->rt, "runtime.allgs", &a, NULL) == 0) {
		add_region(s, a, 24);
		uint64_t arr;
		if (gs_target_read_u64(ss->target, a, &arr, NULL) == 0)
			add_region(s, arr, 256);
	}
	gs_grpc *g = gs_session_grpc(ss, &err);
	for (size_t i = 0; g && i < gs_grpc_ntransports(g); i++)
		add_region(s, gs_grpc_transport(g, i)->addr, 0x400);
	for (size_t i = 0; g && i < gs_grpc_nstreams(g); i++) {
		const gs_stream *st = gs_grpc_stream(g, i);
		add_region(s, st->addr, 0x200);
		add_region(s, st->wq_addr, 0x40);
	}
	for (size_t i = 0; i < gs_rt_ngoroutines(ss->rt); i++) {
		gs_goroutine *gr = gs_rt_goroutine(ss->rt, i);
		if (gr->status != GS_G_WAITING)
			continue;
		add_region(s, gr->addr, 0x1c0);
		add_region(s, gr->waiting, 0x60);
		size_t nw;
		const gs_waitobj *w = gs_rt_waits(ss->rt, gr, &nw);
		for (size_t k = 0; k < nw; k++)
			add_region(s, w[k].addr, 0x60);
		add_region(s, gr->sched_sp, 0x100);
	}
	imgfix_session_close(ss);
	fprintf(stderr, "fuzz_runtime: %s: %zu regions\n", s->f.exe, s->nr);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *root = getenv("GS_FIXTURES") ? getenv("GS_FIXTURES") : "fixtures/out";
	const char *list = getenv("GS_FUZZ_SNAPSHOTS") ? getenv("GS_FUZZ_SNAPSHOTS")
						       : "go119-grpc133/send-flow-control,"
							 "go127-grpc181/peer-silent";
	char *copy = strdup(list), *save = NULL;
	for (char *p = strtok_r(copy, ",", &save); p && nsnaps < MAX_SNAPS;
	     p = strtok_r(NULL, ",", &save)) {
		char dir[512];
		snprintf(dir, sizeof dir, "%s/%s", root, p);
		if (imgfix_open(&snaps[nsnaps].f, dir) < 0)
			abort();
		collect_regions(&snaps[nsnaps]);
		nsnaps++;
	}
	free(copy);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || !nsnaps)
		return 0;
	snap *s = &snaps[data[0] % nsnaps];
	memimage *m = &s->f.mi;
	mi_reset(m);
	size_t i = 1;
	while (i + 5 <= size && s->nr) {
		uint8_t op = data[i];
		const region *r = &s->r[data[i + 1] % s->nr];
		uint64_t off = (uint64_t)(data[i + 2] | data[i + 3] << 8) % r->span;
		size_t len = data[i + 4];
		i += 5;
		if (len > size - i)
			len = size - i;
		const uint8_t *b = data + i;
		i += len;
		switch (op % 4) {
		case 0:
			mi_write(m, r->addr + off, b, len);
			break;
		case 1: {
			const region *to = &s->r[(len ? b[0] : 0) % s->nr];
			mi_write_u64(m, r->addr + (off & ~7ull), to->addr + (len > 1 ? b[1] : 0));
			break;
		}
		case 2:
			mi_hole(m, r->addr + off, (len + 1) * 16);
			break;
		default:
			mi_write_u64(m, r->addr + (off & ~7ull), r->addr);
			break;
		}
	}
	gs_err err = {0};
	gs_session *ss = imgfix_session(&s->f, &err);
	if (ss) {
		imgfix_run(ss, NULL, "goroutines", "--stacks", NULL);
		imgfix_run(ss, NULL, "streams", NULL);
		imgfix_run(ss, NULL, "why-blocked", "--json", NULL);
		imgfix_session_close(ss);
	}
	mi_reset(m);
	return 0;
}
