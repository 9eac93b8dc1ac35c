import Foundation
import Hummingbird
import NIOCore
import Strata
import StrataInterop

// Run management, artifacts and deployments over HTTP (issue 15; docs/API.md, "Run management").

extension API {
    /// The body of a management write (at most 1 MiB) decoded strictly: a field of the wrong
    /// type is a 400 naming it, never silently taken as its default. An empty body is `{}`.
    func manageBody<T: Decodable>(_ request: Request, _ type: T.Type, shape: String) async throws -> T {
        var request = request
        let body = try await request.collectBody(upTo: min(maxBodyBytes, 1 << 20))
        let bytes = body.readableBytes == 0 ? Data("{}".utf8) : Data(buffer: body)
        do { return try JSONDecoder().decode(T.self, from: bytes) } catch {
            let field = (error as? DecodingError).flatMap(ManageBodies.field) ?? "body"
            throw APIError.bad("the body must be a JSON object \(shape) (bad field \"\(field)\")", field: field)
        }
    }

    /// POST /api/runs/{run}/{action}: delete, restore, rename, move, tags, note, artifacts.
    func manage(_ request: Request, run: String, action: String) async throws -> Response {
        let store = self.store
        let info: RunInfo
        switch action {
        case "delete":
            _ = try await manageBody(request, ManageBodies.Empty.self, shape: "{}")
            info = try store.deleteRun(run)
        case "restore":
            _ = try await manageBody(request, ManageBodies.Empty.self, shape: "{}")
            info = try store.restoreRun(run)
        case "rename": info = try store.renameRun(run, to: try await manageBody(request, ManageBodies.Rename.self, shape: #"{"name": "…"}"#).name)
        case "move":
            info = try store.moveRun(run, toProject: try await manageBody(request, ManageBodies.Move.self, shape: #"{"project": "…"}"#).project)
        case "tags":
            let b = try await manageBody(request, ManageBodies.Tags.self, shape: #"{"add": ["…"], "remove": ["…"]}"#)
            info = try store.tagRun(run, add: b.add ?? [], remove: b.remove ?? [])
        case "note":
            let b = try await manageBody(request, ManageBodies.Note.self, shape: #"{"text": "…", "purpose": false}"#)
            info = try store.annotateRun(run, b.text, purpose: b.purpose ?? false)
        case "artifacts":
            let b = try await manageBody(
                request, ManageBodies.LogArtifact.self,
                shape: #"{"name", "uri", "digest": strings, "size": integer, "kind": string, "role": "output"|"input", "step": integer}"#)
            let role: Artifact.Role
            if let text = b.role {
                guard let r = Artifact.Role(rawValue: text) else { throw APIError.bad("role must be \"output\" or \"input\"", field: "role") }
                role = r
            } else {
                role = .output
            }
            let a = try store.logArtifact(
                run: run, name: b.name, uri: b.uri, digest: b.digest, size: b.size, kind: b.kind ?? "model", role: role, step: b.step)
            return jsonResponse(Array(ManageJSON.artifacts([a]).utf8))
        default: throw APIError(404, "no action \"\(action.prefix(40))\" on runs (delete, restore, rename, move, tags, note, artifacts)")
        }
        var o = JSONOut()
        o.beginObject()
        o.runFields(info)
        return jsonResponse(o.endDocument())
    }

    /// GET /api/artifacts?run=&digest=
    func artifacts(_ request: Request) async throws -> Response {
        let q = Query(request)
        let list = try store.artifacts(run: q.string("run"), digest: q.string("digest"))
        return jsonResponse(Array(ManageJSON.artifacts(list).utf8))
    }

    /// POST /api/deploy {"artifact", "environment", "at"}
    func deploy(_ request: Request) async throws -> Response {
        let b = try await manageBody(request, ManageBodies.Deploy.self, shape: #"{"artifact": "…", "environment": "…", "at": integer}"#)
        let d = try store.deploy(artifact: b.artifact, environment: b.environment, at: b.at)
        return jsonResponse(Array(ManageJSON.deployments([d]).utf8))
    }

    /// GET /api/deployments?env=&where=&at=
    func deployments(_ request: Request) async throws -> Response {
        let q = Query(request)
        let list: [Deployment]
        if let at = try q.int("at") {
            let env = try q.require("env")
            list = try store.deployment(environment: env, at: at).map { [$0] } ?? []
        } else {
            list = try store.deployments(environment: q.string("env"), where: try q.filter())
        }
        return jsonResponse(Array(ManageJSON.deployments(list).utf8))
    }
}

/// The bodies of the management writes (docs/openapi.yaml).
enum ManageBodies {
    /// A JSON object whose fields are ignored (not an array, a number or a string).
    struct Empty: Decodable {
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: AnyKey.self) }
    }
    struct Rename: Decodable { var name: String }
    struct Move: Decodable { var project: String }
    struct Tags: Decodable {
        var add: [String]?
        var remove: [String]?
    }
    struct Note: Decodable {
        var text: String
        var purpose: Bool?
    }
    struct LogArtifact: Decodable {
        var name: String
        var uri: String
        var digest: String
        var size: Int64
        var kind: String?
        var role: String?
        var step: Int64?
    }
    struct Deploy: Decodable {
        var artifact: String
        var environment: String
        var at: Int64?
    }

    /// The field a decoding error is about.
    static func field(_ error: DecodingError) -> String? {
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return c.codingPath.first?.stringValue
        case .keyNotFound(let k, _): return k.stringValue
        default: return nil
        }
    }
}

enum ManageJSON {
    static func artifacts(_ list: [Artifact]) -> String {
        let items = list.map { a in
            "{\"run\": \(jsonString(a.run.text)), \"name\": \(jsonString(a.name)), \"uri\": \(jsonString(a.uri)), \"digest\": \(jsonString(a.digest)), "
                + "\"size\": \(a.size), \"kind\": \(jsonString(a.kind)), \"role\": \(jsonString(a.role.rawValue)), \"step\": \(a.step.map(String.init) ?? "null"), \"logged\": \(a.loggedMs)}"
        }
        return "{\"artifacts\": [" + items.joined(separator: ", ") + "]}"
    }

    static func deployments(_ list: [Deployment]) -> String {
        let items = list.map { d in
            "{\"run\": \(jsonString(d.run.text)), \"artifact\": \(jsonString(d.artifact)), \"digest\": \(jsonString(d.digest)), "
                + "\"environment\": \(jsonString(d.environment)), \"at\": \(d.atMs), \"recorded\": \(d.recordedMs)}"
        }
        return "{\"deployments\": [" + items.joined(separator: ", ") + "]}"
    }
}
