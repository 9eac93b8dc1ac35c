/// The rules for metric names, label keys and values, run names and projects.
/// Documented in `docs/FORMAT.md` ("Names and limits").
public enum Limits {
    /// Longest metric name, in UTF-8 bytes.
    public static let maxMetricNameBytes = 200
    /// Longest run name or project name, in UTF-8 bytes.
    public static let maxRunNameBytes = 200
    /// Longest context label key, in UTF-8 bytes.
    public static let maxLabelKeyBytes = 64
    /// Longest context label value, in UTF-8 bytes.
    public static let maxLabelValueBytes = 200
    /// Most context labels on one series.
    public static let maxLabels = 16
    /// Longest param or metadata key (after flattening nested keys with dots), in UTF-8 bytes.
    public static let maxParamKeyBytes = 256
    /// Longest string param, tag or metadata value, in UTF-8 bytes (a string inside a list too).
    public static let maxStringValueBytes = 65_536
    /// Deepest param tree: the segments of a flattened key (`optimizer.adam.beta1` is 3) plus the
    /// list and object nesting of its value (`[[1, 2]]` adds 2).
    public static let maxParamDepth = 32
    /// Most elements in one param or metadata value, counting the elements of nested lists and
    /// the members of objects inside lists.
    public static let maxListElements = 10_000
    /// Most metrics in one `log` call.
    public static let maxMetricsPerLog = 4_096
    /// Most tags in one call (`createRun`, or the tags added plus removed by `Run.tag`); each tag
    /// is 1–200 bytes without control characters.
    public static let maxTagsPerCall = 10_000
    /// Most params, or metadata entries, in one call (`createRun`, `setParams`, `setMetadata`).
    public static let maxParamsPerCall = 100_000
    /// Largest catalog record body in bytes: what one call writes (a run's creation with its
    /// params, tags and metadata; one `setParams`, `setMetadata` or `tag` call).
    public static let maxCatalogRecordBytes = 16 << 20

    /// Checks one param or metadata entry (`what`: "param" or "metadata").
    ///
    /// - Parameters:
    ///   - key: The entry's key.
    ///   - value: The entry's value.
    ///   - what: How errors name the entry ("param" or "metadata").
    /// - Throws: ``StrataError`` with code `.invalidArgument` for an empty or too long key, a key
    ///   with an empty path segment (`a..b`, `.a`, `a.`), a tree deeper than ``maxParamDepth``, more
    ///   than ``maxListElements`` elements, or a too long string value.
    public static func check(key: String, value: ParamValue, what: String) throws(StrataError) {
        if key.isEmpty || key.utf8.count > maxParamKeyBytes {
            throw .invalid("\(what) key \"\(key.prefix(40))\" must be 1 to \(maxParamKeyBytes) bytes")
        }
        // Segments counted in one pass over the bytes (no array of substrings: creating 10,000
        // runs checks every key of every run).
        var segments = 1
        var emptySegment = false
        var previousDot = true  // a leading '.' makes an empty first segment
        for b in key.utf8 {
            if b == UInt8(ascii: ".") {
                if previousDot { emptySegment = true }
                segments += 1
                previousDot = true
            } else {
                previousDot = false
            }
        }
        if emptySegment || previousDot {
            throw .invalid("\(what) key \"\(key.prefix(80))\" has an empty path segment (a leading, trailing or doubled '.')")
        }
        let depth = segments + value.depth
        if depth > maxParamDepth {
            throw .invalid("\(what) \(key.prefix(80)) is nested \(depth) levels deep; the limit is \(maxParamDepth)")
        }
        var elements = 0
        try checkValue(value, key: key, what: what, elements: &elements)
    }

    /// Checks the strings, inner keys and element count of one value.
    private static func checkValue(_ value: ParamValue, key: String, what: String, elements: inout Int) throws(StrataError) {
        switch value {
        case .string(let s), .text(let s):
            if s.utf8.count > maxStringValueBytes {
                throw .invalid("\(what) \(key.prefix(80)) is \(s.utf8.count) bytes; the limit is \(maxStringValueBytes)")
            }
        case .bigInt(let t):
            if t.utf8.count > maxParamKeyBytes {
                throw .invalid("\(what) \(key.prefix(80)) is an integer of \(t.utf8.count) digits; the limit is \(maxParamKeyBytes)")
            }
            if ParamValue.bigInteger(t) == nil {
                throw .invalid(
                    "\(what) \(key.prefix(80)) is .bigInt(\"\(t.prefix(40))\"), which is not an integer outside the 64-bit range (an integer that fits is .int; ParamValue.bigInteger(_:) makes the right case from digits)"
                )
            }
        case .list(let xs):
            elements += xs.count
            if elements > maxListElements {
                throw .invalid("\(what) \(key.prefix(80)) has more than \(maxListElements) list elements")
            }
            for x in xs { try checkValue(x, key: key, what: what, elements: &elements) }
        case .object(let kv):
            elements += kv.count
            if elements > maxListElements {
                throw .invalid("\(what) \(key.prefix(80)) has more than \(maxListElements) list elements")
            }
            for (k, x) in kv {
                if k.isEmpty || k.utf8.count > maxParamKeyBytes {
                    throw .invalid("\(what) \(key.prefix(80)) has an object key \"\(k.prefix(40))\" that is not 1 to \(maxParamKeyBytes) bytes")
                }
                try checkValue(x, key: key, what: what, elements: &elements)
            }
        case .int, .double, .bool, .null: break
        }
    }

    /// Checks the params (or metadata) of one call: each entry, their number, and the size of the
    /// catalog record they make (`what`: "param" or "metadata").
    ///
    /// - Parameters:
    ///   - params: The entries of the call.
    ///   - what: How errors name them ("param" or "metadata").
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bad entry, too many entries, or a record over ``Limits/maxCatalogRecordBytes``.
    public static func check(params: [String: ParamValue], what: String) throws(StrataError) {
        try check(paramCount: params.count, what: what)
        for (k, v) in params { try check(key: k, value: v, what: what) }
        // kind, run id (varint length + 26 characters), then the params.
        let size = 1 + 1 + 26 + ParamCoding.encodedSize(params)
        if size > maxCatalogRecordBytes {
            throw .invalid("\(what) entries of one call take \(size) bytes; the limit of a run record is \(maxCatalogRecordBytes) bytes")
        }
    }

    /// Checks the number of params or metadata entries given in one call.
    ///
    /// - Parameters:
    ///   - n: How many entries the call gives.
    ///   - what: How errors name them ("param" or "metadata").
    /// - Throws: ``StrataError`` with code `.invalidArgument` for more than ``Limits/maxParamsPerCall``.
    public static func check(paramCount n: Int, what: String) throws(StrataError) {
        if n > maxParamsPerCall { throw .invalid("\(n) \(what) entries in one call; the limit is \(maxParamsPerCall)") }
    }

    /// Checks one tag: 1–200 bytes, no control characters.
    ///
    /// - Parameter t: The tag.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for an empty or too long tag, or one with a control character.
    public static func check(tag t: String) throws(StrataError) {
        if t.isEmpty || t.utf8.count > maxRunNameBytes {
            throw .invalid("tag \"\(t.prefix(40))\" must be 1 to \(maxRunNameBytes) bytes")
        }
        if t.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw .invalid("tag \"\(t.prefix(40))\" has a control character")
        }
    }

    /// Checks a run name (or, with `what`, a project name or run id): 1–200 bytes, no control
    /// characters. The rule `createRun`, `openRun` and the ingest decoders share.
    ///
    /// - Parameters:
    ///   - name: The name.
    ///   - what: How errors name it ("run name" by default).
    /// - Throws: ``StrataError`` with code `.invalidArgument` for an empty or too long name, or one with a control character.
    public static func check(runName name: String, what: String = "run name") throws(StrataError) {
        try Names.validateRunName(name, what: what)
    }

    /// `s` cut to at most `bytes` UTF-8 bytes, on a character boundary.
    package static func truncated(_ s: String, bytes: Int) -> String {
        if s.utf8.count <= bytes { return s }
        var out = ""
        var n = 0
        for c in s {
            n += c.utf8.count
            if n > bytes { break }
            out.append(c)
        }
        return out
    }

    /// Checks the tags of one call: each tag, and their number.
    ///
    /// - Parameter tags: The tags of the call.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bad tag or more than ``Limits/maxTagsPerCall``.
    public static func check(tags: some Collection<String>) throws(StrataError) {
        if tags.count > maxTagsPerCall { throw .invalid("\(tags.count) tags in one call; the limit is \(maxTagsPerCall)") }
        for t in tags { try check(tag: t) }
    }
}

enum Names {
    /// Characters forbidden in metric names: control characters and the label syntax `{}=,"`.
    static func validateMetric(_ name: String) throws(StrataError) {
        let n = name.utf8.count
        if n == 0 { throw .invalid("metric name is empty") }
        if n > Limits.maxMetricNameBytes {
            throw .invalid("metric name \"\(name.prefix(40))…\" is \(n) bytes; the limit is \(Limits.maxMetricNameBytes)")
        }
        for (i, s) in name.unicodeScalars.enumerated() {
            if s.value < 0x20 || s.value == 0x7f || "{}=,\"".unicodeScalars.contains(s) {
                let shown = s.value < 0x20 || s.value == 0x7f ? "control character U+\(String(s.value, radix: 16, uppercase: true))" : "'\(s)'"
                throw .invalid("metric name \"\(name)\" has a forbidden \(shown) at position \(i) (forbidden: control characters and { } = , \")")
            }
        }
        if name.first == " " || name.last == " " {
            throw .invalid("metric name \"\(name)\" begins or ends with a space")
        }
    }

    static func validateLabel(key: String, value: String) throws(StrataError) {
        let k = key.utf8.count
        if k == 0 || k > Limits.maxLabelKeyBytes { throw .invalid("label key \"\(key)\" must be 1 to \(Limits.maxLabelKeyBytes) bytes") }
        for (i, c) in key.unicodeScalars.enumerated() {
            let ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || (i > 0 && ((c >= "0" && c <= "9") || c == "." || c == "-"))
            if !ok {
                throw .invalid(
                    "label key \"\(key)\" has a forbidden character at position \(i) (allowed: letters, digits, _ . -, starting with a letter or _)")
            }
        }
        let v = value.utf8.count
        if v == 0 || v > Limits.maxLabelValueBytes { throw .invalid("label \(key) value must be 1 to \(Limits.maxLabelValueBytes) bytes") }
        for s in value.unicodeScalars where s.value < 0x20 || s.value == 0x7f || "{}=,\"".unicodeScalars.contains(s) {
            throw .invalid("label \(key) value \"\(value)\" has a forbidden character (control characters and { } = , \")")
        }
    }

    static func validateRunName(_ name: String, what: String = "run name") throws(StrataError) {
        let n = name.utf8.count
        if n == 0 { throw .invalid("\(what) is empty") }
        if n > Limits.maxRunNameBytes { throw .invalid("\(what) \"\(name.prefix(40))…\" is \(n) bytes; the limit is \(Limits.maxRunNameBytes)") }
        for s in name.unicodeScalars where s.value < 0x20 || s.value == 0x7f {
            throw .invalid("\(what) \"\(name)\" has a control character")
        }
    }
}
