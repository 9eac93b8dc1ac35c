/// A run id as the number its 26 characters spell (Crockford base 32, either case): what a
/// segment's run table is searched by without making a `RunID` (a heap string) per entry.
/// Ordered as the upper-case text is (fixed length, alphabet in ASCII order).
struct RunKey: Hashable, Comparable {
    /// The first character's digit, then the other 25 characters' 125 bits.
    var top: UInt8
    var hi: UInt64
    var lo: UInt64

    static func < (a: RunKey, b: RunKey) -> Bool { (a.top, a.hi, a.lo) < (b.top, b.hi, b.lo) }

    /// Digit value of each byte of the alphabet (either case), 255 for any other byte.
    private static let digit: [UInt8] = {
        var t = [UInt8](repeating: 255, count: 256)
        for (i, b) in RunID.alphabet.enumerated() {
            t[Int(b)] = UInt8(i)
            if b >= 0x41 { t[Int(b) | 0x20] = UInt8(i) }
        }
        return t
    }()

    /// The key of the bytes of a run id; nil when they are not one (not 26 bytes, or a byte
    /// outside the alphabet), exactly when `RunID(String)` refuses the same text.
    init?<S: Sequence>(bytes: S) where S.Element == UInt8 {
        var top: UInt8 = 0, hi: UInt64 = 0, lo: UInt64 = 0
        var n = 0
        for b in bytes {
            let d = RunKey.digit[Int(b)]
            if d == 255 || n >= 26 { return nil }
            if n == 0 {
                top = d
            } else {
                hi = hi << 5 | lo >> 59
                lo = lo << 5 | UInt64(d)
            }
            n += 1
        }
        guard n == 26 else { return nil }
        self.top = top; self.hi = hi; self.lo = lo
    }

    /// The key of 26 stored bytes (a segment's run table).
    init?(view: ByteView) {
        guard view.count == 26 else { return nil }
        self.init(bytes: (0..<26).lazy.map { view[$0] })
    }

    init(_ run: RunID) {
        self = RunKey(bytes: run.text.utf8) ?? RunKey(top: 255, hi: 0, lo: 0)
    }

    init(top: UInt8, hi: UInt64, lo: UInt64) { self.top = top; self.hi = hi; self.lo = lo }
}
