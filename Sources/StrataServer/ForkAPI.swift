import Foundation
import Hummingbird
import NIOCore
import Strata
import StrataInterop

/// Forks and lineage in the HTTP API (docs/API.md, "Forks and lineage"): `POST /api/runs/{run}/fork`,
/// the `lineage=full|own` parameter of the read endpoints, and the lineage tree of a run.
extension API {
    /// The `lineage` query parameter: `full` (the default) or `own`.
    static func lineageOption(_ q: Query) throws(APIError) -> Lineage {
        guard let text = q.string("lineage"), !text.isEmpty else { return .full }
        guard let l = Lineage(rawValue: text) else {
            throw APIError.bad("lineage must be full or own, got \"\(text.prefix(40))\"", field: "lineage")
        }
        return l
    }

    /// `POST /api/runs/{run}/fork` with `{"at": STEP, "name": "…", "params": {…}}` (name and params
    /// optional): creates the fork and answers `{"id", "name", "parent", "fork_step"}` (201).
    func fork(_ request: Request, run parentName: String) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let decoded: ForkBody
        do { decoded = try JSONDecoder().decode(ForkBody.self, from: Data(buffer: body)) } catch {
            throw APIError.bad(
                "the body must be a JSON object {\"at\": STEP (an integer), \"name\": \"…\" (optional), \"params\": {…} (optional: strings, numbers, booleans)}",
                field: "body")
        }
        let step = decoded.at
        let name = decoded.name
        let params = (decoded.params ?? [:]).mapValues(\.value)
        let store = self.store
        return try await blocking {
            let parent = try store.run(parentName)
            let run = try store.fork(parent.id, atStep: step, name: name, params: params)
            try store.writeCreatedRuns()
            var o = JSONOut()
            o.beginObject()
            o.field("id", run.id.text)
            o.field("name", run.name)
            o.field("parent", parent.id.text)
            o.field("fork_step", step)
            return jsonResponse(o.endDocument(), status: .created)
        }
    }
}

/// The body of `POST /api/runs/{run}/fork`.
struct ForkBody: Decodable {
    var at: Int64
    var name: String?
    var params: [String: Param]?

    /// A param value: a boolean, an integer, a number or a string.
    struct Param: Decodable {
        var value: ParamValue
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) {
                value = .bool(b)
            } else if let i = try? c.decode(Int64.self) {
                value = .int(i)
            } else if let d = try? c.decode(Double.self) {
                value = .double(d)
            } else {
                value = .string(try c.decode(String.self))
            }
        }
    }
}

extension JSONOut {
    /// `"fork_step"` and `"lineage": {"ancestors": [{"id", "name", "step"}], "children": [...]}`
    /// of a run (ancestors nearest first; `step` null for a plain parent link).
    mutating func lineageFields(_ info: RunInfo, _ tree: Store.LineageTree) {
        field("fork_step", info.forkStep)
        key("lineage")
        beginObject()
        func links(_ name: String, _ list: [Store.LineageTree.Link]) {
            key(name)
            beginArray()
            for l in list {
                beginObject()
                field("id", l.run.text)
                field("name", l.name)
                field("step", l.step)
                endObject()
            }
            endArray()
        }
        links("ancestors", tree.ancestors)
        links("children", tree.children)
        endObject()
    }
}
