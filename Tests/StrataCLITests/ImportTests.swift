import Foundation
import Testing

// `strata import tensorboard|mlflow|wandb` on files written by the real tools (tensorboardX, mlflow).
// The committed copies in Fixtures/ are always checked; when `python3` (or $STRATA_FIXTURE_PYTHON) can
// import tensorboardX and mlflow, Fixtures/make_fixtures.py also writes fresh ones that get the same checks.

enum Fixture {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let t0Ms: Int64 = 1_760_000_000_000
    static func loss(_ step: Int) -> Double { 1.0 / Double(step + 1) + 0.125 }

    /// Fixture directories to check: the committed one, and a freshly generated one when the tools are installed.
    static let roots: [String] = [dir] + (live.map { [$0] } ?? [])

    static let live: String? = {
        let python = ProcessInfo.processInfo.environment["STRATA_FIXTURE_PYTHON"] ?? "python3"
        guard run(python, ["-c", "import tensorboardX, mlflow"]) == 0 else { return nil }
        let out = NSTemporaryDirectory() + "strata-import-fixtures-\(getpid())"
        guard run(python, [dir + "/make_fixtures.py", out]) == 0 else { return nil }
        return out
    }()

    private static func run(_ exe: String, _ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [exe] + args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// The single events file under `dir` (searched recursively).
    static func eventFile(in dir: String) -> String {
        let names = FileManager.default.enumerator(atPath: dir)!.compactMap { $0 as? String }.filter { $0.contains("events.out.tfevents.") }
        precondition(names.count == 1, "\(dir): \(names)")
        return dir + "/" + names[0]
    }
}

func points(_ e: [Exported], _ run: String, _ metric: String) -> [Exported] {
    e.filter { $0.run == run && $0.metric == metric }
}

@Suite struct ImportTensorBoardTests {
    @Test(arguments: Fixture.roots)
    func scalarsAndTF2TensorsRoundTrip(root: String) throws {
        let s = Scratch()
        let r = try strata(["import", "tensorboard", root + "/tb"], store: s.store)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.hasPrefix("imported 2 runs from tensorboard: 5 series, 35 points, skipped 1 (1 non-scalar values), "), "\(r.err)")
        #expect(!r.err.contains("\r"), "no progress line when stderr is not a terminal")
        let e = parseExport(try strata(["export"], store: s.store).out)
        #expect(e.count == 35)

        // classic scalars: simple_value is a float32
        let steps = Array(stride(from: 0, to: 50, by: 5))
        #expect(
            points(e, "exp1/train", "loss")
                == steps.map {
                    Exported(
                        run: "exp1/train", metric: "loss", step: Int64($0), bits: Double(Float(Fixture.loss($0))).bitPattern,
                        time: Fixture.t0Ms + Int64($0) * 1000)
                })
        #expect(
            points(e, "exp1/train", "train/accuracy")
                == steps.map {
                    Exported(
                        run: "exp1/train", metric: "train/accuracy", step: Int64($0), bits: Double(Float(Double($0) / 50)).bitPattern,
                        time: Fixture.t0Ms + Int64($0) * 1000 + 250)
                })
        // TF2-style tensors: float_val, double_val and tensor_content
        let evalSteps = Array(stride(from: 0, to: 50, by: 10))
        func evalTime(_ st: Int) -> Int64 { Fixture.t0Ms + 1_000_000 + Int64(st) * 1000 }
        #expect(
            points(e, "exp1/eval", "val/accuracy")
                == evalSteps.map {
                    Exported(
                        run: "exp1/eval", metric: "val/accuracy", step: Int64($0), bits: Double(Float(0.5 + Double($0) / 100)).bitPattern,
                        time: evalTime($0))
                })
        #expect(
            points(e, "exp1/eval", "val/loss")
                == evalSteps.map {
                    Exported(run: "exp1/eval", metric: "val/loss", step: Int64($0), bits: (1.0 / 3.0 + Double($0)).bitPattern, time: evalTime($0))
                })
        #expect(
            points(e, "exp1/eval", "val/content")
                == evalSteps.map {
                    Exported(run: "exp1/eval", metric: "val/content", step: Int64($0), bits: (0.1 * Double($0)).bitPattern, time: evalTime($0))
                })

        let show = try strata(["show", "exp1/train", "--json"], store: s.store)
        #expect(show.code == 0)
        #expect(show.out.contains("\"status\": \"finished\""))
        #expect(show.out.contains("\"import.source\": \"tensorboard:"))
        // created/ended: the first and last wall time of the run's points
        #expect(show.out.contains("\"created\": \(Fixture.t0Ms), \"ended\": \(Fixture.t0Ms + 45_250)"), "\(show.out)")

        // Importing again leaves the runs alone; --again imports them a second time.
        let again = try strata(["import", "tensorboard", root + "/tb"], store: s.store)
        #expect(again.code == 0)
        #expect(again.err.hasPrefix("imported 0 runs from tensorboard: 0 series, 0 points"), "\(again.err)")
        #expect(again.err.contains("2 runs were imported before and left alone"), "\(again.err)")
        let forced = try strata(["import", "tensorboard", root + "/tb", "--again"], store: s.store)
        #expect(forced.err.hasPrefix("imported 2 runs"), "\(forced.err)")
    }

    @Test func oneDirectoryIsNamedByItself() throws {
        let s = Scratch()
        let dir = s.sub("myrun")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let src = Fixture.eventFile(in: Fixture.dir + "/tb/exp1/eval")
        try FileManager.default.copyItem(atPath: src, toPath: dir + "/" + URL(fileURLWithPath: src).lastPathComponent)
        let r = try strata(["import", "tensorboard", dir, "--project", "tb"], store: s.store)
        #expect(r.code == 0, "\(r.err)")
        let runs = try strata(["runs", "--columns", "name,project,val/loss.count"], store: s.store)
        #expect(runs.out.contains("myrun") && runs.out.contains("tb") && runs.out.contains("5"), "\(runs.out)")
        let curve = try strata(["curve", "myrun", "val/loss", "--buckets", "1", "--json"], store: s.store)
        #expect(curve.out.contains("\"count\": 5") && curve.out.contains("\"last_step\": 40"), "\(curve.out)")
    }

    /// Offsets of the records of a TFRecord file.
    func recordOffsets(_ bytes: [UInt8]) -> [Int] {
        var o = 0, out: [Int] = []
        while o + 12 <= bytes.count {
            out.append(o)
            var len = 0
            for k in 0..<8 { len |= Int(bytes[o + k]) << (8 * k) }
            o += 12 + len + 4
        }
        return out
    }

    func damagedCopy(_ s: Scratch, _ change: (inout [UInt8], [Int]) -> Void) throws -> (dir: String, file: String) {
        let src = Fixture.eventFile(in: Fixture.dir + "/tb/exp1/train")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: src)))
        change(&bytes, recordOffsets(bytes))
        let dir = s.sub("logs/run1")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/" + URL(fileURLWithPath: src).lastPathComponent
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return (s.sub("logs"), file)
    }

    @Test func badDataChecksumNamesFileAndOffset() throws {
        let s = Scratch()
        var third = 0
        let (dir, file) = try damagedCopy(s) { bytes, offsets in
            third = offsets[2]
            bytes[third + 12 + 3] ^= 0x40  // a byte of the third record's data
        }
        let r = try strata(["import", "tensorboard", dir], store: s.store)
        #expect(r.code == 1)
        #expect(r.err.hasPrefix("strata: \(file): byte \(third): data checksum mismatch (stored 0x"), "\(r.err)")
        #expect(r.err.contains("the file is damaged (--skip-bad skips and counts such damaged records)"), "\(r.err)")
        #expect(r.err.split(separator: "\n").count == 1)
        #expect(!(try strata(["runs"], store: s.store).out.contains("run1")), "nothing of the damaged run is written")

        let k = try strata(["import", "tensorboard", dir, "--skip-bad"], store: s.store)
        #expect(k.code == 0, "\(k.err)")
        #expect(k.err.contains("skipped 2 (1 damaged records, 1 non-scalar values)"), "\(k.err)")
        #expect(k.err.contains("first problem: \(file): byte \(third): data checksum mismatch"), "\(k.err)")
        // Records after the damaged one are read: 20 scalars minus the one record's.
        #expect(parseExport(try strata(["export"], store: s.store).out).count == 19)
    }

    @Test func badLengthChecksumResyncsUnderSkipBad() throws {
        let s = Scratch()
        var second = 0
        let (dir, file) = try damagedCopy(s) { bytes, offsets in
            second = offsets[1]
            bytes[second + 9] ^= 0x01  // the masked CRC of the length
        }
        let r = try strata(["import", "tensorboard", dir], store: s.store)
        #expect(r.code == 1)
        #expect(r.err.hasPrefix("strata: \(file): byte \(second): length checksum mismatch"), "\(r.err)")
        let k = try strata(["import", "tensorboard", dir, "--skip-bad"], store: s.store)
        #expect(k.code == 0, "\(k.err)")
        #expect(parseExport(try strata(["export"], store: s.store).out).count == 19)
    }

    @Test func incompleteLastRecordIsCountedNotFatal() throws {
        let s = Scratch()
        let (dir, _) = try damagedCopy(s) { bytes, offsets in
            // The histogram is the last record; cut into the last scalar record before it instead.
            bytes.removeSubrange((offsets[offsets.count - 2] + 20)...)
        }
        let r = try strata(["import", "tensorboard", dir], store: s.store)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.contains("1 incomplete records at file ends"), "\(r.err)")
        #expect(parseExport(try strata(["export"], store: s.store).out).count == 19)
    }

    @Test func missingDirectoryAndNoEventFiles() throws {
        let s = Scratch()
        let r = try strata(["import", "tensorboard", s.sub("nope")], store: s.store)
        #expect(r.code == 1 && r.err.hasPrefix("strata: no such directory: "), "\(r.err)")
        try FileManager.default.createDirectory(atPath: s.sub("empty"), withIntermediateDirectories: true)
        let e = try strata(["import", "tensorboard", s.sub("empty")], store: s.store)
        #expect(e.code == 1 && e.err.hasPrefix("strata: no TensorBoard event files"), "\(e.err)")
    }
}

@Suite struct ImportMLflowTests {
    @Test(arguments: Fixture.roots)
    func paramsTagsAndMetricsRoundTrip(root: String) throws {
        let s = Scratch()
        let r = try strata(["import", "mlflow", root + "/mlruns"], store: s.store)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.hasPrefix("imported 2 runs from mlflow: 3 series, 21 points, skipped 0, "), "\(r.err)")

        let show = try strata(["show", "mlflow-run-1", "--json"], store: s.store)
        #expect(show.code == 0, "\(show.err)")
        for needle in [
            #""project": "fixture-exp""#, #""status": "finished""#,
            // params keep MLflow's text exactly (Python's str(True) is "True")
            #""params": {"batch_size": "32", "lr": "0.001", "optimizer": "adam", "use_amp": "True", "weight_decay": "1e-05"}"#,
            #""git.commit": "0123456789abcdef0123456789abcdef01234567""#, #""tags": ["team=vision"]"#,
            #""created": 1760000000000, "ended": 1760000060000"#, #""mlflow.start_time": 1760000000000"#, #""mlflow.status": "FINISHED""#,
            #""import.source": "mlflow:"#
        ] {
            #expect(show.out.contains(needle), "show lacks \(needle): \(show.out)")
        }
        let text = try strata(["show", "mlflow-run-1"], store: s.store)
        #expect(text.out.contains("git checkout 0123456789abcdef0123456789abcdef01234567"), "\(text.out)")

        let e = parseExport(try strata(["export"], store: s.store).out)
        let steps = Array(stride(from: 0, to: 30, by: 3))
        #expect(
            points(e, "mlflow-run-1", "train/loss")
                == steps.map {
                    Exported(
                        run: "mlflow-run-1", metric: "train/loss", step: Int64($0), bits: Fixture.loss($0).bitPattern,
                        time: Fixture.t0Ms + Int64($0) * 10)
                })
        #expect(
            points(e, "mlflow-run-1", "accuracy")
                == steps.map {
                    Exported(
                        run: "mlflow-run-1", metric: "accuracy", step: Int64($0), bits: (Double($0) / 30).bitPattern,
                        time: Fixture.t0Ms + Int64($0) * 10 + 1)
                })
        #expect(
            points(e, "mlflow-run-2", "train/loss") == [
                Exported(run: "mlflow-run-2", metric: "train/loss", step: 0, bits: Double.nan.bitPattern, time: Fixture.t0Ms + 100_001)
            ])
        // ... and compare by the typed value derived from the text
        let typed = try strata(
            ["runs", "--where", "params.batch_size == 32 and params.lr < 0.005 and params.use_amp == true", "--columns", "name"], store: s.store)
        #expect(typed.code == 0 && typed.out.contains("mlflow-run-1") && !typed.out.contains("mlflow-run-2"), "\(typed.out)\(typed.err)")
        let failed = try strata(["runs", "--where", #"status == "failed""#, "--columns", "name,params.lr"], store: s.store)
        #expect(failed.out.contains("mlflow-run-2") && failed.out.contains("0.01") && !failed.out.contains("mlflow-run-1"), "\(failed.out)")
    }

    @Test func oneExperimentDirectoryAndBadMetricLine() throws {
        let s = Scratch()
        let copy = s.sub("mlruns")
        try FileManager.default.copyItem(atPath: Fixture.dir + "/mlruns", toPath: copy)
        let fm = FileManager.default
        let exp = try fm.contentsOfDirectory(atPath: copy).first { $0 != "0" && !$0.hasPrefix(".") }!
        let runs = try fm.contentsOfDirectory(atPath: copy + "/" + exp).filter { !$0.hasSuffix(".yaml") }
        let run1 = try runs.first { try String(contentsOfFile: copy + "/\(exp)/\($0)/meta.yaml", encoding: .utf8).contains("mlflow-run-1") }!
        let metric = copy + "/\(exp)/\(run1)/metrics/accuracy"
        try (String(contentsOfFile: metric, encoding: .utf8) + "garbage here\n").write(toFile: metric, atomically: true, encoding: .utf8)

        let r = try strata(["import", "mlflow", copy + "/" + exp], store: s.store)
        #expect(r.code == 1)
        #expect(r.err.hasPrefix("strata: \(metric): line 11: expected \"timestamp value step\", got \"garbage here\""), "\(r.err)")
        let k = try strata(["import", "mlflow", copy + "/" + exp, "--skip-bad", "--project", "p2"], store: s.store)
        #expect(k.code == 0, "\(k.err)")
        #expect(k.err.contains("skipped 1 (1 bad lines)"), "\(k.err)")
        let show = try strata(["show", "mlflow-run-1", "--json"], store: s.store)
        #expect(show.out.contains(#""project": "p2""#))
    }
}

extension ImportMLflowTests {
    @Test func parentRunIdBecomesLineage() throws {
        let s = Scratch()
        let copy = s.sub("mlruns")
        try FileManager.default.copyItem(atPath: Fixture.dir + "/mlruns", toPath: copy)
        let fm = FileManager.default
        let exp = try fm.contentsOfDirectory(atPath: copy).first { $0 != "0" && !$0.hasPrefix(".") }!
        let runs = try fm.contentsOfDirectory(atPath: copy + "/" + exp).filter { !$0.hasSuffix(".yaml") }
        func isRun(_ id: String, _ name: String) throws -> Bool {
            try String(contentsOfFile: copy + "/\(exp)/\(id)/meta.yaml", encoding: .utf8).contains("run_name: " + name)
        }
        let parent = try runs.first { try isRun($0, "mlflow-run-1") }!
        let child = try runs.first { try isRun($0, "mlflow-run-2") }!
        try parent.write(toFile: copy + "/\(exp)/\(child)/tags/mlflow.parentRunId", atomically: true, encoding: .utf8)
        try "train.py".write(toFile: copy + "/\(exp)/\(child)/tags/mlflow.source.name", atomically: true, encoding: .utf8)
        let r = try strata(["import", "mlflow", copy], store: s.store)
        #expect(r.code == 0, "\(r.err)")
        let show = try strata(["show", "mlflow-run-2"], store: s.store)
        #expect(show.out.contains("parent") && show.out.contains("(mlflow-run-1)"), "\(show.out)")
        #expect(show.out.contains("  train.py"), "\(show.out)")
    }
}

@Suite struct ImportWandbTests {
    @Test(arguments: Fixture.roots)
    func jsonlHistory(root: String) throws {
        let s = Scratch()
        let r = try strata(["import", "wandb", root + "/wandb-history.jsonl"], store: s.store)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.hasPrefix("imported 1 run from wandb: 4 series, 31 points, skipped 2 (2 non-numeric values), "), "\(r.err)")
        let e = parseExport(try strata(["export"], store: s.store).out)
        let steps = Array(stride(from: 0, to: 20, by: 2))
        func t(_ st: Int) -> Int64 { Fixture.t0Ms + Int64(st) * 500 }
        #expect(
            points(e, "wandb-history", "train/loss")
                == steps.map {
                    Exported(run: "wandb-history", metric: "train/loss", step: Int64($0), bits: Fixture.loss($0).bitPattern, time: t($0))
                })
        #expect(
            points(e, "wandb-history", "train/acc")
                == steps.map {
                    Exported(run: "wandb-history", metric: "train/acc", step: Int64($0), bits: (Double($0) / 20).bitPattern, time: t($0))
                })
        #expect(points(e, "wandb-history", "lr").count == 10)
        #expect(
            points(e, "wandb-history", "val/loss") == [
                Exported(run: "wandb-history", metric: "val/loss", step: 6, bits: Double.nan.bitPattern, time: t(6))
            ])
        #expect(!e.contains { $0.metric.hasPrefix("_") || $0.metric == "note" || $0.metric.hasPrefix("samples") })
    }

    @Test(arguments: Fixture.roots)
    func csvHistory(root: String) throws {
        let s = Scratch()
        let r = try strata(["import", "wandb", root + "/wandb-history.csv", "--run", "csvrun", "--project", "wb"], store: s.store)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.hasPrefix("imported 1 run from wandb: 2 series, 15 points, skipped 0, "), "\(r.err)")
        let e = parseExport(try strata(["export"], store: s.store).out)
        let steps = Array(stride(from: 0, to: 20, by: 2))
        #expect(
            points(e, "csvrun", "train/loss")
                == steps.map {
                    Exported(
                        run: "csvrun", metric: "train/loss", step: Int64($0), bits: Fixture.loss($0).bitPattern, time: Fixture.t0Ms + Int64($0) * 500)
                })
        #expect(points(e, "csvrun", "val/loss").map(\.step) == [0, 4, 8, 12, 16])
        #expect(points(e, "csvrun", "val/loss").map(\.bits) == [0, 4, 8, 12, 16].map { (Fixture.loss($0) + 0.5).bitPattern })
    }

    @Test func chartExportCSVAndBadLines() throws {
        let s = Scratch()
        let chart = s.sub("chart.csv")
        try """
        "Step","sweep-1 - train/loss","sweep-1 - train/loss__MIN","sweep-1 - train/loss__MAX","sweep-2 - train/loss"
        "0","1.5","1.4","1.6","2.5"
        "10","0.5","0.4","0.6",""
        "20","x","","","0.25"

        """.write(toFile: chart, atomically: true, encoding: .utf8)
        let r = try strata(["import", "wandb", chart], store: s.store)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.hasPrefix("imported 2 runs from wandb: 2 series, 4 points, skipped 1 (1 non-numeric values)"), "\(r.err)")
        let e = parseExport(try strata(["export"], store: s.store).out)
        #expect(points(e, "sweep-1", "train/loss").map(\.step) == [0, 10])
        #expect(points(e, "sweep-2", "train/loss").map(\.bits) == [Double(2.5).bitPattern, Double(0.25).bitPattern])

        let bad = s.sub("bad.jsonl")
        try """
        {"_step": 0, "loss": 1.0}
        {"_step": 1, "loss": 0.5
        {"loss": 0.25}
        {"_step": 3, "loss": 0.125}

        """.write(toFile: bad, atomically: true, encoding: .utf8)
        let b = try strata(["import", "wandb", bad], store: s.store)
        #expect(b.code == 1)
        #expect(b.err.hasPrefix("strata: \(bad): line 2: malformed JSON at column 25"), "\(b.err)")
        #expect(!(try strata(["runs"], store: s.store).out.contains("bad")), "nothing of a failed file is written")
        let k = try strata(["import", "wandb", bad, "--skip-bad", "--run", "skipped"], store: s.store)
        #expect(k.code == 0, "\(k.err)")
        #expect(k.err.contains("skipped 2 (2 bad lines)"), "\(k.err)")
        #expect(k.err.contains("first problem: \(bad): line 2: malformed JSON"), "\(k.err)")
        #expect(points(parseExport(try strata(["export", "--run", "skipped"], store: s.store).out), "skipped", "loss").map(\.step) == [0, 3])
    }
}

extension ImportMLflowTests {
    /// A run name Strata refuses (a tab, 300 bytes) does not stop the import: the run gets a name
    /// Strata accepts and keeps the original as `import.original_name`.
    @Test func refusedRunNameIsMadeAcceptableAndKept() throws {
        let s = Scratch()
        let copy = s.sub("mlruns")
        try FileManager.default.copyItem(atPath: Fixture.dir + "/mlruns", toPath: copy)
        let fm = FileManager.default
        let exp = try fm.contentsOfDirectory(atPath: copy).first { $0 != "0" && !$0.hasPrefix(".") }!
        let run = try fm.contentsOfDirectory(atPath: copy + "/" + exp).first {
            try String(contentsOfFile: copy + "/\(exp)/\($0)/meta.yaml", encoding: .utf8).contains("run_name: mlflow-run-1")
        }!
        let original = "lr\tsweep " + String(repeating: "x", count: 300)
        try original.write(toFile: copy + "/\(exp)/\(run)/tags/mlflow.runName", atomically: true, encoding: .utf8)
        let r = try strata(["import", "mlflow", copy], store: s.store)
        #expect(r.code == 0, "\(r.err)")
        let expected = "lr sweep " + String(repeating: "x", count: 200 - "lr sweep ".utf8.count)
        let show = try strata(["show", expected, "--json"], store: s.store)
        #expect(show.code == 0, "\(show.err)")
        #expect(show.out.contains(#""import.original_name": "lr\tsweep xxx"#), "\(show.out.prefix(2000))")
        #expect(try strata(["show", "mlflow-run-2"], store: s.store).code == 0)
    }
}
