/* Errors as values.
 *
 * Every fallible function takes a gs_err * and, on failure, fills it with a code and a
 * one-line message, then returns -1 (or NULL). Callers either propagate the error unchanged
 * or prefix context with gs_err_wrap. Nothing in the library prints or exits: the front end
 * decides what to show.
 */
#ifndef GS_UTIL_ERR_H
#define GS_UTIL_ERR_H

#include <stdarg.h>

enum gs_err_code {
	GS_OK = 0,
	GS_EINTERNAL = 1, /* a bug or an unexpected failure: exit status 1 */
	GS_EINPUT = 2,    /* bad usage, unreadable or mismatched input: exit status 2 */
	GS_EMEM = 3,      /* target memory that could not be read (a fact, not fatal) */
	GS_ENOTFOUND = 4, /* a symbol, type, field or object that is not there */
};

typedef struct gs_err {
	int code;
	char msg[1024];
} gs_err;

/* Sets *err (if not NULL) and returns -1, so a caller can `return gs_errf(...)`. */
int gs_errf(gs_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the message already in *err with more context ("reading runtime.allgs: ..."). */
int gs_err_wrap(gs_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void gs_err_clear(gs_err *err);

#endif
