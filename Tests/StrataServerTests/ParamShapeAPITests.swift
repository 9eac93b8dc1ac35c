import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import StrataInterop
import Testing

@testable import StrataServer

/// Params of every JSON shape through the server: `/api/ingest` in, `/api/runs` out, filters.
@Suite struct ParamShapeAPITests {
    static let record =
        #"{"run": "t1", "params": {"optimizer": {"name": "adam", "betas": [0.9, 0.999]}, "dataset": {"augment": ["flip", "crop"]}, "#
        + #""layers": [512, 256], "scheduler": null, "amp": true, "seed": 9007199254740993, "huge": 123456789012345678901234567890, "#
        + #""lr": "0.10", "cbs": [{"name": "ema", "decay": 0.99}, [1, [2]], null]}}"#

    @Test func everyShapeRoundTripsThroughTheAPI() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(Self.record)) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            let params = try t.store.run("t1").params
            let expected: [String: ParamValue] = [
                "optimizer.name": "adam", "optimizer.betas": [0.9, 0.999], "dataset.augment": ["flip", "crop"], "layers": [512, 256],
                "scheduler": .null, "amp": true, "seed": .int(9_007_199_254_740_993), "huge": .bigInt("123456789012345678901234567890"),
                "lr": "0.10", "cbs": [.object(["name": "ema", "decay": 0.99]), [1, [2]], .null]
            ]
            #expect(params == expected)
            let filter = #"params.dataset.augment has "flip" and params.scheduler is null and params.layers[-1] == 256"#
            let uri = "/api/runs?where=" + filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            try await client.execute(uri: uri, method: .get) { r in
                #expect(r.status == .ok)
                let body = String(buffer: r.body)
                for piece in [
                    #""cbs":[{"decay":0.99,"name":"ema"},[1,[2]],null]"#, #""dataset.augment":["flip","crop"]"#,
                    #""huge":123456789012345678901234567890"#, #""lr":"0.10""#, #""scheduler":null"#, #""seed":9007199254740993"#
                ] {
                    #expect(body.contains(piece), "\(piece) in \(body)")
                }
            }
        }
    }

    @Test func overLimitParamsAreRefusedWholeNamingRunAndKey() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(Self.record)) { r in
                #expect(r.status == .ok)
            }
            let bad = #"[{"run": "t1", "params": {"ok": 1}}, {"run": "t1", "params": {"a": {"": [1]}}}]"#
            try await client.execute(uri: "/api/ingest", method: .post, headers: jsonType, body: buffer(bad)) { r in
                #expect(r.status == .badRequest)
                let body = String(buffer: r.body)
                #expect(body.contains(#"run \"t1\": params key \"a.\" has an empty path segment"#), "\(body)")
            }
            let params = try t.store.run("t1").params
            #expect(params["ok"] == nil)
            #expect(params["layers"] == [512, 256])
        }
    }
}

/// TensorBoard hparams values (google.protobuf.Value) of every kind, as params.
@Suite struct TensorBoardHParamValueTests {
    static func field(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] { [tag, UInt8(body.count)] + body }

    @Test func nullListsAndStructsAreKept() throws {
        let number: [UInt8] = [0x11] + withUnsafeBytes(of: (1.5).bitPattern.littleEndian, Array.init)
        let string: [UInt8] = Self.field(0x1A, Array("a".utf8))
        let null: [UInt8] = [0x08, 0x00]
        let bool: [UInt8] = [0x20, 0x01]
        let inner = Self.field(0x32, Self.field(0x0A, bool))  // list_value [true]
        let list = Self.field(0x32, [number, string, null, bool, inner].flatMap { Self.field(0x0A, $0) })
        #expect(try TensorBoardImporter.protobufValue(ProtoReader(list), depth: 0) == [1.5, "a", .null, true, [true]])
        #expect(try TensorBoardImporter.protobufValue(ProtoReader(null), depth: 0) == .null)
        // struct_value {fields: {"k": 1.5}}
        let entry = Self.field(0x0A, Array("k".utf8)) + Self.field(0x12, number)
        let object = Self.field(0x2A, Self.field(0x0A, entry))
        #expect(try TensorBoardImporter.protobufValue(ProtoReader(object), depth: 0) == .object(["k": 1.5]))
    }
}

/// The MLflow API keeps params as text, and refuses a key with an empty dot segment.
@Suite struct MLflowParamShapeTests {
    func post(_ client: some TestClientProtocol, _ path: String, _ body: String) async throws -> (Int, String) {
        try await client.execute(uri: MLflowAPI.prefixes[0] + path, method: .post, headers: jsonType, body: buffer(body)) {
            (Int($0.status.code), String(buffer: $0.body))
        }
    }

    @Test func paramsStayTextAndAnEmptySegmentIsRefused() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let (s0, created) = try await post(client, "runs/create", #"{"run_name": "ml"}"#)
            #expect(s0 == 200, "\(created)")
            let id = try t.store.run("ml").id.text
            let (s1, b1) = try await post(client, "runs/log-parameter", #"{"run_id": "\#(id)", "key": "layers", "value": "[64, 32]"}"#)
            #expect(s1 == 200, "\(b1)")
            let (s2, b2) = try await post(client, "runs/log-parameter", #"{"run_id": "\#(id)", "key": "lr.", "value": "0.1"}"#)
            #expect(s2 == 400 && b2.contains("INVALID_PARAMETER_VALUE") && b2.contains("empty path segment"), "\(b2)")
            let params = try t.store.run("ml").params
            #expect(params == ["layers": .text("[64, 32]")])
        }
    }
}
