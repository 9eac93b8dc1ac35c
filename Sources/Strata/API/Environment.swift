/// Facts about the process recorded with every new run.
enum Environment {
    static func capture() -> [String: ParamValue] {
        var m: [String: ParamValue] = [:]
        if let host = Sys.hostname() { m["host"] = .string(host) }
        m["pid"] = .int(Int64(Sys.pid))
        let args = CommandLine.arguments
        // Capped like any metadata string value (a long command line must not make the run unreadable).
        if !args.isEmpty { m["command"] = .string(Limits.truncated(args.joined(separator: " "), bytes: Limits.maxStringValueBytes)) }
        return m
    }
}
