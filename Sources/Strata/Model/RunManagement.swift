import StrataCodecs

// Run management (issue 15): artifacts, deployments, tombstones and the edit history of a run.
// Catalog record kinds 9 to 14 and the checkpoint's version-3 management fields are encoded here,
// in one place (docs/FORMAT.md, "Run management records").

/// A reference to a file a run produced or consumed: where it is (a URI), what it is (its SHA-256
/// digest and size), never the file itself.
public struct Artifact: Sendable, Hashable {
    /// Whether the run produced the artifact or read it.
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// Made by the run (a model, a checkpoint, an evaluation report).
        case output
        /// Used by the run (a dataset it trained on).
        case input
    }
    /// The run that logged the artifact.
    public var run: RunID
    /// The artifact's name within its run, such as `model`.
    public var name: String
    /// Where the bytes are (`s3://…`, `file:///…`, any URI).
    public var uri: String
    /// SHA-256 of the bytes, 64 lower-case hexadecimal characters.
    public var digest: String
    /// Size in bytes.
    public var size: Int64
    /// `model`, `checkpoint`, `dataset`, `eval-report`, or any other word.
    public var kind: String
    /// Produced or consumed.
    public var role: Role
    /// The training step it belongs to, if any.
    public var step: Int64?
    /// Free-form facts about it.
    public var metadata: [String: ParamValue]
    /// When it was logged, milliseconds since 1970.
    public var loggedMs: Int64

    /// An artifact with every field given (as an importer reads it; ``Store/importArtifact(_:into:)`` checks them).
    public init(
        run: RunID, name: String, uri: String, digest: String, size: Int64, kind: String, role: Role, step: Int64?,
        metadata: [String: ParamValue], loggedMs: Int64
    ) {
        self.run = run
        self.name = name
        self.uri = uri
        self.digest = digest
        self.size = size
        self.kind = kind
        self.role = role
        self.step = step
        self.metadata = metadata
        self.loggedMs = loggedMs
    }
}

/// An artifact put into service in an environment (`prod`, `staging`) at a time.
public struct Deployment: Sendable, Hashable {
    /// The run that produced the artifact.
    public var run: RunID
    /// The artifact's name in that run.
    public var artifact: String
    /// The artifact's SHA-256 digest.
    public var digest: String
    /// Where it was deployed.
    public var environment: String
    /// When it went into service, milliseconds since 1970.
    public var atMs: Int64
    /// When the deployment was recorded, milliseconds since 1970.
    public var recordedMs: Int64

    /// A deployment with every field given (as an importer reads it; ``Store/importDeployment(_:into:)`` checks them).
    public init(run: RunID, artifact: String, digest: String, environment: String, atMs: Int64, recordedMs: Int64) {
        self.run = run
        self.artifact = artifact
        self.digest = digest
        self.environment = environment
        self.atMs = atMs
        self.recordedMs = recordedMs
    }
}

/// One change made to a run after the fact (kept as its history).
public struct RunEdit: Sendable, Hashable {
    /// What changed.
    public enum Field: String, Sendable, Hashable, CaseIterable {
        case deleted, restored, name, project, tagAdded = "tag+", tagRemoved = "tag-", note, purpose
    }
    /// What changed.
    public var field: Field
    /// The new value (the tag for tag edits; empty for delete and restore).
    public var value: String
    /// When, milliseconds since 1970.
    public var atMs: Int64
}

/// The management state of a run kept beside its other fields (copied whole when a create record
/// replaces a run).
struct RunManagement: Sendable, Hashable {
    var deletedMs: Int64?
    var history: [RunEdit] = []
    var artifacts: [Artifact] = []
    var deployments: [Deployment] = []
    var isEmpty: Bool { deletedMs == nil && history.isEmpty && artifacts.isEmpty && deployments.isEmpty }
}

extension RunInfo {
    var management: RunManagement {
        get { RunManagement(deletedMs: deletedMs, history: history, artifacts: artifacts, deployments: deployments) }
        set {
            deletedMs = newValue.deletedMs
            history = newValue.history
            artifacts = newValue.artifacts
            deployments = newValue.deployments
        }
    }

    /// Whether the run is deleted (a tombstone: hidden until restored or reclaimed).
    public var isDeleted: Bool { deletedMs != nil }

    /// The free-form note (`strata run note`), if any.
    public var note: String? { if case .string(let s)? = metadata["note"] { return s } else { return nil } }

    /// Adds `a`, unless the run already has an artifact of the same name, digest and role
    /// (logging the same digest twice is idempotent).
    mutating func addArtifact(_ a: Artifact) {
        if artifacts.contains(where: { $0.name == a.name && $0.digest == a.digest && $0.role == a.role }) { return }
        artifacts.append(a)
    }
}

/// Checks of artifact and deployment fields (the errors name the field and the value).
public enum ArtifactRules {
    /// The kinds Strata knows by name; any other word is allowed too.
    public static let knownKinds = ["model", "checkpoint", "dataset", "eval-report"]

    /// The digest in lower case when `digest` is 64 hexadecimal characters.
    ///
    /// - Parameter digest: The SHA-256 digest as text.
    /// - Returns: The digest in lower case.
    /// - Throws: ``StrataError`` with code `.invalidArgument` naming the digest.
    public static func checkDigest(_ digest: String) throws(StrataError) -> String {
        let lower = digest.lowercased()
        guard lower.utf8.count == 64, lower.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw .invalid(
                "digest \"\(Limits.truncated(digest, bytes: 80))\" is not a SHA-256 digest: it must be 64 hexadecimal characters, it has \(digest.count) characters"
            )
        }
        return lower
    }

    /// Checks an artifact name, kind or environment name: 1–200 bytes, no control characters.
    static func checkWord(_ s: String, what: String) throws(StrataError) {
        if s.isEmpty { throw .invalid("\(what) is empty") }
        try Limits.check(runName: s, what: what)
    }

    static func checkURI(_ uri: String) throws(StrataError) {
        if uri.isEmpty { throw .invalid("artifact URI is empty") }
        if uri.utf8.count > 4096 { throw .invalid("artifact URI is \(uri.utf8.count) bytes; the limit is 4096") }
        if uri.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw .invalid("artifact URI \"\(Limits.truncated(uri, bytes: 80))\" has a control character")
        }
    }
}

// MARK: - bytes (catalog records 9-14 and checkpoint version 3)

enum ManagementCoding {
    /// Kind 9 states.
    static let stateRestored: UInt8 = 0, stateDeleted: UInt8 = 1, statePurged: UInt8 = 2
    /// Kind 10 and 11 fields.
    static let fieldName: UInt8 = 0, fieldProject: UInt8 = 1, fieldNote: UInt8 = 0, fieldPurpose: UInt8 = 1

    static func digestBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var hi: UInt8? = nil
        for c in hex.utf8 {
            let d = c <= 0x39 ? c - 0x30 : c - 0x61 + 10
            if let h = hi { out.append(h << 4 | d); hi = nil } else { hi = d }
        }
        return out
    }

    static func digestText(_ b: ByteView) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for i in 0..<b.count { out.append(hex[Int(b[i] >> 4)]); out.append(hex[Int(b[i] & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func writeArtifact(_ a: Artifact, into w: inout ByteWriter) {
        w.string(a.name)
        w.string(a.uri)
        w.raw(digestBytes(a.digest))
        w.i64(a.size)
        w.string(a.kind)
        w.u8(a.role == .input ? 1 : 0)
        w.u8(a.step == nil ? 0 : 1)
        if let s = a.step { w.i64(s) }
        w.i64(a.loggedMs)
        ParamCoding.write(a.metadata, into: &w)
    }

    static func readArtifact(_ r: inout ByteReader, run: RunID) throws(StrataError) -> Artifact {
        let name = try r.string("artifact name", max: 4096)
        let uri = try r.string("artifact uri", max: 1 << 16)
        let digest = digestText(try r.bytes(32, "artifact digest"))
        let size = try r.i64("artifact size")
        let kind = try r.string("artifact kind", max: 4096)
        let role: Artifact.Role = try r.u8("artifact role") == 1 ? .input : .output
        let step: Int64? = try r.u8("artifact step flag") == 0 ? nil : try r.i64("artifact step")
        let logged = try r.i64("artifact time")
        let meta = try ParamCoding.read(&r)
        return Artifact(
            run: run, name: name, uri: uri, digest: digest, size: size, kind: kind, role: role, step: step, metadata: meta, loggedMs: logged)
    }

    static func writeDeployment(_ d: Deployment, into w: inout ByteWriter) {
        w.string(d.artifact)
        w.raw(digestBytes(d.digest))
        w.string(d.environment)
        w.i64(d.atMs)
        w.i64(d.recordedMs)
    }

    static func readDeployment(_ r: inout ByteReader, run: RunID) throws(StrataError) -> Deployment {
        let name = try r.string("deployed artifact name", max: 4096)
        let digest = digestText(try r.bytes(32, "deployed artifact digest"))
        let env = try r.string("environment", max: 4096)
        let at = try r.i64("deployment time")
        let recorded = try r.i64("deployment record time")
        return Deployment(run: run, artifact: name, digest: digest, environment: env, atMs: at, recordedMs: recorded)
    }

    static func writeEdit(_ e: RunEdit, into w: inout ByteWriter) {
        w.u8(UInt8(RunEdit.Field.allCases.firstIndex(of: e.field)!))
        w.string(e.value)
        w.i64(e.atMs)
    }

    static func readEdit(_ r: inout ByteReader) throws(StrataError) -> RunEdit {
        let code = Int(try r.u8("edit field"))
        guard code < RunEdit.Field.allCases.count else {
            throw StrataError.corrupt("unknown run edit field \(code)", path: r.path, offset: r.offset)
        }
        let value = try r.string("edit value")
        return RunEdit(field: RunEdit.Field.allCases[code], value: value, atMs: try r.i64("edit time"))
    }

    // MARK: checkpoint version 3: a run's management fields (flag bit 6), after its params

    /// Writes the management fields of a run into its checkpoint record.
    static func writeCheckpointFields(_ m: RunManagement, into w: inout ByteWriter) {
        w.u8(m.deletedMs == nil ? 0 : 1)
        if let d = m.deletedMs { w.i64(d) }
        w.varint(UInt64(m.history.count))
        for e in m.history { writeEdit(e, into: &w) }
        w.varint(UInt64(m.artifacts.count))
        for a in m.artifacts { writeArtifact(a, into: &w) }
        w.varint(UInt64(m.deployments.count))
        for d in m.deployments { writeDeployment(d, into: &w) }
    }

    /// Reads what `writeCheckpointFields` wrote.
    static func readCheckpointFields(_ r: inout ByteReader, run: RunID) throws(StrataError) -> RunManagement {
        var m = RunManagement()
        if try r.u8("deleted flag") != 0 { m.deletedMs = try r.i64("deleted time") }
        for _ in 0..<(try r.count("edit count", max: 1 << 24)) { m.history.append(try readEdit(&r)) }
        for _ in 0..<(try r.count("artifact count", max: 1 << 24)) { m.artifacts.append(try readArtifact(&r, run: run)) }
        for _ in 0..<(try r.count("deployment count", max: 1 << 24)) { m.deployments.append(try readDeployment(&r, run: run)) }
        return m
    }
}
