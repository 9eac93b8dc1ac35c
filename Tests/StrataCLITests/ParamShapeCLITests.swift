import Foundation
import Testing

/// Params of every JSON shape through the built binary: `strata ingest`, `show --json`, filters,
/// and the Parquet export read back by `import parquet`.
@Suite("CLI: params of any JSON shape")
struct ParamShapeCLITests {
    static let line =
        #"{"run": "t1", "params": {"optimizer": {"name": "adam", "betas": [0.9, 0.999]}, "dataset": {"augment": ["flip", "crop"]}, "#
        + #""layers": [512, 256], "scheduler": null, "amp": true, "seed": 9007199254740993, "huge": 123456789012345678901234567890, "#
        + #""lr": "0.10", "tag": "007", "v": "1.10", "cbs": [{"name": "ema", "decay": 0.99}, [1, [2]], null], "none": []}}"#
    /// `show --json`'s params object for that line: every shape as given (keys sorted, lists compact).
    static let shown =
        #""params": {"amp": true, "cbs": [{"decay":0.99,"name":"ema"},[1,[2]],null], "dataset.augment": ["flip","crop"], "#
        + #""huge": 123456789012345678901234567890, "layers": [512,256], "lr": "0.10", "none": [], "optimizer.betas": [0.9,0.999], "#
        + #""optimizer.name": "adam", "scheduler": null, "seed": 9007199254740993, "tag": "007", "v": "1.10"}"#

    @Test func ingestShowAndFilterEveryShape() throws {
        let s = Scratch()
        let second = #"{"run": "t2", "params": {"dataset": {"augment": ["crop"]}, "layers": [128], "scheduler": "cosine"}}"#
        let r = try strata(["ingest"], input: Self.line + "\n" + second + "\n", store: s.store)
        #expect(r.code == 0, "\(r.err)")
        let show = try strata(["show", "t1", "--json"], store: s.store)
        #expect(show.out.contains(Self.shown), "\(show.out)")
        func names(_ filter: String) throws -> [String] {
            let out = try strata(["runs", "--where", filter, "--json"], store: s.store)
            #expect(out.code == 0, "\(filter): \(out.err)")
            return ["t1", "t2"].filter { out.out.contains(#""name": "\#($0)""#) }
        }
        #expect(try names(#"params.dataset.augment has "flip""#) == ["t1"])
        #expect(try names(#"params.dataset.augment has "crop""#) == ["t1", "t2"])
        #expect(try names("params.layers[0] == 512") == ["t1"])
        #expect(try names("len(params.layers) == 1") == ["t2"])
        #expect(try names("params.scheduler is null") == ["t1"])
        #expect(try names(#"params has "scheduler""#) == ["t1", "t2"])
        #expect(try names("params.huge == 123456789012345678901234567890") == ["t1"])
        #expect(try names("params.seed == 9007199254740993") == ["t1"])
        #expect(try names(#"params.lr == "0.10""#) == ["t1"])
        #expect(try names("params.lr == 0.1") == [])
    }

    @Test func limitErrorsNameTheRunAndKeyAndKeepWhatIsStored() throws {
        let s = Scratch()
        #expect(try strata(["ingest"], input: Self.line + "\n", store: s.store).code == 0)
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        let cases: [(String, String)] = [
            (#"{"run": "t1", "params": {"a": {"": 1}}}"#, #"line 1: run "t1": param key "a." has an empty path segment"#),
            (#"{"run": "t1", "params": {"x..y": 1}}"#, #"line 1: run "t1": param key "x..y" has an empty path segment"#),
            (#"{"run": "t9", "params": {"d": \#(deep)}}"#, #"line 1: run "t9": param d is nested 41 levels deep; the limit is 32"#),
            (
                #"{"run": "t1", "params": {"l": [\#(Array(repeating: "0", count: 10_001).joined(separator: ","))]}}"#,
                #"line 1: run "t1": param l has more than 10000 list elements"#
            )
        ]
        for (input, message) in cases {
            let r = try strata(["ingest"], input: input + "\n", store: s.store)
            #expect(r.code == 1)
            #expect(r.err.hasPrefix("strata: " + message), "\(r.err)")
        }
        let show = try strata(["show", "t1", "--json"], store: s.store)
        #expect(show.out.contains(Self.shown), "\(show.out)")
        #expect(try strata(["show", "t9"], store: s.store).code != 0)
    }

    @Test func parquetExportAndImportKeepEveryShape() throws {
        let s = Scratch()
        #expect(try strata(["ingest"], input: Self.line + "\n", store: s.store).code == 0)
        let out = s.sub("pq")
        let e = try strata(["export", "--format", "parquet", "--out", out], store: s.store)
        #expect(e.code == 0, "\(e.err)")
        let other = s.sub("other")
        let i = try strata(["import", "parquet", out], store: other)
        #expect(i.code == 0, "\(i.err)")
        let show = try strata(["show", "t1", "--json"], store: other)
        #expect(show.out.contains(Self.shown), "\(show.out)")
    }
}

@Suite struct ParamShapeImportTests {
    /// MLflow params stay text; a key Strata refuses (an empty path segment) is left out and
    /// counted instead of failing the import; a big integer's text compares exactly.
    @Test func mlflowParamsKeepTheirTextAndAKeyStrataRefusesIsSkipped() throws {
        let s = Scratch()
        let copy = s.sub("mlruns")
        try FileManager.default.copyItem(atPath: Fixture.dir + "/mlruns", toPath: copy)
        let fm = FileManager.default
        let exp = try fm.contentsOfDirectory(atPath: copy).first { $0 != "0" && !$0.hasPrefix(".") }!
        let runs = try fm.contentsOfDirectory(atPath: copy + "/" + exp).filter { !$0.hasSuffix(".yaml") }
        let run1 = try runs.first { try String(contentsOfFile: copy + "/\(exp)/\($0)/meta.yaml", encoding: .utf8).contains("mlflow-run-1") }!
        let params = copy + "/\(exp)/\(run1)/params/"
        try "123456789012345678901234567890".write(toFile: params + "seed", atomically: true, encoding: .utf8)
        try "0.5".write(toFile: params + "lr.", atomically: true, encoding: .utf8)
        try "[64, 32]".write(toFile: params + "layers", atomically: true, encoding: .utf8)

        let r = try strata(["import", "mlflow", copy], store: s.store)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.err.contains("1 params over Strata's limits"), "\(r.err)")
        let show = try strata(["show", "mlflow-run-1", "--json"], store: s.store)
        #expect(show.out.contains(#""layers": "[64, 32]""#), "\(show.out)")  // MLflow text stays text
        #expect(show.out.contains(#""seed": "123456789012345678901234567890""#), "\(show.out)")
        #expect(!show.out.contains(#""lr.""#))
        let found = try strata(["runs", "--where", "params.seed == 123456789012345678901234567890", "--columns", "name"], store: s.store)
        #expect(found.out.contains("mlflow-run-1"), "\(found.out)\(found.err)")
    }
}
