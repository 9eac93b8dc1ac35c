import StrataCodecs

/// An error thrown by Strata: what went wrong, and where.
///
/// Match on ``code`` to react to a kind of failure; show ``description`` to a person.
/// Messages name the file, offset, line or argument involved, never the data points.
/// ``cause`` keeps the underlying error (for a failed system call, swift-system's `Errno`).
///
/// A ``Code`` matches a `StrataError` of that code in a pattern, the way swift-system's `Errno`
/// values do, so a `catch` can name the kind of failure it handles:
///
/// ```swift
/// do { try run.log(["loss": 1], step: 0) }
/// catch StrataError.Code.noSpace { print("disk full: free space and retry") }
/// catch { print(error) }
///
/// if case .notFound = error { ... }     // `error` a StrataError
/// ```
public struct StrataError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure. A code matches a ``StrataError`` of that code in a pattern
    /// (`catch StrataError.Code.noSpace`, `case .notFound = error`), like swift-system's `Errno`;
    /// the set of codes may grow, so a `switch` over codes needs a `default`.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's name, e.g. `"notFound"`.
        public let rawValue: String
        /// The code with this name (the named constants below are the codes Strata throws).
        ///
        /// - Parameter rawValue: The code's name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// A name, value or argument given by the caller is not acceptable.
        public static let invalidArgument = Code(rawValue: "invalidArgument")
        /// The run, series or file asked for does not exist.
        public static let notFound = Code(rawValue: "notFound")
        /// Bytes on disk are damaged (checksum mismatch, truncation, impossible field).
        public static let corrupt = Code(rawValue: "corrupt")
        /// The store or file was written by a newer, unknown format version.
        public static let unsupportedVersion = Code(rawValue: "unsupportedVersion")
        /// The path exists but is not a Strata store.
        public static let notAStore = Code(rawValue: "notAStore")
        /// A system call failed (see ``errno``).
        public static let io = Code(rawValue: "io")
        /// The disk (or the user's quota) is full: nothing was lost, the write was refused.
        /// Reads keep working; writing works again once space is freed.
        public static let noSpace = Code(rawValue: "noSpace")
        /// A limit documented in `docs/FORMAT.md` was exceeded.
        public static let limitExceeded = Code(rawValue: "limitExceeded")
        /// A filter expression could not be parsed (see ``offset``: the character position).
        public static let parse = Code(rawValue: "parse")
        /// The object was used after `close()`.
        public static let closed = Code(rawValue: "closed")
    }

    /// The kind of failure.
    public var code: Code
    /// A sentence saying what went wrong.
    public var message: String
    /// The file or directory involved, when there is one.
    public var path: String?
    /// A byte offset in ``path``, or a character position in a parsed expression.
    public var offset: Int?
    /// The system error number, for ``Code/io`` and ``Code/noSpace``.
    public var errno: Int32?
    /// The error underneath, when there is one: swift-system's `Errno` for a failed system call,
    /// or whatever a callee threw. Not part of equality.
    public var cause: (any Error)?

    /// An error of kind `code`.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: A sentence saying what went wrong.
    ///   - path: The file or directory involved.
    ///   - offset: A byte offset in `path`, or a character position in a parsed expression.
    ///   - errno: The system error number of a failed system call.
    ///   - cause: The underlying error.
    public init(
        _ code: Code, _ message: String, path: String? = nil, offset: Int? = nil, errno: Int32? = nil,
        cause: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.errno = errno
        self.cause = cause
    }

    /// Equal when code, message, path, offset and errno are; ``cause`` is not compared.
    ///
    /// - Parameters:
    ///   - a: An error.
    ///   - b: An error.
    /// - Returns: Whether they are equal.
    public static func == (a: StrataError, b: StrataError) -> Bool {
        a.code == b.code && a.message == b.message && a.path == b.path && a.offset == b.offset && a.errno == b.errno
    }

    /// The message, followed by the path and byte offset (or the position in a parsed expression) when known.
    public var description: String {
        var s = message
        if let path {
            s += " (\(path)" + (offset.map { " at byte \($0)" } ?? "") + ")"
        } else if let offset, code == .parse {
            s += " (at position \(offset))"
        }
        return s
    }
}

extension StrataError.Code {
    /// Matches an error that is a ``StrataError`` of this code: `catch StrataError.Code.notFound`,
    /// or `case .notFound = strataError`.
    ///
    /// - Parameters:
    ///   - code: The code of the pattern.
    ///   - error: The error matched.
    /// - Returns: Whether `error` is a ``StrataError`` with this code.
    public static func ~= (code: StrataError.Code, error: any Error) -> Bool {
        (error as? StrataError)?.code == code
    }

    /// Matches a ``StrataError`` of this code (`if case .noSpace = error`).
    ///
    /// - Parameters:
    ///   - code: The code of the pattern.
    ///   - error: The error matched.
    /// - Returns: Whether `error` has this code.
    public static func ~= (code: StrataError.Code, error: StrataError) -> Bool {
        error.code == code
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
        throw StrataError(.corrupt, e.message, cause: e)
    } catch {
        throw StrataError(.io, "unexpected error: \(error)", cause: error)
    }
}
