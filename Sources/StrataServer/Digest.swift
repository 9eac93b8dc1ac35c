import Crypto
import Foundation

/// SHA-256 as the server uses it (swift-crypto's `SHA256`): API tokens are stored as their hex
/// digest, an ingest batch's body is remembered by its digest for `Idempotency-Key`, and the runs
/// list's change cursor is a digest of the list.
enum Digest {
    /// The 32-byte SHA-256 digest of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// Lower-case hex SHA-256 digest of the UTF-8 bytes of `text`.
    static func sha256Hex(_ text: String) -> String {
        hex(Array(SHA256.hash(data: Array(text.utf8))))
    }

    /// Lower-case hex SHA-256 digest of `bytes`, cut to its first `digits` hex digits.
    static func sha256Hex(_ bytes: [UInt8], digits: Int = 64) -> String {
        String(hex(Array(SHA256.hash(data: bytes))).prefix(digits))
    }

    /// Lower-case hex of some bytes.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
