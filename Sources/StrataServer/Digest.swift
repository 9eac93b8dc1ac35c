import Crypto
import Foundation

/// SHA-256 as the server uses it (swift-crypto's `SHA256`): API tokens are stored as their hex
/// digest, and an ingest batch's body is remembered by its digest for `Idempotency-Key`.
enum Digest {
    /// The 32-byte SHA-256 digest of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// Lower-case hex SHA-256 digest of the UTF-8 bytes of `text`.
    static func sha256Hex(_ text: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in SHA256.hash(data: Array(text.utf8)) {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
