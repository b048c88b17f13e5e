#ifndef CREDITLINE_CZLIB_SHIM_H
#define CREDITLINE_CZLIB_SHIM_H
#include <zlib.h>

// deflateInit2 is a macro (it passes ZLIB_VERSION and sizeof(z_stream)), which Swift
// cannot call; these inline wrappers make it a function.
static inline int czlib_deflate_init2(z_streamp strm, int level, int windowBits, int memLevel) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}

static inline int czlib_inflate_init2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif
