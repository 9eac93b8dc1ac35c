import Foundation
import Testing

@testable import Strata

/// Every param shape real configs have (Hydra, W&B, MLflow), as the library stores them.
let everyShape: [String: ParamValue] = [
    "optimizer.name": "adam",
    "optimizer.betas": [0.9, 0.999],
    "dataset.augment": ["flip", "crop"],
    "model.layers": [512, 256, 10],
    "grid": [[1, 2], [3], []],
    "callbacks": [.object(["name": "ema", "decay": 0.99, "on": true]), .object([:]), .null],
    "scheduler": .null,
    "amp": true,
    "epochs": 30,
    "seed": .int(9_007_199_254_740_993),  // 2^53 + 1
    "huge": .bigInt("123456789012345678901234567890"),
    "tiny": .bigInt("-99999999999999999999"),
    "lr": "0.10",
    "tag": "007",
    "version": "1.10",
    "mlflow.lr": .text("0.10"),
    "weird": ["quote \" back\\slash \u{1} tab\t", .double(3), .bigInt("18446744073709551616")],
    "empty": []
]

@Suite("Params of any JSON shape")
struct ParamShapeTests {
    @Test func everyShapeRoundTripsThroughTheCatalog() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "shapes", params: everyShape, metadata: ["cfg.layers": [1, 2], "cfg.none": .null])
        try run.setParams(["later": [true, false], "scheduler": .null, "nan": [.double(.nan)]])
        try store.close()

        let again = try Store.open(at: dir.sub("s"))
        let info = try again.run("shapes")
        var expected = everyShape
        expected["later"] = [true, false]
        #expect(info.params.filter { $0.key != "nan" } == expected)
        #expect(info.metadata["cfg.layers"] == [1, 2])
        #expect(info.metadata["cfg.none"] == .null)
        #expect(info.params["absent"] == nil)
        // A NaN inside a list reads back as NaN (NaN != NaN, so not compared with ==).
        guard case .list(let nan)? = info.params["nan"], case .double(let d) = nan[0] else {
            Issue.record("nan is not a list of a double")
            return
        }
        #expect(d.isNaN)
        try again.close()
    }

    @Test func jsonTextIsCompactAndTyped() {
        #expect(ParamValue.list([512, 256]).json == "[512,256]")
        #expect(ParamValue.list([3.0, 0.5, "a\"b", .null, true]).json == #"[3.0,0.5,"a\"b",null,true]"#)
        #expect(ParamValue.object(["z": 1, "a": [.bigInt("123456789012345678901")]]).json == #"{"a":[123456789012345678901],"z":1}"#)
        #expect(ParamValue.list([.double(.infinity)]).json == #"["Infinity"]"#)
        #expect(ParamValue.null.description == "null")
        #expect(ParamValue.bigInt("-99999999999999999999").description == "-99999999999999999999")
        #expect(ParamValue.string("0.10").json == "\"0.10\"")
        #expect(ParamValue.list(["\u{1}\u{7f}"]).json == #"["\u0001\u007f"]"#)
    }

    @Test func bigIntegersAreOnlyIntegersBeyondInt64() {
        #expect(ParamValue.bigInteger("9223372036854775807") == nil)
        #expect(ParamValue.bigInteger("9223372036854775808") == .bigInt("9223372036854775808"))
        #expect(ParamValue.bigInteger("-9223372036854775808") == nil)
        #expect(ParamValue.bigInteger("-9223372036854775809") == .bigInt("-9223372036854775809"))
        #expect(ParamValue.bigInteger("09223372036854775808") == nil)
        #expect(ParamValue.bigInteger("1e30") == nil)
        #expect(ParamValue.text("123456789012345678901234567890").typed == .bigInt("123456789012345678901234567890"))
    }

    /// The params encoding of types 1–5, byte for byte as the format before lists and null
    /// wrote it: the reader still reads it to the same values, and the writer still writes it.
    @Test func paramsWrittenByThePreviousFormatReadTheSame() throws {
        // varint 5 entries, sorted keys: "a" string "x"; "b" int 7; "c" double 0.5; "d" bool true; "e" text "0.10"
        let old: [UInt8] =
            [5]
            + [1, 0x61, 1, 1, 0x78]
            + [1, 0x62, 2, 7, 0, 0, 0, 0, 0, 0, 0]
            + [1, 0x63, 3, 0, 0, 0, 0, 0, 0, 0xE0, 0x3F]
            + [1, 0x64, 4, 1]
            + [1, 0x65, 5, 4, 0x30, 0x2E, 0x31, 0x30]
        let expected: [String: ParamValue] = ["a": "x", "b": 7, "c": 0.5, "d": true, "e": .text("0.10")]
        let read = try ByteView.with(old) { (v) throws(StrataError) -> [String: ParamValue] in
            var r = ByteReader(v, path: "catalog.log")
            let p = try ParamCoding.read(&r)
            #expect(r.isAtEnd)
            return p
        }
        #expect(read == expected)
        var w = ByteWriter()
        ParamCoding.write(expected, into: &w)
        #expect(w.bytes == old)
    }

    @Test func newTypesHaveTheDocumentedBytes() throws {
        var w = ByteWriter()
        ParamCoding.write(["k": [.null, .bigInt("99999999999999999999"), .object(["a": 1])]], into: &w)
        let expected: [UInt8] =
            [1, 1, 0x6B, 7, 3, 6, 9, 20] + Array("99999999999999999999".utf8) + [8, 1, 1, 0x61, 2, 1, 0, 0, 0, 0, 0, 0, 0]
        #expect(w.bytes == expected)
    }

    @Test func damagedNewTypesAreDamageNotACrash() throws {
        // A list nested deeper than any writer makes, and a big integer that is not one.
        var deep: [UInt8] = [1, 1, 0x6B]
        for _ in 0..<100 { deep += [7, 1] }
        deep += [6]
        let bad: [UInt8] = [1, 1, 0x6B, 9, 2, 0x31, 0x78]
        for bytes in [deep, bad] {
            #expect(throws: StrataError.self) {
                try ByteView.with(bytes) { (v) throws(StrataError) in
                    var r = ByteReader(v, path: "catalog.log")
                    _ = try ParamCoding.read(&r)
                }
            }
        }
    }

    /// A small integer under the big-integer tag (which the write check now refuses, and earlier
    /// versions could write) reads back as the integer, not as damage that hides the run.
    @Test func smallIntegerUnderTheBigTagReadsAsAnInteger() throws {
        let small: [UInt8] = [1, 1, 0x6B, 9, 2, 0x31, 0x32]
        let params = try ByteView.with(small) { (v) throws(StrataError) in
            var r = ByteReader(v, path: "catalog.log")
            return try ParamCoding.read(&r)
        }
        #expect(params == ["k": .int(12)])
    }

    // MARK: limits

    private func invalid(_ message: Substring, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("no error; expected one containing \(message)", sourceLocation: sourceLocation)
        } catch let e as StrataError {
            #expect(e.code == .invalidArgument, sourceLocation: sourceLocation)
            #expect(e.message.contains(message), "\(e.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func limitsNameTheRunAndTheKeyAndLoseNothing() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        let run = try store.createRun(name: "trial-3", params: ["lr": 0.1, "aug": ["flip"]])
        var deep: ParamValue = 1
        for _ in 0..<Limits.maxParamDepth { deep = [deep] }
        invalid(#"run "trial-3": param deep is nested 33 levels deep; the limit is 32"#) { try run.setParams(["deep": deep]) }
        // A flattened key counts its segments: 31 segments + a list is the limit, one more is over.
        let longKey = (0..<31).map { "k\($0)" }.joined(separator: ".")
        try run.setParams([longKey: [1]])
        invalid("is nested 33 levels deep") { try run.setParams([longKey: [[1]]]) }
        for key in ["a..b", ".a", "a.", "."] {
            invalid(#"run "trial-3": param key "\#(key)" has an empty path segment"#) { try run.setParams([key: 1]) }
        }
        invalid(#"run "trial-3": param big has more than 10000 list elements"#) {
            try run.setParams(["big": .list(Array(repeating: [1, 2], count: 5_000))])
        }
        try run.setParams(["ok": .list(Array(repeating: 1, count: Limits.maxListElements))])
        invalid(#"run "trial-3": param s is 65537 bytes"#) {
            try run.setParams(["s": [.string(String(repeating: "x", count: Limits.maxStringValueBytes + 1))]])
        }
        invalid("has an object key") { try run.setParams(["o": [.object(["": 1])]]) }
        invalid(#"run "fresh": param key "a..b""#) { _ = try store.createRun(name: "fresh", params: ["a..b": 1]) }
        invalid(#"run "trial-3": metadata key "m.""#) { try run.setMetadata(["m.": 1]) }
        // `.bigInt` holding an integer that fits 64 bits (or no integer) is refused: written, it
        // could not be read back, and the run record would be lost.
        invalid(#"run "fresh": param big is .bigInt("9007199254740995")"#) {
            _ = try store.createRun(name: "fresh", params: ["big": .bigInt("9007199254740995")])
        }
        invalid(#"run "trial-3": param l is .bigInt("1e30")"#) { try run.setParams(["l": [.bigInt("1e30")]]) }
        try store.close()

        let again = try Store.open(at: dir.sub("s"))
        let info = try again.run("trial-3")
        #expect(info.params["lr"] == 0.1)
        #expect(info.params["aug"] == ["flip"])
        #expect(info.params[longKey] == [1])
        #expect(info.params["ok"] == .list(Array(repeating: 1, count: Limits.maxListElements)))
        #expect(Set(info.params.keys) == ["lr", "aug", longKey, "ok"])
        #expect(try again.runs().map(\.name) == ["trial-3"])
    }

    @Test func flattenedTreesKeepListsAndNull() {
        let flat = ParamTree.flatten([
            "optimizer": .nested(["name": .value("adam"), "betas": .value([0.9, 0.999])]),
            "scheduler": .value(.null)
        ])
        #expect(flat == ["optimizer.name": "adam", "optimizer.betas": [0.9, 0.999], "scheduler": .null])
    }
}

@Suite("Filters on lists, elements and null")
struct ParamFilterTests {
    static func run(_ params: [String: ParamValue]) -> FilterContext {
        let info = RunInfo(
            id: RunID("01HZZZZZZZZZZZZZZZZZZZZZZZ")!, name: "r", project: "p", status: .finished, createdMs: 1, endedMs: 2,
            params: params, tags: [], metadata: ["cfg.sizes": [1, 2]], parent: nil, rewinds: [])
        return FilterContext(run: info, metric: { _ in nil })
    }
    static var shapes: FilterContext { run(everyShape) }

    func eval(_ text: String, _ c: FilterContext = shapes, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        do { return try Filter(text).matches(c) } catch {
            Issue.record("parse error for \(text): \(error)", sourceLocation: sourceLocation)
            return false
        }
    }

    @Test func listMembership() {
        #expect(eval(#"params.dataset.augment has "flip""#))
        #expect(!eval(#"params.dataset.augment has "blur""#))
        #expect(eval("params.model.layers has 256"))
        #expect(eval("params.model.layers has 256.0"))  // numbers compare as numbers
        #expect(!eval(#"params.model.layers has "256""#))  // different types never match
        #expect(!eval(#"params.optimizer.name has "adam""#))  // not a list
        #expect(!eval(#"params.missing has "x""#))
        #expect(eval(#"not params.missing has "x""#))
        #expect(eval("meta.cfg.sizes has 2"))
        #expect(eval(#"params["dataset.augment"] has "crop""#))
    }

    @Test func elementsAndLength() {
        #expect(eval("params.model.layers[0] == 512"))
        #expect(eval("params.model.layers[-1] == 10"))
        #expect(eval("params.model.layers[1] < 300 and params.model.layers[1] > 200"))
        #expect(!eval("params.model.layers[3] == 10"))  // out of range: missing
        #expect(!eval("params.model.layers[-4] >= 0"))
        #expect(eval("params.grid[0][1] == 2"))
        #expect(eval("len(params.grid) == 3 and len(params.grid[2]) == 0"))
        #expect(eval("len(params.model.layers) >= 3"))
        #expect(!eval("len(params.optimizer.name) >= 0"))  // not a list: missing
        #expect(!eval("len(params.missing) == 0"))
        #expect(eval("params.optimizer.betas[1] == 0.999"))
        #expect(eval("params.callbacks[2] is null"))
        #expect(!eval("params.model.layers == 512"))  // a list is not its element
    }

    @Test func nullIsDistinctFromAbsent() {
        #expect(eval("params.scheduler is null"))
        #expect(!eval("params.scheduler is not null"))
        #expect(!eval("params.missing is null"))
        #expect(eval("params.missing is not null"))  // exactly not (… is null), like not in
        #expect(eval(#"params has "scheduler""#))
        #expect(!eval(#"params has "missing""#))
        #expect(!eval("params.scheduler == 0") && !eval("params.scheduler != 0"))
        #expect(!eval("params.epochs is null") && eval("params.epochs is not null"))
    }

    @Test func numericLookingStringsAndBigIntegers() {
        #expect(eval(#"params.lr == "0.10""#))
        #expect(!eval("params.lr == 0.1"))  // a string that looks like a number stays a string
        #expect(eval(#"params.tag == "007""#) && !eval("params.tag == 7"))
        #expect(eval("params.mlflow.lr == 0.1"))  // text from another tool compares as what it spells
        #expect(eval("params.seed == 9007199254740993") && !eval("params.seed == 9007199254740992"))
        #expect(eval("params.huge == 123456789012345678901234567890"))
        #expect(!eval("params.huge == 123456789012345678901234567891"))
        #expect(eval("params.huge > 9223372036854775807 and params.huge < 1234567890123456789012345678901"))
        #expect(eval("params.tiny < -9223372036854775808"))
        #expect(eval("params.huge > 1e29 and params.huge < 1e30"))
        #expect(eval("params.weird[-1] == 18446744073709551616"))
    }

    @Test func canonicalTextRoundTrips() throws {
        for text in [
            #"params.dataset.augment has "flip""#, "params.layers[0] == 512", "params.grid[-1][2] != 3",
            "len(params.layers) > 2", "params.x is null", "params.x is not null", #"params["a b"][1] has 1"#,
            "len(meta.cfg.sizes) == 2", "params.huge == 123456789012345678901234567890"
        ] {
            let f = try Filter(text)
            #expect(f.description == text)
            #expect(try Filter(f.description).description == text)
        }
        #expect(try Filter("params.X IS NOT NULL").description == "params.X is not null")
    }

    @Test func errorsSayWhatAndWhere() {
        let cases: [(String, Int, String)] = [
            ("params.x == null", 12, "write 'is null'"),
            ("params.x is 3", 12, "expected 'null' after 'is'"),
            ("params.x[a] == 1", 9, "expected an integer index after '['"),
            ("params.x[1 == 1", 11, "expected ']' to close '[' at position 8"),
            ("len params.x", 4, "expected '(' after len"),
            ("len(status) > 1", 4, "expected params.<key> or meta.<key>"),
            ("status has \"x\"", 7, "'has' applies to tags, params and meta"),
            ("name is null", 5, "'is null' applies to params and meta")
        ]
        for (text, position, message) in cases {
            do {
                _ = try Filter(text)
                Issue.record("no error for \(text)")
            } catch {
                #expect(error.code == .parse)
                #expect(error.offset == position, "\(text): \(error)")
                #expect(error.message.contains(message), "\(text): \(error.message)")
            }
        }
    }
}
