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
#include <stdbool.h>
#include <stdint.h>

enum gs_err_code {
	GS_OK = 0,
	GS_EINTERNAL = 1, /* a bug or an unexpected failure: exit status 1 */
	GS_EINPUT = 2,    /* bad usage, unreadable or mismatched input: exit status 2 */
	GS_EMEM = 3,      /* target memory that could not be read (a fact, not fatal) */
	GS_ENOTFOUND = 4, /* a symbol, type, field or object that is not there */
};

typedef struct gs_err {
	int code;
	/* GS_EMEM: where the failed read began and the first byte it could not read, so a
	 * caller can say where without parsing msg (0 and 0 for other errors). */
	uint64_t read_at, fault_at;
	char msg[1024];
} gs_err;

/* Sets *err (if not NULL) and returns -1, so a caller can `return gs_errf(...)`. */
int gs_errf(gs_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the message already in *err (code and addresses kept) with more context ("reading runtime.allgs: ..."). */
int gs_err_wrap(gs_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* gs_errf(GS_EMEM) for a target read of n bytes at addr that could read only the first k;
 * the message names the read's extent when part was read or when extent is set. */
int gs_err_mem(gs_err *err, uint64_t addr, uint64_t n, uint64_t k, bool extent);

/* gs_errf(GS_EMEM) for an object found unreadable at addr, the message its own. */
int gs_err_memf(gs_err *err, uint64_t addr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void gs_err_clear(gs_err *err);

#endif
