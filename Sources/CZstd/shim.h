// The system libzstd (Debian: libzstd-dev). Imported by StrataParquet (UnsafeCodecs.swift) and Strata (Storage/Unsafe/CatalogZstd.swift).
#include <zstd.h>
