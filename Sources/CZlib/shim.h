// The system zlib (Debian: zlib1g-dev), for GZIP-compressed Parquet pages. Only StrataParquet
// imports this module.
#include <zlib.h>

// inflateInit2 is a macro that Swift cannot call: this wraps it (gzip or zlib header, detected).
static inline int strata_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}
