import Foundation

// File access for the importers, through Foundation (no system calls here).

package enum FileKind { case file, directory, other }

/// What `path` is, following symbolic links; nil when it does not exist.
package func fileKind(_ path: String) -> FileKind? {
    let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    guard let type = (try? FileManager.default.attributesOfItem(atPath: resolved))?[.type] as? FileAttributeType else { return nil }
    switch type {
    case .typeRegular: return .file
    case .typeDirectory: return .directory
    default: return .other
    }
}

/// The (device, inode) pair of a file or directory (following links), to notice cycles in a walk.
package func fileIdentity(_ path: String) -> [UInt64]? {
    let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    guard let a = try? FileManager.default.attributesOfItem(atPath: resolved),
        let dev = (a[.systemNumber] as? NSNumber)?.uint64Value,
        let ino = (a[.systemFileNumber] as? NSNumber)?.uint64Value
    else { return nil }
    return [dev, ino]
}

/// A sentence for a file error: the POSIX reason when there is one.
package func fileErrorReason(_ error: Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
        let code = POSIXErrorCode(rawValue: Int32(underlying.code))
    {
        return String(cString: strerror(code.rawValue))
    }
    if ns.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(ns.code)) {
        return String(cString: strerror(code.rawValue))
    }
    return ns.localizedDescription
}

/// Names in a directory (without `.` and `..`), sorted.
package func listDirectory(_ path: String) throws(InteropError) -> [String] {
    do {
        return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    } catch {
        throw InteropError("cannot read directory \(path): \(fileErrorReason(error))")
    }
}

/// The first `count` bytes of the file (fewer when it is shorter).
package func readFilePrefix(_ path: String, count: Int) throws(InteropError) -> [UInt8] {
    let handle: FileHandle
    do { handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)) } catch {
        throw InteropError("cannot open \(path): \(fileErrorReason(error))")
    }
    defer { try? handle.close() }
    do { return Array(try handle.read(upToCount: count) ?? Data()) } catch {
        throw InteropError("cannot read \(path): \(fileErrorReason(error))")
    }
}

/// The whole file.
package func readWholeFile(_ path: String) throws(InteropError) -> [UInt8] {
    let handle: FileHandle
    do { handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)) } catch {
        throw InteropError("cannot open \(path): \(fileErrorReason(error))")
    }
    defer { try? handle.close() }
    do { return Array(try handle.readToEnd() ?? Data()) } catch {
        throw InteropError("cannot read \(path): \(fileErrorReason(error))")
    }
}

package func readTextFile(_ path: String) throws(InteropError) -> String {
    String(decoding: try readWholeFile(path), as: UTF8.self)
}

/// The absolute, symlink-free path.
package func realPath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
}

package func baseName(_ path: String) -> String {
    var p = Substring(path)
    while p.count > 1, p.last == "/" { p.removeLast() }
    if let slash = p.lastIndex(of: "/") { return String(p[p.index(after: slash)...]) }
    return String(p)
}

package func joinPath(_ a: String, _ b: String) -> String {
    if a.isEmpty { return b }
    return a.hasSuffix("/") ? a + b : a + "/" + b
}
