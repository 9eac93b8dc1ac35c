import Foundation
import Hummingbird
import HummingbirdTesting
import Strata
import Testing

@testable import StrataServer

/// Run management, artifacts and deployments over HTTP (issue 15).
@Suite struct ManageAPITests {
    static let digest = String(repeating: "9e", count: 32)

    @Test func deleteRestoreArtifactsAndDeploymentsRoundTrip() async throws {
        let t = try TempStore()
        let app = StrataServer.buildApplication(store: t.store)
        try await app.test(.router) { client in
            let body = sampleBatch(runs: ["a", "b"], steps: 0..<10)
            try await client.execute(uri: "/api/ingest?sync=1", method: .post, headers: jsonType, body: buffer(body)) { r in #expect(r.status == .ok)
            }
            try await client.execute(uri: "/api/runs/a/delete", method: .post, headers: jsonType, body: buffer("{}")) { r in #expect(r.status == .ok)
            }
            try await client.execute(uri: "/api/runs", method: .get) { r in
                let names = (try json(r.body)["runs"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                #expect(names == ["b"])
            }
            try await client.execute(uri: "/api/runs/a", method: .get) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/api/curve?run=a&metric=train/loss", method: .get) { r in #expect(r.status == .notFound) }
            try await client.execute(uri: "/api/runs/a/restore", method: .post, headers: jsonType, body: buffer("{}")) { r in #expect(r.status == .ok)
            }
            try await client.execute(uri: "/api/runs/a", method: .get) { r in #expect(r.status == .ok) }
            let artifact = #"{"name": "model", "uri": "s3://m", "digest": "\#(Self.digest)", "size": 5, "step": 9}"#
            try await client.execute(uri: "/api/runs/a/artifacts", method: .post, headers: jsonType, body: buffer(artifact)) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body))")
            }
            let bad = #"{"name": "model", "uri": "s3://m", "digest": "123", "size": 5}"#
            try await client.execute(uri: "/api/runs/a/artifacts", method: .post, headers: jsonType, body: buffer(bad)) { r in
                #expect(r.status == .badRequest && String(buffer: r.body).contains("64 hexadecimal"), "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/artifacts?digest=\(Self.digest)", method: .get) { r in
                let list = try json(r.body)["artifacts"] as? [[String: Any]]
                #expect(list?.count == 1 && list?.first?["step"] as? Int == 9, "\(String(buffer: r.body))")
            }
            let deploy = #"{"artifact": "a:model", "environment": "prod", "at": 1000}"#
            try await client.execute(uri: "/api/deploy", method: .post, headers: jsonType, body: buffer(deploy)) { r in #expect(r.status == .ok) }
            try await client.execute(
                uri: "/api/deploy", method: .post, headers: jsonType, body: buffer(#"{"artifact": "a:model", "environment": ""}"#)
            ) { r in
                #expect(r.status == .badRequest && String(buffer: r.body).contains("environment"))
            }
            try await client.execute(uri: "/api/deployments?env=prod&at=2000", method: .get) { r in
                let list = try json(r.body)["deployments"] as? [[String: Any]]
                #expect(list?.first?["digest"] as? String == Self.digest, "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/api/deployments?env=prod&at=999", method: .get) { r in
                let list = try json(r.body)["deployments"] as? [Any]
                #expect(list?.isEmpty == true)
            }
        }
    }

    /// The write bodies are checked as docs/openapi.yaml types them (the HTTP fuzz pass sends
    /// wrong types): a field of the wrong type is a 400 naming it, never taken as its default,
    /// and nothing is written.
    @Test func wrongTypedFieldsAreRefused() async throws {
        let t = try TempStore()
        let run = try t.store.createRun(name: "a")
        let app = StrataServer.buildApplication(store: t.store)
        let d = Self.digest
        let cases: [(String, String, String)] = [
            ("/api/runs/a/artifacts", #"{"name": "m", "uri": "s3://m", "digest": "\#(d)", "size": 5, "kind": 7}"#, "kind"),
            ("/api/runs/a/artifacts", #"{"name": "m", "uri": "s3://m", "digest": "\#(d)", "size": 5.5}"#, "body"),
            ("/api/runs/a/artifacts", #"{"name": "m", "uri": "s3://m", "digest": "\#(d)", "size": 5, "step": "9"}"#, "step"),
            ("/api/runs/a/artifacts", #"{"name": "m", "uri": "s3://m", "digest": "\#(d)", "size": 5, "role": "sideways"}"#, "role"),
            ("/api/runs/a/tags", #"{"add": "x"}"#, "add"),
            ("/api/runs/a/note", #"{"text": "n", "purpose": "yes"}"#, "purpose"),
            ("/api/runs/a/rename", #"{"name": 3}"#, "name"),
            ("/api/runs/a/delete", #"[1]"#, "body"),
            ("/api/deploy", #"{"artifact": "a:m", "environment": "prod", "at": "soon"}"#, "at")
        ]
        // A non-integral number for an integer (size 5.5) is refused, but Foundation's decoder
        // does not say where: the field named is then "body".
        try await app.test(.router) { client in
            for (uri, body, field) in cases {
                try await client.execute(uri: uri, method: .post, headers: jsonType, body: buffer(body)) { r in
                    let error = (try? json(r.body))?["error"] as? [String: Any]
                    #expect(r.status == .badRequest && error?["field"] as? String == field, "\(uri) \(body): \(String(buffer: r.body))")
                }
            }
        }
        #expect(try t.store.artifacts(run: nil, digest: nil).isEmpty)
        let info = try t.store.run(run.id.text)
        #expect(info.tags.isEmpty && info.metadata["note"] == nil && info.name == "a")
        #expect(try t.store.runs().count == 1)
    }
}
