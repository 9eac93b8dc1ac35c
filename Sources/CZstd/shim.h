// The system libzstd (Debian: libzstd-dev). Only StrataParquet imports this module.
#include <zstd.h>
