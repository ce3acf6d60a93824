/* libFuzzer: the command grammar. The input is a command line, words separated by NUL
 * bytes, the first byte picking the mode (CLI, debugger, gs_command's argv): parsing, the
 * command's argv parsed again, completion and help must never crash, and what parses once
 * parses again from gs_cmdline_argv. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grpcscope.h"
#include "../../analyzer/src/api/grammar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	enum gs_parse_mode mode = (enum gs_parse_mode)(data[0] % 3);
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	const char *argv[64];
	int argc = 0;
	for (char *p = text; p < text + size - 1 && argc < 64; p += strlen(p) + 1)
		argv[argc++] = p;
	char err[512];
	gs_cmdline cl;
	if (gs_cmdline_parse(argc, argv, mode, &cl, err, sizeof err) == 0 && cl.cmd &&
	    !cl.help && !cl.version) {
		int n;
		const char **v = gs_cmdline_argv(&cl, &n);
		gs_cmdline again;
		if (gs_cmdline_parse(n, v, GS_PARSE_COMMAND, &again, err, sizeof err) != 0)
			abort(); /* the command's own words must parse back */
		gs_cmdline_free(&again);
		free(v);
	}
	gs_cmdline_free(&cl);
	if (argc > 0) {
		char *c = gs_complete(argc - 1, argv, argv[argc - 1], mode == GS_PARSE_CLI ?
				      GS_LINE_CLI : GS_LINE_DEBUGGER);
		gs_free(c);
		gs_free(gs_help(argv[0]));
	}
	free(text);
	return 0;
}
