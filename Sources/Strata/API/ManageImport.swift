// Artifacts and deployments brought over from another store (issue 15): `strata import parquet`
// of Strata's own export writes them with the times the source store recorded, and importing the
// same export twice writes nothing the second time.

extension ArtifactRules {
    /// `a` with its digest in lower case, once every field is checked (the errors name the field).
    static func checked(_ a: Artifact) throws(StrataError) -> Artifact {
        try checkWord(a.name, what: "artifact name")
        try checkWord(a.kind, what: "artifact kind")
        try checkURI(a.uri)
        var out = a
        out.digest = try checkDigest(a.digest)
        guard a.size >= 0 else { throw .invalid("artifact size \(a.size) is negative") }
        try Limits.check(params: a.metadata, what: "artifact metadata")
        return out
    }
}

extension Store {
    /// Records an artifact as another store recorded it, for run `run` of this store: every field
    /// is kept, its logging time (``Artifact/loggedMs``) included; ``Artifact/run`` is ignored.
    /// Nothing is written when the run has an artifact of the same name, digest and role
    /// already (so importing an export twice adds nothing).
    ///
    /// - Parameters:
    ///   - artifact: The artifact as exported.
    ///   - run: The run of this store it belongs to.
    /// - Returns: Whether a record was written.
    /// - Throws: ``StrataError``: `.notFound` for an unknown or deleted run, `.invalidArgument`
    ///   for a bad digest, name, kind, URI, size or metadata.
    @discardableResult
    public func importArtifact(_ artifact: Artifact, into run: RunID) throws(StrataError) -> Bool {
        var a = try ArtifactRules.checked(artifact)
        a.run = run
        let info = try liveRun(run)
        if info.artifacts.contains(where: { $0.name == a.name && $0.digest == a.digest && $0.role == a.role }) { return false }
        _ = try editRun(run, [Catalog.artifactRecord(a)])
        return true
    }

    /// Records a deployment as another store recorded it, for run `run` of this store (the run
    /// that produced the artifact, which must hold it already: import artifacts first). Both
    /// times are kept; ``Deployment/run`` is ignored. Nothing is written when the run holds an
    /// equal deployment already (same artifact, digest, environment and times).
    ///
    /// - Parameters:
    ///   - deployment: The deployment as exported.
    ///   - run: The run of this store that produced the artifact.
    /// - Returns: Whether a record was written.
    /// - Throws: ``StrataError``: `.notFound` for an unknown or deleted run or an artifact the run
    ///   does not hold, `.invalidArgument` for a bad digest or environment name.
    @discardableResult
    public func importDeployment(_ deployment: Deployment, into run: RunID) throws(StrataError) -> Bool {
        var d = deployment
        d.run = run
        d.digest = try ArtifactRules.checkDigest(d.digest)
        try ArtifactRules.checkWord(d.environment, what: "environment name")
        let info = try liveRun(run)
        guard info.artifacts.contains(where: { $0.name == d.artifact && $0.digest == d.digest }) else {
            throw StrataError(.notFound, "run \(info.name) (\(info.id)) has no artifact \"\(d.artifact)\" with digest \(d.digest) to deploy")
        }
        if info.deployments.contains(d) { return false }
        _ = try editRun(run, [Catalog.deploymentRecord(d)])
        return true
    }

    /// The state of `run` for a management write: it must exist and not be deleted.
    func liveRun(_ run: RunID) throws(StrataError) -> RunInfo {
        try writeCreateIfPending(run)
        guard let info = runInfo(run) else { throw StrataError(.notFound, "no run \(run) in store \(path)") }
        if info.deletedMs != nil { throw StrataError(.notFound, "run \(run) is deleted (`strata run restore \(run)` brings it back)") }
        return info
    }
}
