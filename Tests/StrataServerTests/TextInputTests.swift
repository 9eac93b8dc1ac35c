import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import Testing

@testable import StrataServer

/// Text the server must refuse rather than repair: invalid UTF-8 and lone surrogates (400 naming
/// the field, nothing stored), and numeric spellings outside the documented ones.
@Suite struct ServerTextInputTests {
    @Test func invalidTextIsRefusedNotRepaired() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
        let cases: [([UInt8], String)] = [
            (bytes(#"{"run": "a\ud800b", "step": 1, "metrics": {"m": 1}}"#), "run"),
            (bytes(#"{"run": "a\udc00", "step": 1, "metrics": {"m": 1}}"#), "run"),
            (bytes(#"{"run": "a\ud800\u0041", "step": 1, "metrics": {"m": 1}}"#), "run"),
            (bytes(#"{"run": "r", "step": 1, "metrics": {"m\udfff": 1}}"#), "metrics"),
            (bytes(#"{"run": "r", "tags": ["x\ud83d"]}"#), "tags"),
            (bytes(#"{"run": "r", "params": {"k\ud800": 1}}"#), "params"),
            (bytes(#"{"run": "r", "meta": {"k": "v\ud800"}}"#), "meta"),
            (bytes(#"{"run": "r"#) + [0xff] + bytes(#"", "step": 1, "metrics": {"m": 1}}"#), "run"),
            (bytes(#"{"run": "r", "step": 1, "metrics": {"m"#) + [0xc0, 0xaf] + bytes(#"": 1}}"#), "metrics"),
            (bytes(#"{"run": "r", "params": {"k": ""#) + [0xed, 0xa0, 0x80] + bytes(#""}}"#), "params"),
            (bytes(#"{"run": "r", "tags": [""#) + [0xe2, 0x82] + bytes(#""]}"#), "tags")
        ]
        try await app.test(.router) { client in
            for (body, field) in cases {
                try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: ByteBuffer(bytes: body)) { r in
                    #expect(r.status == .badRequest, "\(String(decoding: body, as: UTF8.self))")
                    let e = try json(r.body)["error"] as? [String: Any] ?? [:]
                    #expect(e["field"] as? String == field, "\(e)")
                    let m = e["message"] as? String ?? ""
                    #expect(m.contains("lone surrogate") || m.contains("invalid UTF-8"), "\(m)")
                }
            }
            #expect(try t.store.runs().isEmpty, "nothing stored")
            // A surrogate pair is a character, not an error.
            try await client.execute(
                uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(#"{"run": "smile\ud83d\ude00", "step": 1, "metrics": {"m": 1}}"#)
            ) { r in
                #expect(r.status == .ok)
            }
            #expect(try t.store.run("smile😀").name == "smile😀")
        }
    }

    @Test func metricValueSpellings() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        let good: [(String, Double)] = [
            ("1.5", 1.5), ("-0", -0.0), ("1e3", 1000), ("2.5E-3", 0.0025), ("0", 0), ("NaN", .nan), ("-inf", -.infinity), ("Infinity", .infinity)
        ]
        try await app.test(.router) { client in
            for text in ["0x10", "1_000", " 1", "1 ", "+0x1p3", "+1", ".5", "1.", "01", "1e", "--1", "", "Nan", "infinity", "0x1p3"] {
                let line = #"{"run": "r", "step": 1, "metrics": {"m": "\#(text)"}}"#
                try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(line)) { r in
                    #expect(r.status == .badRequest, "\"\(text)\" accepted")
                    let e = try json(r.body)["error"] as? [String: Any] ?? [:]
                    #expect(e["field"] as? String == "metrics.m", "\(e)")
                }
                try await client.execute(
                    uri: "/api/ingest", method: .post, headers: jsonType,
                    body: buffer(#"{"run": "r", "metric": "m", "step": 1, "value": "\#(text)"}"#)
                ) { r in
                    #expect(r.status == .badRequest, "value \"\(text)\" accepted")
                }
            }
            #expect(try t.store.runs().isEmpty)
            var body = ""
            for (i, (text, _)) in good.enumerated() { body += #"{"run": "r", "step": \#(i), "metrics": {"m": "\#(text)"}}"# + "\n" }
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(body)) { r in #expect(r.status == .ok) }
        }
        let id = try t.store.run("r").id
        let got = try t.store.points(id, "m").map(\.value.bitPattern)
        #expect(got == good.map(\.1.bitPattern))
    }
}
