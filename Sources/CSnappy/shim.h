// The system libsnappy's C API (Debian: libsnappy-dev). Only StrataParquet imports this module.
#include <snappy-c.h>
