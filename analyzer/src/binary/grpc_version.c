#include "grpc_version.h"

#include <ctype.h>
#include <string.h>

#include "../util/alloc.h"
#include "buildinfo.h"

static char *from_rodata(gs_binary *b, gs_err *err)
{
	static const char *const names[] = {".rodata", ".data.rel.ro", NULL};
	static const char tag[] = "grpc-go/";
	for (int i = 0; names[i]; i++) {
		const gs_section *s = gs_binary_section(b, names[i]);
		const uint8_t *d = s ? gs_binary_section_data(b, s, NULL) : NULL;
		if (!d)
			continue;
		const uint8_t *p = d, *end = d + s->size;
		while ((p = memmem(p, (size_t)(end - p), tag, sizeof tag - 1)) != NULL) {
			const uint8_t *v = p + sizeof tag - 1, *q = v;
			while (q < end && (isdigit(*q) || *q == '.') && q - v < 16)
				q++;
			if (q - v >= 5 && isdigit(*v)) {
				char buf[32];
				size_t n = (size_t)(q - v);
				memcpy(buf, v, n);
				buf[n] = '\0';
				while (n && buf[n - 1] == '.')
					buf[--n] = '\0';
				return gs_strdup(buf, err);
			}
			p += 1;
		}
	}
	return NULL;
}

char *gs_grpc_version(gs_binary *b, gs_err *err)
{
	gs_buildinfo bi;
	gs_err e = {0};
	if (gs_buildinfo_read(b, &bi, &e) == 0) {
		const char *v = gs_buildinfo_module_version(&bi, "google.golang.org/grpc");
		char *r = v ? gs_strdup(v[0] == 'v' ? v + 1 : v, err) : NULL;
		gs_buildinfo_free(&bi);
		if (r || v)
			return r;
	} else if (e.code == GS_EINTERNAL) { /* out of memory */
		if (err)
			*err = e;
		return NULL;
	}
	return from_rodata(b, err);
}
