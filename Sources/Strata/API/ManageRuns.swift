// Run management (issue 15): delete (a tombstone), restore, rename, move, tags, notes and purpose
// with their history; artifacts and deployments. Records: docs/FORMAT.md, "Run management records".

extension Store {
    // MARK: tombstones and edits

    /// Deletes a run: a tombstone that hides it at once from every listing and query (runs,
    /// filters, rank, band, the API and the web page). ``restoreRun(_:)`` brings it back until
    /// ``compact(graceSeconds:)`` reclaims it after ``Store/deletedRunGraceSeconds``.
    ///
    /// - Parameter idOrName: An id, a name or an id fragment, as ``run(_:)`` resolves them.
    /// - Returns: The run as it is now (deleted).
    /// - Throws: ``StrataError`` with code `.notFound` for an unknown (or already deleted) run.
    @discardableResult
    public func deleteRun(_ idOrName: String) throws(StrataError) -> RunInfo {
        let info = try run(idOrName)
        return try editRun(info.id, [Catalog.stateRecord(info.id, ManagementCoding.stateDeleted, at: Clock.milliseconds())])
    }

    /// Brings a deleted run back (before compaction reclaimed it).
    ///
    /// - Parameter idOrName: An id, a name or an id fragment of a deleted run.
    /// - Returns: The run as it is now.
    /// - Throws: ``StrataError`` with code `.notFound` when no deleted run matches (never deleted, or already reclaimed).
    @discardableResult
    public func restoreRun(_ idOrName: String) throws(StrataError) -> RunInfo {
        let info = try deletedRun(idOrName)
        return try editRun(info.id, [Catalog.stateRecord(info.id, ManagementCoding.stateRestored, at: Clock.milliseconds())])
    }

    /// The deleted runs not yet reclaimed, oldest first.
    ///
    /// - Returns: The deleted runs.
    /// - Throws: ``StrataError`` when the catalog cannot be read.
    public func deletedRuns() throws(StrataError) -> [RunInfo] {
        try lock.withLock { () throws(StrataError) in
            try catalog.refresh()
            return catalog.deletedIDs.sorted().compactMap { catalog.info($0) }
        }
    }

    /// Renames a run (kept in its history).
    ///
    /// - Parameters:
    ///   - idOrName: The run.
    ///   - name: The new name (1–200 bytes, no control characters).
    /// - Returns: The run as it is now.
    /// - Throws: ``StrataError``: `.notFound` for an unknown run, `.invalidArgument` for a bad name.
    @discardableResult
    public func renameRun(_ idOrName: String, to name: String) throws(StrataError) -> RunInfo {
        try Limits.check(runName: name)
        let info = try run(idOrName)
        return try editRun(info.id, [Catalog.renameRecord(info.id, project: false, name, at: Clock.milliseconds())])
    }

    /// Moves a run to another project (kept in its history).
    ///
    /// - Parameters:
    ///   - idOrName: The run.
    ///   - project: The new project (1–200 bytes, no control characters).
    /// - Returns: The run as it is now.
    /// - Throws: ``StrataError``: `.notFound` for an unknown run, `.invalidArgument` for a bad project name.
    @discardableResult
    public func moveRun(_ idOrName: String, toProject project: String) throws(StrataError) -> RunInfo {
        try Limits.check(runName: project, what: "project")
        let info = try run(idOrName)
        return try editRun(info.id, [Catalog.renameRecord(info.id, project: true, project, at: Clock.milliseconds())])
    }

    /// Adds and removes tags of any run, at any time (kept in its history).
    ///
    /// - Parameters:
    ///   - idOrName: The run.
    ///   - add: Tags to add.
    ///   - remove: Tags to remove.
    /// - Returns: The run as it is now.
    /// - Throws: ``StrataError``: `.notFound` for an unknown run, `.invalidArgument` for a bad tag.
    @discardableResult
    public func tagRun(_ idOrName: String, add: [String] = [], remove: [String] = []) throws(StrataError) -> RunInfo {
        try Limits.check(tags: add + remove)
        guard !add.isEmpty || !remove.isEmpty else { throw .invalid("no tag to add or remove") }
        let info = try run(idOrName)
        return try editRun(info.id, [Catalog.tagEditRecord(info.id, add: add, remove: remove, at: Clock.milliseconds())])
    }

    /// Sets a run's note or its purpose statement (metadata `note` / `purpose`; an empty text
    /// clears it). Every version is kept in the run's history.
    ///
    /// - Parameters:
    ///   - idOrName: The run.
    ///   - text: The new text (at most 64 KiB).
    ///   - purpose: Whether `text` is the purpose statement rather than the note.
    /// - Returns: The run as it is now.
    /// - Throws: ``StrataError``: `.notFound` for an unknown run, `.invalidArgument` for a text over 64 KiB.
    @discardableResult
    public func annotateRun(_ idOrName: String, _ text: String, purpose: Bool = false) throws(StrataError) -> RunInfo {
        guard text.utf8.count <= 1 << 16 else { throw .invalid("\(purpose ? "purpose" : "note") is \(text.utf8.count) bytes; the limit is 65536") }
        let info = try run(idOrName)
        return try editRun(info.id, [Catalog.annotateRecord(info.id, purpose: purpose, text, at: Clock.milliseconds())])
    }

    /// How long a deleted run stays restorable before ``compact(graceSeconds:)`` may reclaim it
    /// (`STRATA_DELETE_GRACE` seconds in the environment, else 7 days).
    public static var deletedRunGraceSeconds: Double {
        if let text = Sys.environment("STRATA_DELETE_GRACE"), let s = Double(text), s >= 0 { return s }
        return 7 * 86_400
    }

    /// Writes management records for `run` and returns its new state.
    func editRun(_ run: RunID, _ records: [CatalogRecord]) throws(StrataError) -> RunInfo {
        try writing { () throws(StrataError) in
            try lock.withLock { () throws(StrataError) in
                try checkOpenLocked()
                try catalog.append(records, sync: true)
                guard let info = catalog.info(run) else { throw StrataError(.notFound, "run \(run) was reclaimed meanwhile") }
                return info
            }
        }
    }

    /// A deleted run by id, name or id fragment.
    func deletedRun(_ idOrName: String) throws(StrataError) -> RunInfo {
        let deleted = try deletedRuns()
        if let id = RunID(idOrName), let info = deleted.first(where: { $0.id == id }) { return info }
        if let info = deleted.last(where: { $0.name == idOrName }) { return info }
        let fragment = idOrName.uppercased()
        let matches = fragment.utf8.count >= 4 ? deleted.filter { $0.id.text.hasPrefix(fragment) || $0.id.text.hasSuffix(fragment) } : []
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 { throw .invalid("id \"\(idOrName)\" matches \(matches.count) deleted runs; give more characters") }
        throw StrataError(.notFound, "no deleted run with id or name \"\(idOrName)\" in store \(path) (never deleted, or reclaimed by compaction)")
    }

    /// Throws for a deleted run (under the lock): per-series reads of it fail like an unknown run.
    func checkNotDeletedLocked(_ run: RunID) throws(StrataError) {
        if catalog.deletedIDs.contains(run) {
            throw StrataError(.notFound, "run \(run) is deleted (`strata run restore \(run)` brings it back)")
        }
    }

    // MARK: artifacts

    /// Records an artifact of `run` (a reference, not the file). Logging the same name, digest and
    /// role again returns the artifact already recorded and writes nothing.
    func logArtifact(
        run: RunID, name: String, uri: String, digest: String, size: Int64, kind: String, role: Artifact.Role, step: Int64?,
        metadata: [String: ParamValue]
    ) throws(StrataError) -> Artifact {
        let a = try ArtifactRules.checked(
            Artifact(
                run: run, name: name, uri: uri, digest: digest, size: size, kind: kind, role: role, step: step, metadata: metadata,
                loggedMs: Clock.milliseconds()))
        let info = try liveRun(run)
        if let same = info.artifacts.first(where: { $0.name == a.name && $0.digest == a.digest && $0.role == a.role }) { return same }
        _ = try editRun(run, [Catalog.artifactRecord(a)])
        return a
    }

    /// Records artifact `name` of run `idOrName` (CLI and server; see ``Run/logArtifact(name:uri:digest:size:kind:step:metadata:)``).
    ///
    /// - Parameters:
    ///   - idOrName: The run that produced (or used) the artifact.
    ///   - name: Its name in the run.
    ///   - uri: Where the bytes are.
    ///   - digest: SHA-256, 64 hexadecimal characters.
    ///   - size: Size in bytes.
    ///   - kind: `model`, `checkpoint`, `dataset`, `eval-report` or any other word.
    ///   - role: Produced (`output`) or used (`input`).
    ///   - step: The step it belongs to.
    ///   - metadata: Free-form facts.
    /// - Returns: The artifact recorded (the one already recorded for a repeated digest).
    /// - Throws: ``StrataError``: `.notFound` for an unknown run, `.invalidArgument` for a bad digest, name, kind or URI.
    @discardableResult
    public func logArtifact(
        run idOrName: String, name: String, uri: String, digest: String, size: Int64, kind: String = "model", role: Artifact.Role = .output,
        step: Int64? = nil, metadata: [String: ParamValue] = [:]
    ) throws(StrataError) -> Artifact {
        let info = try run(idOrName)
        return try logArtifact(run: info.id, name: name, uri: uri, digest: digest, size: size, kind: kind, role: role, step: step, metadata: metadata)
    }

    /// Artifacts of the runs that are not deleted, in run order then logging order.
    ///
    /// - Parameters:
    ///   - idOrName: Only this run's artifacts (every run's when nil).
    ///   - digest: Only artifacts with this digest (64 hexadecimal characters).
    /// - Returns: The artifacts, outputs and inputs.
    /// - Throws: ``StrataError``: `.notFound` for an unknown run, `.invalidArgument` for a bad digest.
    public func artifacts(run idOrName: String? = nil, digest: String? = nil) throws(StrataError) -> [Artifact] {
        var wanted: String? = nil
        if let digest { wanted = try ArtifactRules.checkDigest(digest) }
        let runs: [RunInfo]
        if let idOrName { runs = [try run(idOrName)] } else { runs = try self.runs() }
        let digest = wanted
        return runs.flatMap(\.artifacts).filter { digest == nil || $0.digest == digest }
    }

    /// The artifact `reference` names: a 64-character digest (the newest output with it), or
    /// `RUN:NAME` (the newest output of that name in that run).
    ///
    /// - Parameter reference: A digest or `RUN:NAME`.
    /// - Returns: The artifact.
    /// - Throws: ``StrataError``: `.notFound` when nothing matches, `.invalidArgument` for a malformed reference.
    public func artifact(_ reference: String) throws(StrataError) -> Artifact {
        if let colon = reference.lastIndex(of: ":"), !reference.hasPrefix("sha256:") {
            let runText = String(reference[..<colon]), name = String(reference[reference.index(after: colon)...])
            let info = try run(runText)
            guard let a = info.artifacts.last(where: { $0.name == name && $0.role == .output }) ?? info.artifacts.last(where: { $0.name == name })
            else {
                throw StrataError(.notFound, "run \(info.name) (\(info.id)) has no artifact named \"\(name)\"")
            }
            return a
        }
        let digest = try ArtifactRules.checkDigest(reference.hasPrefix("sha256:") ? String(reference.dropFirst(7)) : reference)
        let all = try artifacts(digest: digest)
        guard let a = all.last(where: { $0.role == .output }) ?? all.last else {
            throw StrataError(.notFound, "no artifact with digest \(digest) in store \(path)")
        }
        return a
    }

    // MARK: deployments

    /// Records that `artifact` went into service in `environment` at `atMs` (now when nil). The
    /// deployment is stored with the run that produced the artifact, so run → artifact →
    /// deployment is one lookup. Metrics measured in production are logged to a run of their own
    /// whose metadata `deployment.run`, `deployment.digest` and `deployment.environment` name it
    /// (docs/API.md, "Artifacts and deployments").
    ///
    /// - Parameters:
    ///   - reference: A digest or `RUN:NAME` (see ``artifact(_:)``).
    ///   - environment: Where it was deployed, such as `prod` (1–200 bytes).
    ///   - atMs: When, milliseconds since 1970 (now when nil).
    /// - Returns: The deployment recorded.
    /// - Throws: ``StrataError``: `.notFound` for an unknown artifact, `.invalidArgument` for an empty environment.
    @discardableResult
    public func deploy(artifact reference: String, environment: String, at atMs: Int64? = nil) throws(StrataError) -> Deployment {
        try ArtifactRules.checkWord(environment, what: "environment name")
        let a = try artifact(reference)
        let now = Clock.milliseconds()
        let d = Deployment(run: a.run, artifact: a.name, digest: a.digest, environment: environment, atMs: atMs ?? now, recordedMs: now)
        _ = try editRun(a.run, [Catalog.deploymentRecord(d)])
        return d
    }

    /// Deployments of artifacts of the runs matching `filter` (every run not deleted when nil),
    /// ordered by time: "every deployment of artifacts from runs with `params.lr > 1e-3`".
    ///
    /// - Parameters:
    ///   - environment: Only deployments to this environment.
    ///   - filter: Only artifacts of runs matching this filter.
    /// - Returns: The deployments, oldest first.
    /// - Throws: ``StrataError`` when the catalog cannot be read.
    public func deployments(environment: String? = nil, where filter: Filter? = nil) throws(StrataError) -> [Deployment] {
        try runs(where: filter).flatMap(\.deployments).filter { environment == nil || $0.environment == environment }
            .sorted { ($0.atMs, $0.recordedMs) < ($1.atMs, $1.recordedMs) }
    }

    /// The deployment in service in `environment` at `atMs`: the latest deployed at or before
    /// that time ("which run produced the model deployed in prod on 2026-11-03").
    ///
    /// - Parameters:
    ///   - environment: The environment.
    ///   - atMs: The time, milliseconds since 1970.
    /// - Returns: The deployment, nil when nothing was deployed there by then.
    /// - Throws: ``StrataError`` when the catalog cannot be read.
    public func deployment(environment: String, at atMs: Int64) throws(StrataError) -> Deployment? {
        try deployments(environment: environment).last { $0.atMs <= atMs }
    }
}

extension Run {
    /// Records an artifact this run produced: a reference (URI, SHA-256 digest, size), not the
    /// file. Logging the same name and digest again is idempotent.
    ///
    /// ```swift
    /// try run.logArtifact(name: "model", uri: "s3://bucket/model.pt", digest: sha256Hex, size: 1_234_567, kind: "model", step: 40_000)
    /// ```
    ///
    /// - Parameters:
    ///   - name: Its name in the run, such as `model`.
    ///   - uri: Where the bytes are.
    ///   - digest: SHA-256, 64 hexadecimal characters.
    ///   - size: Size in bytes.
    ///   - kind: `model`, `checkpoint`, `dataset`, `eval-report` or any other word.
    ///   - step: The step it belongs to.
    ///   - metadata: Free-form facts.
    /// - Returns: The artifact recorded.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a digest that is not 64 hexadecimal characters, an empty name, kind or URI.
    @discardableResult
    public func logArtifact(
        name: String, uri: String, digest: String, size: Int64, kind: String = "model", step: Int64? = nil, metadata: [String: ParamValue] = [:]
    ) throws(StrataError) -> Artifact {
        try store.logArtifact(run: id, name: name, uri: uri, digest: digest, size: size, kind: kind, role: .output, step: step, metadata: metadata)
    }

    /// Links an artifact as an input of this run (a dataset it trains on), by its fields.
    ///
    /// - Parameters:
    ///   - name: Its name as this run knows it.
    ///   - uri: Where the bytes are.
    ///   - digest: SHA-256, 64 hexadecimal characters.
    ///   - size: Size in bytes.
    ///   - kind: Usually `dataset`.
    /// - Returns: The input recorded.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bad digest, name, kind or URI.
    @discardableResult
    public func logInput(name: String, uri: String, digest: String, size: Int64, kind: String = "dataset") throws(StrataError) -> Artifact {
        try store.logArtifact(run: id, name: name, uri: uri, digest: digest, size: size, kind: kind, role: .input, step: nil, metadata: [:])
    }
}

// MARK: reclaiming deleted runs (compaction)

extension Store {
    /// Deleted runs whose grace period has passed and that no run (deleted or not) names as its
    /// parent: a parent's points stay while a child may read through them. Under the lock.
    func reclaimableRunsLocked(_ graceSeconds: Double) -> Set<RunID> {
        let now = Clock.milliseconds()
        let due = catalog.deletedIDs.filter { id in
            guard let ms = catalog.info(id)?.deletedMs else { return false }
            return Double(now - ms) >= graceSeconds * 1000
        }
        if due.isEmpty { return [] }
        let parents = Set(catalog.allRuns(includingDeleted: true).compactMap(\.parent))
        return Set(due.filter { !parents.contains($0) })
    }

    /// After compaction left `drop`'s points out: purges from the catalog those that have no
    /// point left anywhere (a live writer's log may still hold some: they wait for the next
    /// compaction) and rewrites the checkpoint without them. Under the lock.
    func purgeReclaimedLocked(_ drop: Set<RunID>) throws(StrataError) -> [RunID] {
        if drop.isEmpty { return [] }
        try reader.refresh()
        try catalog.refresh()
        let remaining = reader.allRunIDs()
        let gone = drop.filter { !remaining.contains($0) && catalog.deletedIDs.contains($0) }.sorted()
        if gone.isEmpty { return [] }
        let now = Clock.milliseconds()
        try catalog.append(gone.map { Catalog.stateRecord($0, ManagementCoding.statePurged, at: now) }, sync: true)
        checkpointCatalogIfLong(force: true)
        return gone
    }
}
