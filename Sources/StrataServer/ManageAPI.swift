import Foundation
import Hummingbird
import NIOCore
import Strata
import StrataInterop

// Run management, artifacts and deployments over HTTP (issue 15; docs/API.md, "Run management").

extension API {
    /// The JSON object of a small write body (at most 1 MiB).
    func jsonBody(_ request: Request) async throws -> [String: Any] {
        var request = request
        let body = try await request.collectBody(upTo: min(maxBodyBytes, 1 << 20))
        let bytes = Array(buffer: body)
        if bytes.isEmpty { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw APIError.bad("request body must be a JSON object", field: "body")
        }
        return object
    }

    static func text(_ body: [String: Any], _ k: String) throws(APIError) -> String {
        guard let v = body[k] as? String else { throw APIError.bad("field \"\(k)\" (a string) is missing", field: k) }
        return v
    }

    /// POST /api/runs/{run}/{action}: delete, restore, rename, move, tags, note, artifacts.
    func manage(_ request: Request, run: String, action: String) async throws -> Response {
        let body = try await jsonBody(request)
        let store = self.store
        let info: RunInfo
        switch action {
        case "delete": info = try store.deleteRun(run)
        case "restore": info = try store.restoreRun(run)
        case "rename": info = try store.renameRun(run, to: try API.text(body, "name"))
        case "move": info = try store.moveRun(run, toProject: try API.text(body, "project"))
        case "tags": info = try store.tagRun(run, add: body["add"] as? [String] ?? [], remove: body["remove"] as? [String] ?? [])
        case "note": info = try store.annotateRun(run, try API.text(body, "text"), purpose: body["purpose"] as? Bool ?? false)
        case "artifacts":
            guard let size = (body["size"] as? NSNumber)?.int64Value else {
                throw APIError.bad("field \"size\" (an integer) is missing", field: "size")
            }
            let role = (body["role"] as? String).flatMap(Artifact.Role.init(rawValue:)) ?? .output
            let a = try store.logArtifact(
                run: run, name: try API.text(body, "name"), uri: try API.text(body, "uri"), digest: try API.text(body, "digest"), size: size,
                kind: body["kind"] as? String ?? "model", role: role, step: (body["step"] as? NSNumber)?.int64Value)
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
        let body = try await jsonBody(request)
        let d = try store.deploy(
            artifact: try API.text(body, "artifact"), environment: try API.text(body, "environment"), at: (body["at"] as? NSNumber)?.int64Value)
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
