// The contract between the codec module and the storage engine.
//
// Everything in this module is `package` access: it is not part of Strata's public API.
// Decoders never trust a length or offset read from bytes: every read is bounds-checked
// and a damaged input throws `CodecError.corrupt`, it never traps or reads out of bounds.

/// A column could not be decoded: the bytes are damaged or not a column of this format.
package struct CodecError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, e.g. "block 3: bit width 71 exceeds 64".
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// The bytes one codec took in an encoded column, for `strata stats` and the benchmark.
package struct CodecUsage: Sendable, Equatable {
    /// A short stable name, e.g. "linear", "delta-for", "float32-for", "decimal", "raw64".
    package var codec: String
    /// How many values this codec encoded.
    package var values: Int
    /// How many encoded bytes it took (headers included).
    package var bytes: Int
    package init(codec: String, values: Int, bytes: Int) {
        self.codec = codec; self.values = values; self.bytes = bytes
    }
}

/// Limits shared by every column codec.
package enum ColumnLimits {
    /// A column (one chunk's steps, values or times) holds at most this many values.
    package static let maxValues = 65_536
}
