/// A problem with input read by an importer, an ingester or a format reader: one sentence saying
/// what is wrong and where (the caller adds what it knows, e.g. the line number).
public struct InteropError: Error, CustomStringConvertible, Sendable {
    /// The sentence.
    public var message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
