// The system liblz4 (Debian: liblz4-dev). Only StrataCodecs imports this module.
#include <lz4.h>
