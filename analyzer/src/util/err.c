#include "err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int gs_errf(gs_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		err->read_at = err->fault_at = 0;
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int gs_err_wrap(gs_err *err, const char *fmt, ...)
{
	if (err) {
		char prefix[512], old[sizeof err->msg];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(prefix, sizeof prefix, fmt, ap);
		va_end(ap);
		memcpy(old, err->msg, sizeof old);
		/* Built piecewise: the message may be cut, never overrun. */
		size_t n = strlen(prefix), cap = sizeof err->msg - 1;
		if (n > cap)
			n = cap;
		memcpy(err->msg, prefix, n);
		if (n + 2 <= cap) {
			memcpy(err->msg + n, ": ", 2);
			n += 2;
		}
		size_t m = strnlen(old, sizeof old);
		if (m > cap - n)
			m = cap - n;
		memcpy(err->msg + n, old, m);
		err->msg[n + m] = '\0';
	}
	return -1;
}

int gs_err_mem(gs_err *err, uint64_t addr, uint64_t n, uint64_t k, bool extent)
{
	if (!err)
		return -1;
	if (k == 0 && !extent)
		gs_errf(err, GS_EMEM, "unreadable at 0x%" PRIx64, addr);
	else
		gs_errf(err, GS_EMEM, "unreadable at 0x%" PRIx64 " (reading %" PRIu64 " bytes at 0x%" PRIx64 ")",
			addr + k, n, addr);
	err->read_at = addr;
	err->fault_at = addr + k;
	return -1;
}

int gs_err_memf(gs_err *err, uint64_t addr, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = GS_EMEM;
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->read_at = err->fault_at = addr;
	}
	return -1;
}

void gs_err_clear(gs_err *err)
{
	if (err) {
		err->code = GS_OK;
		err->read_at = err->fault_at = 0;
		err->msg[0] = '\0';
	}
}
