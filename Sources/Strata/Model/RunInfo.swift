/// A run's identifier: sortable by creation time and unique without coordination
/// (a ULID: 48 bits of milliseconds and 80 random bits, 26 Crockford base-32 characters).
public struct RunID: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The 26-character text form.
    public let text: String

    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new identifier for a run created now.
    /// Ids made by this process within one millisecond increase (a monotonic ULID), so sorting
    /// by id is creation order here; across processes, order within a millisecond is arbitrary.
    ///
    /// - Parameter milliseconds: The creation time to encode (now when nil).
    /// - Returns: A new, unique identifier.
    public static func generate(milliseconds: Int64? = nil) -> RunID {
        let milliseconds = milliseconds ?? Clock.milliseconds()
        var rng = SystemRandomNumberGenerator()
        var hi = UInt64(truncatingIfNeeded: milliseconds) << 16 | UInt64(rng.next() as UInt16)
        var lo = rng.next() as UInt64
        monotonic.withLock {
            let last = lastGenerated
            if last.hi >> 16 == hi >> 16 && (last.hi, last.lo) >= (hi, lo) {
                // Same millisecond: one more than the previous id.
                lo = last.lo &+ 1
                hi = last.lo == .max ? last.hi &+ 1 : last.hi
            }
            lastGenerated = (hi, lo)
        }
        // 128 bits -> 26 characters of 5 bits (the first holds 3 bits).
        var chars = [UInt8](repeating: 0, count: 26)
        var h = hi, l = lo
        for i in stride(from: 25, through: 0, by: -1) {
            chars[i] = alphabet[Int(l & 31)]
            l = (l >> 5) | ((h & 31) << 59)
            h >>= 5
        }
        return RunID(validated: String(decoding: chars, as: UTF8.self))
    }

    init(validated text: String) { self.text = text }

    private static let monotonic = Lock()
    nonisolated(unsafe) private static var lastGenerated: (hi: UInt64, lo: UInt64) = (0, 0)  // guarded by `monotonic`

    /// Parses the text form; nil when it is not 26 Crockford base-32 characters.
    ///
    /// - Parameter text: The id's text, in either case.
    public init?(_ text: String) {
        var lower = false
        var count = 0
        for b in text.utf8 {
            count += 1
            if RunID.isDigit[Int(b)] { continue }
            if RunID.isDigit[Int(b) & ~0x20], b >= 0x61 { lower = true; continue }  // a lowercase letter of the alphabet
            return nil
        }
        guard count == 26 else { return nil }
        self.text = lower ? text.uppercased() : text
    }

    /// Bytes of the Crockford alphabet (upper case).
    private static let isDigit: [Bool] = {
        var t = [Bool](repeating: false, count: 256)
        for b in alphabet { t[Int(b)] = true }
        return t
    }()

    /// The 26-character text form.
    public var description: String { text }

    /// The creation time encoded in the id (milliseconds since 1970).
    public var milliseconds: Int64 {
        var v: Int64 = 0
        for b in text.utf8.prefix(10) {
            guard let d = RunID.alphabet.firstIndex(of: b) else { return 0 }
            v = v << 5 | Int64(d)
        }
        return v
    }
    /// Orders ids by their text, which is creation order (by millisecond).
    ///
    /// - Parameters:
    ///   - a: An id.
    ///   - b: An id.
    /// - Returns: Whether `a` sorts before `b`.
    public static func < (a: RunID, b: RunID) -> Bool { a.text < b.text }
}

/// Where a run is in its life.
public enum RunStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Being logged to; ended normally; ended with an error (`Run.finish(.failed)`); or found
    /// without a live writer (its process died before finishing it).
    case running, finished, failed, crashed

    var code: UInt8 {
        switch self {
        case .running: 0;
        case .finished: 1;
        case .failed: 2;
        case .crashed: 3
        }
    }
    init?(code: UInt8) {
        switch code {
        case 0: self = .running;
        case 1: self = .finished;
        case 2: self = .failed;
        case 3: self = .crashed;
        default: return nil
        }
    }
}

/// Everything Strata knows about a run except its points.
///
/// Metadata keys by convention (filled where known): `git.commit`, `git.dirty`, `host`,
/// `command`, `pid`, `env.fingerprint`, `seed.<name>`, `dataset.<name>`, `purpose`.
public struct RunInfo: Sendable, Hashable {
    /// The fields, shared by copies until one of them changes (copy on write): a listing of many
    /// runs copies each record several times on its way out, one reference count each.
    private final class Fields: @unchecked Sendable {
        // @unchecked Sendable: a `Fields` is changed only through a `RunInfo` holding the only
        // reference to it (`isKnownUniquelyReferenced`), so a shared one is never written.
        var id: RunID
        var name: String
        var project: String
        var status: RunStatus
        var createdMs: Int64
        var endedMs: Int64?
        var params: [String: ParamValue]
        var tags: Set<String>
        var metadata: [String: ParamValue]
        var parent: RunID?
        var rewinds: [Rewind]
        var forkStep: Int64?
        var owner: String
        var deletedMs: Int64?
        var history: [RunEdit]
        var artifacts: [Artifact]
        var deployments: [Deployment]

        init(
            id: RunID,
            name: String,
            project: String,
            status: RunStatus,
            createdMs: Int64,
            endedMs: Int64?,
            params: [String: ParamValue],
            tags: Set<String>,
            metadata: [String: ParamValue],
            parent: RunID?,
            rewinds: [Rewind],
            forkStep: Int64?,
            owner: String,
            deletedMs: Int64?,
            history: [RunEdit],
            artifacts: [Artifact],
            deployments: [Deployment]
        ) {
            self.id = id
            self.name = name
            self.project = project
            self.status = status
            self.createdMs = createdMs
            self.endedMs = endedMs
            self.params = params
            self.tags = tags
            self.metadata = metadata
            self.parent = parent
            self.rewinds = rewinds
            self.forkStep = forkStep
            self.owner = owner
            self.deletedMs = deletedMs
            self.history = history
            self.artifacts = artifacts
            self.deployments = deployments
        }

        func copy() -> Fields {
            Fields(
                id: id,
                name: name,
                project: project,
                status: status,
                createdMs: createdMs,
                endedMs: endedMs,
                params: params,
                tags: tags,
                metadata: metadata,
                parent: parent,
                rewinds: rewinds,
                forkStep: forkStep,
                owner: owner,
                deletedMs: deletedMs,
                history: history,
                artifacts: artifacts,
                deployments: deployments
            )
        }
    }

    private var fields: Fields

    /// The fields, unshared first.
    private var unique: Fields {
        mutating get {
            if !isKnownUniquelyReferenced(&fields) { fields = fields.copy() }
            return fields
        }
    }

    init(
        id: RunID, name: String, project: String, status: RunStatus, createdMs: Int64, endedMs: Int64?,
        params: [String: ParamValue], tags: Set<String>, metadata: [String: ParamValue], parent: RunID?, rewinds: [Rewind],
        forkStep: Int64? = nil
    ) {
        fields = Fields(
            id: id, name: name, project: project, status: status, createdMs: createdMs, endedMs: endedMs, params: params, tags: tags,
            metadata: metadata, parent: parent, rewinds: rewinds, forkStep: forkStep, owner: "", deletedMs: nil, history: [],
            artifacts: [], deployments: [])
    }

    /// The run's identifier.
    public var id: RunID {
        get { fields.id }
        set { unique.id = newValue }
    }
    /// The display name (need not be unique; the newest run of a name answers to it).
    public var name: String {
        get { fields.name }
        set { unique.name = newValue }
    }
    /// The project the run belongs to (`default` unless given).
    public var project: String {
        get { fields.project }
        set { unique.project = newValue }
    }
    /// Where the run is in its life.
    public var status: RunStatus {
        get { fields.status }
        set { unique.status = newValue }
    }
    /// Creation time, milliseconds since 1970.
    public var createdMs: Int64 {
        get { fields.createdMs }
        set { unique.createdMs = newValue }
    }
    /// When the run finished, failed or was found crashed.
    public var endedMs: Int64? {
        get { fields.endedMs }
        set { unique.endedMs = newValue }
    }
    /// Typed hyperparameters, nested keys flattened with dots.
    public var params: [String: ParamValue] {
        get { fields.params }
        set { unique.params = newValue }
    }
    /// Labels such as `baseline`.
    public var tags: Set<String> {
        get { fields.tags }
        set { unique.tags = newValue }
    }
    /// Reproduction facts (see the conventional keys above).
    public var metadata: [String: ParamValue] {
        get { fields.metadata }
        set { unique.metadata = newValue }
    }
    /// The run this one was resumed or forked from.
    public var parent: RunID? {
        get { fields.parent }
        set { unique.parent = newValue }
    }
    /// `rewind(to:)` calls, oldest first: points logged before each rewind at a later step are hidden.
    public var rewinds: [Rewind] {
        get { fields.rewinds }
        set { unique.rewinds = newValue }
    }

    /// A rewind: points with a step greater than `step` logged before `sequence` are hidden.
    public struct Rewind: Sendable, Hashable {
        /// Points at a step greater than this one are hidden.
        public var step: Int64
        /// Nanoseconds since 1970 when the rewind was made.
        public var sequence: Int64
    }

    /// When this run is a fork of `parent`: the parent's step it was forked at. The run inherits
    /// the parent's history up to and including this step (see ``Lineage``); nil for a run that
    /// is not a fork (a plain `parent` is only a link).
    public var forkStep: Int64? {
        get { fields.forkStep }
        set { unique.forkStep = newValue }
    }
    /// The writer that created the run (internal: used to mark crashed runs).
    var owner: String {
        get { fields.owner }
        set { unique.owner = newValue }
    }
    /// When the run was deleted (milliseconds since 1970); nil when it is not. A deleted run is
    /// hidden from every listing and query until ``Store/restoreRun(_:)`` or compaction.
    public var deletedMs: Int64? {
        get { fields.deletedMs }
        set { unique.deletedMs = newValue }
    }
    /// Changes made after the fact (delete, restore, rename, move, tags, note, purpose), oldest first.
    public var history: [RunEdit] {
        get { fields.history }
        set { unique.history = newValue }
    }
    /// Artifacts the run logged (outputs and inputs), in logging order.
    public var artifacts: [Artifact] {
        get { fields.artifacts }
        set { unique.artifacts = newValue }
    }
    /// Deployments of the run's artifacts, in recording order.
    public var deployments: [Deployment] {
        get { fields.deployments }
        set { unique.deployments = newValue }
    }

    /// Equal when every field is equal.
    public static func == (a: RunInfo, b: RunInfo) -> Bool {
        if a.fields === b.fields { return true }
        let x = a.fields, y = b.fields
        return x.id == y.id && x.name == y.name && x.project == y.project && x.status == y.status && x.createdMs == y.createdMs
            && x.endedMs == y.endedMs && x.params == y.params && x.tags == y.tags && x.metadata == y.metadata && x.parent == y.parent
            && x.rewinds == y.rewinds && x.forkStep == y.forkStep && x.owner == y.owner && x.deletedMs == y.deletedMs && x.history == y.history
            && x.artifacts == y.artifacts && x.deployments == y.deployments
    }

    /// Hashes every field.
    public func hash(into hasher: inout Hasher) {
        let x = fields
        hasher.combine(x.id)
        hasher.combine(x.name)
        hasher.combine(x.project)
        hasher.combine(x.status)
        hasher.combine(x.createdMs)
        hasher.combine(x.endedMs)
        hasher.combine(x.params)
        hasher.combine(x.tags)
        hasher.combine(x.metadata)
        hasher.combine(x.parent)
        hasher.combine(x.rewinds)
        hasher.combine(x.forkStep)
        hasher.combine(x.owner)
        hasher.combine(x.deletedMs)
        hasher.combine(x.history)
        hasher.combine(x.artifacts)
        hasher.combine(x.deployments)
    }
}
