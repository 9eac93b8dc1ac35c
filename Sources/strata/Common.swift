import ArgumentParser
import Strata
import StrataInterop

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error the CLI reports as one line on stderr with exit code 1 (or `exitCode`).
/// `--buckets` of `curve` and `plot`: a usage error (exit 2) outside 1...Buckets.maxCount.
func checkBucketOption(_ buckets: Int) throws {
    guard (1...Buckets.maxCount).contains(buckets) else {
        throw CLIError("--buckets must be 1 to \(Buckets.maxCountText), got \(buckets)", exitCode: 2)
    }
}

struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32 = 1
    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }
    var description: String { message }
}

/// Options every command accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Store directory (default: $STRATA_STORE, else ./.strata).", valueName: "path"))
    var store: String?

    var storePath: String { store ?? Store.defaultPath }

    /// Opens the store for writing points (created when missing): only commands that write points
    /// (ingest, log --create, import, demo, serve) may create a store.
    func openForWriting() throws -> Store {
        do { return try Store.open(at: storePath) } catch { throw storeError(error) }
    }

    /// Opens an existing store, never creating one: for reading and for maintenance (compact,
    /// rewind, verify, export, tokens). Opening needs no write, so it works on a full disk.
    func openForReading() throws -> Store {
        do {
            return try Store.open(at: storePath, options: .init(create: false))
        } catch let e where e.code == .notFound {
            throw CLIError(
                "no store at \(storePath) (a store is created by the first write, e.g. `strata ingest` or `strata demo`; choose another with --store or STRATA_STORE)"
            )
        } catch { throw storeError(error) }
    }

    private func storeError(_ e: StrataError) -> CLIError {
        CLIError("cannot open store \(storePath): \(e.description)")
    }
}

// MARK: output

/// Buffered writer to a file descriptor (stdout by default), for large outputs.
final class Output {
    private var buffer: [UInt8] = []
    let fd: Int32
    init(fd: Int32 = 1) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }
    deinit { flush() }

    @inline(__always) func write(_ s: String) {
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= 1 << 16 { flush() }
    }
    @inline(__always) func byte(_ b: UInt8) { buffer.append(b) }
    func line(_ s: String = "") { write(sanitise ? displayText(s) : s); buffer.append(10); if buffer.count >= 1 << 16 { flush() } }
    /// When set, `line` shows control characters visibly (`displayText`): for text output of
    /// stored strings, never for JSON (which escapes them itself) or charts (which use colours).
    var sanitise = false

    func flush() {
        do {
            try Sys.writeAll(fd, buffer, "standard output")
        } catch {
            if error.errno == EPIPE { exit(0) }  // reader went away (e.g. `| head`): stop quietly
            return
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// One line on stderr.
func warn(_ s: String) {
    try? Sys.writeAll(2, Array((s + "\n").utf8), "standard error")
}

func isTerminal(_ fd: Int32) -> Bool { Sys.isTerminal(fd) }

/// True when coloured output is wanted on stdout.
var useColor: Bool {
    if Sys.environment("NO_COLOR") != nil { return false }
    if Sys.environment("TERM") == "dumb" { return false }
    return isTerminal(1)
}

func terminalWidth() -> Int {
    if let cols = Sys.terminalColumns(1), cols > 20 { return cols }
    if let c = Sys.environment("COLUMNS"), let n = Int(c), n > 20 { return n }
    return 80
}

// MARK: formatting

/// A compact human form of a double for tables (up to 6 significant digits).
func short(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v.isInfinite { return v > 0 ? "Inf" : "-Inf" }
    if v == v.rounded(), abs(v) < 1e12 { return String(Int64(v)) }
    let a = abs(v)
    if a >= 1e-4 && a < 1e6 {
        var s = cformat("%.6g", v)
        if s.contains("e") { return s }
        if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
        return s
    }
    return cformat("%.4g", v)
}

func formatTime(_ ms: Int64) -> String {
    var t = time_t(ms / 1000)
    var tmv = tm()
    gmtime_r(&t, &tmv)
    return cformat(
        "%04d-%02d-%02d %02d:%02d:%02dZ", Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday),
        Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec))
}

func humanBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n), u = 0
    while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : cformat("%.1f ", v) + units[u]
}

/// Text safe to print on a terminal: control characters (C0, DEL, C1) and bidirectional
/// overrides, which stored tags, params or metadata may hold, are shown as `\u{1b}` instead of
/// acting on the terminal. Everything else is unchanged.
func displayText(_ s: String) -> String {
    func unsafe(_ v: UInt32) -> Bool { v < 0x20 || (v >= 0x7f && v <= 0x9f) || (v >= 0x202a && v <= 0x202e) || (v >= 0x2066 && v <= 0x2069) }
    guard s.unicodeScalars.contains(where: { unsafe($0.value) }) else { return s }
    var out = ""
    for u in s.unicodeScalars {
        if unsafe(u.value) { out += "\\u{" + String(u.value, radix: 16) + "}" } else { out.unicodeScalars.append(u) }
    }
    return out
}

/// A param as JSON text (``ParamValue/json``: the one JSON spelling of params).
func jsonParam(_ p: ParamValue) -> String { p.json }

func jsonObject(_ params: [String: ParamValue]) -> String {
    "{" + params.keys.sorted().map { jsonString($0) + ": " + jsonParam(params[$0]!) }.joined(separator: ", ") + "}"
}

/// Pads or cuts a cell to `width` display columns (counting characters).
func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
    let n = s.count
    if n > width { return String(s.prefix(max(1, width - 1))) + "…" }
    let fill = String(repeating: " ", count: width - n)
    return right ? fill + s : s + fill
}

/// True when a table cell reads as a number: a decimal (thousands separated by commas or not),
/// NaN, ±Inf, a signed percentage (`+1.5%`) or a size (`1.5 KiB`).
func isNumberCell(_ s: String) -> Bool {
    if s == "NaN" || s == "Inf" || s == "-Inf" { return true }
    var t = Substring(s)
    if t.hasSuffix("%") { t = t.dropLast() }
    for unit in [" B", " KiB", " MiB", " GiB", " TiB"] where t.hasSuffix(unit) { t = t.dropLast(unit.count); break }
    if t.hasPrefix("+") || t.hasPrefix("-") { t = t.dropFirst() }
    guard let f = t.first, f.isASCII, f.isNumber else { return false }
    if t.contains(",") {
        // 1,234,567(.89): groups of three after the first.
        let intPart = t.prefix { $0 != "." }
        let groups = intPart.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...3).contains(groups[0].count), groups.dropFirst().allSatisfy({ $0.count == 3 }),
            groups.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return false }
        t = t.dropFirst(intPart.count)
        if t.isEmpty { return true }
        return Double("0" + t) != nil
    }
    return Double(t) != nil
}

/// Renders rows as an aligned table. A column whose cells are mostly numbers (`isNumberCell`) is
/// right-aligned as a whole: its header, its numbers and its placeholders (`-`). With `fit`, a
/// table wider than `fit` columns is cut into blocks of columns that fit, each repeating the first
/// column, one below the other with a blank line between.
func renderTable(header: [String], rows: [[String]], maxWidth: Int = 48, fit: Int? = nil) -> [String] {
    // Cells hold stored text: control characters are shown, not sent to the terminal.
    let header = header.map(displayText)
    let rows = rows.map { $0.map(displayText) }
    var widths = header.map { min(maxWidth, $0.count) }
    for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = min(maxWidth, max(widths[i], c.count)) } }
    let numeric = header.indices.map { i -> Bool in
        let cells = rows.compactMap { i < $0.count ? $0[i] : nil }.filter { $0 != "-" && !$0.isEmpty }
        let numbers = cells.filter(isNumberCell).count
        return numbers > 0 && numbers * 2 >= cells.count
    }
    func line(_ cells: [String], _ columns: [Int]) -> String {
        columns.map { i in pad(i < cells.count ? cells[i] : "", widths[i], right: numeric[i]) }.joined(separator: "  ").trimmingTrailing()
    }
    // Blocks of columns that fit (the first column starts every block).
    var blocks: [[Int]] = [Array(header.indices)]
    if let fit, header.count > 1, widths.reduce(0, +) + 2 * (widths.count - 1) > fit {
        blocks = []
        var current = [0], used = widths[0]
        for i in header.indices.dropFirst() {
            if current.count > 1 && used + 2 + widths[i] > fit { blocks.append(current); current = [0]; used = widths[0] }
            current.append(i); used += 2 + widths[i]
        }
        blocks.append(current)
    }
    var out: [String] = []
    for (k, columns) in blocks.enumerated() {
        if k > 0 { out.append("") }
        out.append(line(header, columns))
        for r in rows { out.append(line(r, columns)) }
    }
    return out
}

/// A param value as table and text output show it: numbers as `short` shows every number (`0`,
/// never `0.0` in one place and `0` in another), the rest as stored.
func paramText(_ p: ParamValue) -> String {
    if case .double(let d) = p { return short(d) }
    return p.description
}

extension String {
    func trimmingTrailing() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// Parses `--from/--to` style step bounds.
func parseInt64(_ s: String, what: String) throws -> Int64 {
    guard let v = Int64(s) else { throw CLIError("\(what) must be an integer, got \"\(s)\"", exitCode: 2) }
    return v
}
