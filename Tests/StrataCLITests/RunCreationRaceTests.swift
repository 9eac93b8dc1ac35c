import Foundation
import Testing

/// Several `strata ingest` processes naming the same new run at the same moment create one run,
/// and every point of every process lands in it (issue #8, item 8).
@Suite struct RunCreationRace {
    @Test func concurrentIngestsOfOneNewNameCreateOneRun() throws {
        let s = Scratch()
        signal(SIGPIPE, SIG_IGN)
        let writers = 4, rounds = 12, lines = 40
        for round in 0..<rounds {
            let name = "race-\(round)"
            var procs: [(Process, Pipe)] = []
            for _ in 0..<writers {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: strataBinary())
                p.arguments = ["--store", s.store, "ingest", "--run", name, "--quiet"]
                let pipe = Pipe()
                p.standardInput = pipe
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.standardError
                try p.run()
                procs.append((p, pipe))
            }
            // Every process is up and waiting on stdin: release their first lines together.
            usleep(150_000)
            for (w, (_, pipe)) in procs.enumerated() {
                try pipe.fileHandleForWriting.write(contentsOf: Data(#"{"step": \#(w * 1000), "metrics": {"loss": \#(w)}}"#.utf8 + [10]))
            }
            for (w, (p, pipe)) in procs.enumerated() {
                var rest = ""
                for i in 1..<lines { rest += #"{"step": \#(w * 1000 + i), "metrics": {"loss": \#(w)}}"# + "\n" }
                try pipe.fileHandleForWriting.write(contentsOf: Data(rest.utf8))
                try pipe.fileHandleForWriting.close()
                _ = p
            }
            for (p, _) in procs {
                p.waitUntilExit()
                #expect(p.terminationStatus == 0)
            }
            // Every run of the store, not `--run NAME` (which picks the newest run of a name).
            let out = try strata(["export"], store: s.store).out
                .split(separator: "\n").filter { $0.contains("\"run\": \"\(name)\"") }.joined(separator: "\n")
            let ids = Set(
                out.split(separator: "\n").compactMap { line -> Substring? in
                    guard let r = line.range(of: "\"run_id\": \"") else { return nil }
                    return line[r.upperBound...].prefix(26)
                })
            #expect(ids.count == 1, "round \(round): \(ids.count) runs named \(name)")
            let points = parseExport(out).filter { $0.metric == "loss" }
            #expect(points.count == writers * lines, "round \(round): \(points.count) points")
            #expect(Set(points.map(\.step)).count == writers * lines)
            let listed = try strata(["runs", "--columns", "name"], store: s.store).out
            #expect(listed.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces) == name }.count == 1, "\(listed)")
        }
    }
}
