// The system libsqlite3 (Debian: libsqlite3-dev). Only StrataInterop imports this module, in
// Formats/SQLiteUnsafe.swift (reading MLflow tracking databases).
#include <sqlite3.h>
