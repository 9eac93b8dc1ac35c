import Foundation
import Hummingbird
import NIOCore
import Strata
import StrataInterop

/// An error of the MLflow API as the MLflow client reads it: an HTTP status and
/// `{"error_code": "...", "message": "..."}` (docs/MLFLOW.md lists the codes used).
struct MLflowError: Error, HTTPResponseError, CustomStringConvertible {
    var code: String
    var message: String
    var httpStatus: Int

    init(_ code: String, _ message: String, status: Int = 400) {
        self.code = code
        self.message = message
        self.httpStatus = status
    }

    static func invalid(_ message: String) -> MLflowError { MLflowError("INVALID_PARAMETER_VALUE", message) }
    static func missing(_ field: String) -> MLflowError {
        MLflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter '\(field)'.")
    }
    static func notFound(_ message: String) -> MLflowError { MLflowError("RESOURCE_DOES_NOT_EXIST", message, status: 404) }

    /// What a handler threw, as the MLflow client expects it: Strata's own errors keep their
    /// message and get the MLflow code of their kind.
    init(_ thrown: any Error, maxBodyBytes: Int) {
        switch thrown {
        case let e as MLflowError: self = e
        case let e as StrataError:
            switch e.code {
            case .invalidArgument, .parse, .limitExceeded: self.init("INVALID_PARAMETER_VALUE", e.description)
            case .notFound: self.init("RESOURCE_DOES_NOT_EXIST", e.description, status: 404)
            case .closed: self.init("TEMPORARILY_UNAVAILABLE", e.description, status: 503)
            case .noSpace: self.init("INTERNAL_ERROR", e.description, status: 507)
            default: self.init("INTERNAL_ERROR", e.description, status: 500)
            }
        case let e as APIError: self.init(MLflowError.code(status: e.status), e.message, status: e.status)
        case let e as APIFailure: self.init(MLflowError.code(status: e.error.status), e.error.message, status: e.error.status)
        case is NIOTooManyBytesError:
            self.init("REQUEST_LIMIT_EXCEEDED", "request body is larger than the limit of \(maxBodyBytes) bytes", status: 413)
        default: self.init("INTERNAL_ERROR", "internal error: \(thrown)", status: 500)
        }
    }

    /// The MLflow error code of an HTTP status (for refusals made before an MLflow handler runs).
    static func code(status: Int) -> String {
        switch status {
        case 401: return "UNAUTHENTICATED"
        case 403: return "PERMISSION_DENIED"
        case 404: return "RESOURCE_DOES_NOT_EXIST"
        case 413: return "REQUEST_LIMIT_EXCEEDED"
        case 400..<500: return "INVALID_PARAMETER_VALUE"
        case 503: return "TEMPORARILY_UNAVAILABLE"
        default: return "INTERNAL_ERROR"
        }
    }

    var description: String { "\(code): \(message)" }
    var status: HTTPResponse.Status { .init(code: httpStatus) }

    var json: [UInt8] {
        var o = JSONOut()
        o.beginObject()
        o.field("error_code", code)
        o.field("message", message)
        o.endObject()
        o.bytes.append(10)
        return o.bytes
    }

    func response(from request: Request, context: some RequestContext) throws -> Response { response }

    var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if httpStatus == 401 { headers[.wwwAuthenticate] = "Bearer realm=\"strata\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}

/// The fields of an MLflow request: the JSON body of a POST, or the query string of a GET (where
/// a repeated parameter is a list). Field errors are MLflow's `INVALID_PARAMETER_VALUE`.
struct MLflowRequest {
    /// Every field in order; a JSON array is kept as one entry, a repeated query parameter as several.
    let fields: [(String, JSONValue)]

    static func read(_ request: Request, maxBodyBytes: Int) async throws -> MLflowRequest {
        if request.method == .get || request.method == .head {
            return MLflowRequest(fields: try formFields(request.uri.query ?? ""))
        }
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let bytes = Array(buffer: body)
        if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) { return MLflowRequest(fields: []) }
        let value: JSONValue
        do { value = try JSONValue.parse(line: bytes[...]) } catch {
            throw MLflowError("MALFORMED_REQUEST", "malformed JSON request body at byte \(error.offset): \(error.message)")
        }
        guard case .object(let kv) = value else {
            throw MLflowError("MALFORMED_REQUEST", "the request body must be a JSON object, got \(value.brief)")
        }
        return MLflowRequest(fields: kv)
    }

    /// The fields of a query string as MLflow's clients write it (HTML form encoding, what Python's
    /// `requests` sends and MLflow's server reads): `+` is a space, `%XX` a byte.
    static func formFields(_ query: String) throws(MLflowError) -> [(String, JSONValue)] {
        var out: [(String, JSONValue)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) throws(MLflowError) -> String {
                guard let d = s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw MLflowError("MALFORMED_REQUEST", "malformed percent-escape in the query string: \"\(s.prefix(100))\"")
                }
                return d
            }
            out.append((try decode(kv[0]), .string(kv.count == 2 ? try decode(kv[1]) : "")))
        }
        return out
    }

    func value(_ key: String) -> JSONValue? {
        for (k, v) in fields where k == key {
            if case .null = v { continue }
            return v
        }
        return nil
    }

    /// A text field (a number is taken as its text, as protobuf's JSON reader does for strings it expects).
    func string(_ key: String) throws(MLflowError) -> String? {
        guard let v = value(key) else { return nil }
        switch v {
        case .string(let s): return s
        case .number(_, let i?): return String(i)
        default: throw .invalid("Invalid value \(v.brief) for parameter '\(key)': it must be a string.")
        }
    }

    func require(_ key: String) throws(MLflowError) -> String {
        guard let s = try string(key), !s.isEmpty else { throw .missing(key) }
        return s
    }

    /// The run id of a run request: `run_id`, or the older `run_uuid`.
    func runId() throws(MLflowError) -> String {
        if let s = try string("run_id"), !s.isEmpty { return s }
        if let s = try string("run_uuid"), !s.isEmpty { return s }
        throw .missing("run_id")
    }

    /// An int64 field: a JSON integer, or its decimal text (protobuf's JSON form of int64).
    func int(_ key: String) throws(MLflowError) -> Int64? {
        guard let v = value(key) else { return nil }
        return try MLflowRequest.int(v, key)
    }

    static func int(_ v: JSONValue, _ key: String) throws(MLflowError) -> Int64 {
        switch v {
        case .number(_, let i?): return i
        case .number(let d, nil) where d == d.rounded() && abs(d) < 9.2e18: return Int64(d)
        case .string(let s):
            if let i = Int64(s.trimmingCharacters(in: .whitespaces)) { return i }
        default: break
        }
        throw .invalid("Invalid value \(v.brief) for parameter '\(key)': it must be an integer.")
    }

    /// A double field: a JSON number or `"NaN"`, `"Infinity"`, `"-Infinity"` (protobuf's JSON form),
    /// or a number's text.
    static func double(_ v: JSONValue, _ key: String) throws(MLflowError) -> Double {
        switch v {
        case .number(let d, _): return d
        case .string(let s):
            switch s {
            case "NaN", "nan": return .nan
            case "Infinity", "inf": return .infinity
            case "-Infinity", "-inf": return -.infinity
            default: if let d = Double(s) { return d }
            }
        default: break
        }
        throw .invalid("Invalid value \(v.brief) for parameter '\(key)': it must be a number.")
    }

    /// A list field: a JSON array, or the values of a repeated query parameter.
    func list(_ key: String) -> [JSONValue] {
        var out: [JSONValue] = []
        for (k, v) in fields where k == key {
            if case .array(let a) = v { out += a } else if case .null = v {} else { out.append(v) }
        }
        return out
    }

    func strings(_ key: String) throws(MLflowError) -> [String] {
        var out: [String] = []
        for v in list(key) {
            switch v {
            case .string(let s): out.append(s)
            case .number(_, let i?): out.append(String(i))
            default: throw .invalid("Invalid value \(v.brief) in list '\(key)': it must hold strings.")
            }
        }
        return out
    }

    /// `{"key": ..., "value": ...}` entries (tags, params).
    func keyValues(_ key: String) throws(MLflowError) -> [(String, String)] {
        try list(key).map { v throws(MLflowError) in try MLflowRequest.keyValue(v, key) }
    }

    static func keyValue(_ v: JSONValue, _ list: String) throws(MLflowError) -> (String, String) {
        guard case .object = v else { throw .invalid("Invalid value \(v.brief) in '\(list)': each entry must be an object with key and value.") }
        guard case .string(let k)? = v["key"], !k.isEmpty else { throw .missing("\(list).key") }
        let value: String
        switch v["value"] {
        case .string(let s)?: value = s
        case .number(_, let i?)?: value = String(i)
        case .number(let d, nil)?: value = "\(d)"
        case .bool(let b)?: value = b ? "true" : "false"
        case nil, .null?: value = ""
        default: throw .invalid("Invalid value for '\(list)' entry \"\(k.prefix(60))\": the value must be a string.")
        }
        return (k, value)
    }
}

extension JSONValue {
    /// A short description of a value for error messages.
    var brief: String {
        let t = text
        return t.count > 60 ? String(t.prefix(60)) + "…" : t
    }
}

/// The `{...}` JSON answer of an MLflow endpoint.
func mlflowResponse(_ build: (inout JSONOut) -> Void) -> Response {
    var o = JSONOut()
    o.beginObject()
    build(&o)
    o.endObject()
    o.bytes.append(10)
    return jsonResponse(o.bytes)
}
