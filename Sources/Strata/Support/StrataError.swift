import StrataCodecs

/// An error thrown by Strata: what went wrong, and where.
///
/// Match on ``code`` to react to a kind of failure; show ``description`` to a person.
/// Messages name the file, offset, line or argument involved, never the data points.
///
/// ```swift
/// do { try store.log(run, ["": 1], step: 0) }
/// catch let error as StrataError where error.code == .invalidArgument { print(error) }
/// ```
public struct StrataError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// A name, value or argument given by the caller is not acceptable.
        case invalidArgument
        /// The run, series or file asked for does not exist.
        case notFound
        /// Bytes on disk are damaged (checksum mismatch, truncation, impossible field).
        case corrupt
        /// The store or file was written by a newer, unknown format version.
        case unsupportedVersion
        /// The path exists but is not a Strata store.
        case notAStore
        /// A system call failed (see ``errno``).
        case io
        /// The disk (or the user's quota) is full: nothing was lost, the write was refused.
        /// Reads keep working; writing works again once space is freed.
        case noSpace
        /// A limit documented in `docs/FORMAT.md` was exceeded.
        case limitExceeded
        /// A filter expression could not be parsed (see ``offset``: the character position).
        case parse
        /// The object was used after `close()`.
        case closed
    }

    /// The kind of failure.
    public var code: Code
    /// A sentence saying what went wrong.
    public var message: String
    /// The file or directory involved, when there is one.
    public var path: String?
    /// A byte offset in ``path``, or a character position in a parsed expression.
    public var offset: Int?
    /// The system error number, for ``Code/io``.
    public var errno: Int32?

    /// An error of kind `code`.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: A sentence saying what went wrong.
    ///   - path: The file or directory involved, when there is one.
    ///   - offset: A byte offset in `path`, or a character position in a parsed expression.
    ///   - errno: The system error number, for ``Code/io``.
    public init(_ code: Code, _ message: String, path: String? = nil, offset: Int? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.errno = errno
    }

    /// The message, followed by the path and byte offset (or the position in a parsed expression) when known.
    public var description: String {
        var s = message
        if let path { s += " (\(path)" + (offset.map { " at byte \($0)" } ?? "") + ")" }
        else if let offset, code == .parse { s += " (at position \(offset))" }
        return s
    }
}

extension StrataError {
    static func corrupt(_ message: String, path: String, offset: Int? = nil) -> StrataError {
        StrataError(.corrupt, message, path: path, offset: offset)
    }
    static func invalid(_ message: String) -> StrataError {
        StrataError(.invalidArgument, message)
    }
}

/// Runs `body` (which calls a standard-library `rethrows` function around code that throws only
/// `StrataError`) and restores the typed error.
@inline(__always)
func typed<R>(_ body: () throws -> R) throws(StrataError) -> R {
    do {
        return try body()
    } catch let e as StrataError {
        throw e
    } catch let e as CodecError {
        throw StrataError(.corrupt, e.message)
    } catch {
        throw StrataError(.io, "unexpected error: \(error)")
    }
}
