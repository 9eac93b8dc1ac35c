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
    /// Longest string param, tag or metadata value, in UTF-8 bytes.
    public static let maxStringValueBytes = 65_536
    /// Most metrics in one `log` call.
    public static let maxMetricsPerLog = 4_096
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
            if !ok { throw .invalid("label key \"\(key)\" has a forbidden character at position \(i) (allowed: letters, digits, _ . -, starting with a letter or _)") }
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
