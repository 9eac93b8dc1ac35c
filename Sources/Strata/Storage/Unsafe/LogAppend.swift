import StrataCodecs

/// Appending records to a write-ahead log: bytes are stored straight into the log's mapping.
///
/// Unsafe memory (the log writer's buffer): `map.base` is the start of a writable shared mapping
/// of `map.capacity` bytes that lives as long as the `WriteAheadLog`. A record is written at
/// `end`, and every caller first checked that `recordSize(payload:) <= remaining`
/// (`LogWriter.ensureSpace` and its callers), so the header, the payload `fill` writes (exactly `payload` bytes)
/// and the padding stay inside the mapping. Covered by `LogRecordTests`, the crash tests that
/// SIGKILL writers (`ProcessTests`) and the store fuzzer (`FuzzEntry.log` reads logs back).
extension WriteAheadLog {
    /// Copies the log header (`LogFormat.headerSize` bytes) to the start of the mapping.
    func writeHeader(_ header: [UInt8]) {
        precondition(header.count == LogFormat.headerSize && map.capacity >= LogFormat.headerSize)
        header.withUnsafeBytes { map.base.copyMemory(from: $0.baseAddress!, byteCount: LogFormat.headerSize) }
    }

    /// What was appended so far (header included), as a bounds-checked view; valid until
    /// `remove()` or `abandon()`.
    var written: ByteView { ByteView(unsafe: UnsafeRawBufferPointer(start: map.base, count: end)) }

    /// Appends one record whose payload is produced by `fill` straight into the mapping.
    /// The caller checked `recordSize(payload:) <= remaining`.
    @inline(__always)
    func append(kind: LogRecordKind, payload: Int, _ fill: (UnsafeMutableRawPointer) -> Void) {
        precondition(WriteAheadLog.recordSize(payload: payload) <= remaining, "log record does not fit")
        let at = map.base + end
        let body = at + LogFormat.recordHeaderSize
        fill(body)
        let sum = Checksum.xxh64(UnsafeRawBufferPointer(start: body, count: payload), seed: UInt64(payload) << 8 | UInt64(kind.rawValue))
        at.storeBytes(of: sum.littleEndian, toByteOffset: 8, as: UInt64.self)
        // Length and kind go last, in one aligned 8-byte store: a reader (or recovery after kill -9)
        // sees either a zero word (the end) or a complete record.
        at.storeBytes(of: (UInt64(kind.rawValue) << 32 | UInt64(payload)).littleEndian, toByteOffset: 0, as: UInt64.self)
        end += WriteAheadLog.recordSize(payload: payload)
    }

    /// Appends one record with `bytes` as its payload.
    func append(kind: LogRecordKind, bytes: [UInt8]) {
        append(kind: kind, payload: bytes.count) { dst in
            bytes.withUnsafeBytes { if $0.count > 0 { dst.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        }
    }
}
