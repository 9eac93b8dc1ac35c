/// Facts about the process recorded with every new run.
enum Environment {
    static func capture() -> [String: ParamValue] {
        var m = fixed
        m["pid"] = .int(Int64(Sys.pid))
        return m
    }

    /// Host and command line, read once a process (bulk creation asks for them for every run).
    private static let fixed: [String: ParamValue] = {
        var m: [String: ParamValue] = [:]
        if let host = Sys.hostname() { m["host"] = .string(host) }
        let args = CommandLine.arguments
        // Capped like any metadata string value (a long command line must not make the run unreadable).
        if !args.isEmpty { m["command"] = .string(Limits.truncated(args.joined(separator: " "), bytes: Limits.maxStringValueBytes)) }
        return m
    }()
}
