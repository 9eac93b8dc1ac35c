import Strata
import StrataInterop

/// A request the server refuses: HTTP status, a sentence, and where in the input when known.
public struct APIError: Error, CustomStringConvertible, Sendable {
    public var status: Int
    public var message: String
    /// 0-based index of the offending record of an ingest batch.
    public var index: Int?
    /// The field (record key, `metrics.NAME`, or query parameter) at fault.
    public var field: String?

    public init(_ status: Int, _ message: String, index: Int? = nil, field: String? = nil) {
        self.status = status
        self.message = message
        self.index = index
        self.field = field
    }

    static func bad(_ message: String, field: String? = nil) -> APIError { APIError(400, message, field: field) }

    public var description: String { message }

    /// `{"error": {"status": 400, "message": "...", "index": 3, "field": "step"}}`
    var json: [UInt8] {
        var o = JSONOut()
        o.beginObject()
        o.key("error")
        o.beginObject()
        o.field("status", status)
        o.field("message", message)
        if let index { o.field("index", index) }
        if let field { o.field("field", field) }
        o.endObject()
        return o.endDocument()
    }
}
