import CSQLite

// The only file that calls the SQLite C API (unsafe pointers: the connection and statement
// handles, C strings and column blobs). Everything else reads databases through `SQLiteDatabase`.

/// A SQLite database opened read-only (the system libsqlite3).
package final class SQLiteDatabase {
    private var db: OpaquePointer?
    /// The file opened.
    package let path: String

    /// Opens `path` read-only; throws when it is not a SQLite database.
    package init(readOnly path: String) throws(InteropError) {
        self.path = path
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, nil)
        db = handle
        if rc != SQLITE_OK {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            db = nil
            throw InteropError("\(path): cannot open as a SQLite database: \(message)")
        }
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit { sqlite3_close(db) }

    /// Runs `sql` with `bindings` (text or integer parameters `?1`, `?2`, …) and calls `row` for
    /// each result row.
    package func query(_ sql: String, _ bindings: [SQLiteValue] = [], row: (SQLiteRow) throws -> Void) throws {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
            throw InteropError("\(path): \(String(cString: sqlite3_errmsg(db))) (in \(sql.prefix(60))…)")
        }
        defer { sqlite3_finalize(stmt) }
        // SQLITE_TRANSIENT: SQLite copies the bound text.
        let transient = unsafeBitCast(Int(-1), to: sqlite3_destructor_type.self)
        for (i, b) in bindings.enumerated() {
            switch b {
            case .text(let s): sqlite3_bind_text(stmt, Int32(i + 1), s, -1, transient)
            case .int(let v): sqlite3_bind_int64(stmt, Int32(i + 1), v)
            }
        }
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else {
                throw InteropError("\(path): \(String(cString: sqlite3_errmsg(db)))")
            }
            try row(SQLiteRow(stmt: stmt))
        }
    }
}

/// A parameter bound to a query.
package enum SQLiteValue {
    case text(String)
    case int(Int64)
}

/// The current row of a query (valid only inside the `row` callback).
package struct SQLiteRow {
    fileprivate let stmt: OpaquePointer

    /// True when column `i` is NULL.
    package func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }

    /// Column `i` as text (NULL: nil). Bytes that are not UTF-8 are repaired.
    package func text(_ i: Int32) -> String? {
        guard sqlite3_column_type(stmt, i) != SQLITE_NULL, let p = sqlite3_column_text(stmt, i) else { return nil }
        let n = Int(sqlite3_column_bytes(stmt, i))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// Column `i` as an integer (NULL: nil; a real is truncated, text converted as SQLite does).
    package func int(_ i: Int32) -> Int64? {
        sqlite3_column_type(stmt, i) == SQLITE_NULL ? nil : sqlite3_column_int64(stmt, i)
    }

    /// Column `i` as a double (NULL: nil; exact for a REAL column).
    package func double(_ i: Int32) -> Double? {
        sqlite3_column_type(stmt, i) == SQLITE_NULL ? nil : sqlite3_column_double(stmt, i)
    }
}
