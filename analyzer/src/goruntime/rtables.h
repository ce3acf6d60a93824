/* Runtime structs the linker gives no type descriptor (runtime.mheap, schedt, semaRoot,
 * itabTableType), for executables without DWARF.
 *
 * Their few fields the analyser reads are either the same in every Go release 1.19-1.27
 * (semaRoot.treap at 8, schedt.lastpoll at 8, itabTableType's size/count/entries) or found
 * in the snapshot by what they hold (mheap.allspans: the []*mspan whose elements are
 * plausible spans). Each becomes a gs_dtype whose source is GS_TR_TABLE, so selfcheck says
 * where it came from; what cannot be confirmed is left out and the code that needs it says
 * "unknown".
 */
#ifndef GS_GORUNTIME_RTABLES_H
#define GS_GORUNTIME_RTABLES_H

#include "model.h"

/* Registers the table types with the session's type source. Call once the PIE bias is
 * known and before the field manifests are resolved. No-op when the binary has DWARF; -1 when out of memory. */
int gs_rt_register_tables(gs_rt *rt, gs_err *err);

#endif
