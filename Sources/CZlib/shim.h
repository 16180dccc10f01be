// Debian's zlib (zlib1g-dev), found with pkg-config: permessage-deflate (RFC 7692) for
// WebSocket clients. deflateInit2 and inflateInit2 are macros that pass the library's version
// and z_stream's size; Swift cannot call macros, so these wrappers do.
#ifndef GATEWAYD_CZLIB_SHIM_H
#define GATEWAYD_CZLIB_SHIM_H
#include <zlib.h>

static inline int gwd_deflate_init_raw(z_stream *stream, int level, int windowBits, int memLevel, int strategy) {
    return deflateInit2(stream, level, Z_DEFLATED, -windowBits, memLevel, strategy);
}

static inline int gwd_inflate_init_raw(z_stream *stream, int windowBits) {
    return inflateInit2(stream, -windowBits);
}

#endif
