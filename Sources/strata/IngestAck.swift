import Strata
import StrataInterop

/// `strata ingest --ack`: answers on stdout, so that a program piping lines in knows what is
/// durable and what was refused (docs/CLI.md "Acknowledgements"; the Python client uses it).
///
/// - A control line `{"ack": "ID"}` makes every line before it durable (fsync) and is answered
///   `{"ack":"ID","line":N}` (N: its line number). It is not a record: nothing is logged.
/// - A refused line is answered `{"line":N,"error":"MESSAGE"}` at once (before ingest stops, or
///   goes on with `--skip-bad`).
struct IngestAcks {
    /// The id of a control line, nil for any other line (which is then a record, checked as usual:
    /// a line with an `"ack"` key in another form is refused as an unknown key).
    func control(_ bytes: ArraySlice<UInt8>) -> String? {
        // Only a line that begins `{"ack"` (spaces allowed) is parsed here: records cost nothing more.
        var i = bytes.startIndex
        func skipSpace() { while i < bytes.endIndex, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 } }
        skipSpace()
        guard i < bytes.endIndex, bytes[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        skipSpace()
        for c in "\"ack\"".utf8 {
            guard i < bytes.endIndex, bytes[i] == c else { return nil }
            i += 1
        }
        let line: JSONValue
        do { line = try JSONValue.parse(line: bytes) } catch { return nil }
        return line.ackID
    }

    func ack(_ id: String, line: Int) { answer("{\"ack\":\(jsonString(id)),\"line\":\(line)}") }

    func refused(line: Int, _ message: String) { answer("{\"line\":\(line),\"error\":\(jsonString(message))}") }

    /// One line on stdout, written whole at once. A reader that went away is ignored (ingest ends
    /// at the end of its input as usual).
    private func answer(_ s: String) {
        try? Sys.writeAll(1, Array((s + "\n").utf8), "stdout")
    }

}

extension JSONValue {
    /// The id of a control line: an object with exactly the key `ack`, a string. (An extension
    /// because swiftc 6.3 reports a spurious "circular reference" at `enum JSON` for a
    /// `case .object(let kv)` pattern when this file alone is recompiled and extends nothing.)
    var ackID: String? {
        guard case .object(let kv) = self, kv.count == 1, case .string(let id) = kv[0].1 else { return nil }
        return id
    }
}
