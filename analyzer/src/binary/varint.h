/* Go's unsigned LEB128 varints (encoding/binary.Uvarint), bounds-checked: the pclntab's
 * pc-value tables and the 1.18+ buildinfo strings use them. Private to the binary layer. */
#ifndef GS_BINARY_VARINT_H
#define GS_BINARY_VARINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes at p[*pos], p holding len bytes; advances *pos. False if truncated or longer
 * than maxbits allow (so a hostile stream cannot overflow the result). */
static inline bool gs_uvarint(const uint8_t *p, size_t len, size_t *pos, unsigned maxbits,
			      uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; *pos < len; shift += 7) {
		uint8_t c = p[(*pos)++];
		if (shift >= maxbits)
			return false;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

#endif
