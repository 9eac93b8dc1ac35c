import StrataCodecs

// Catalog records of run management (kinds 9 to 14, docs/FORMAT.md, "Run management records"):
// how they are written and applied, and which runs they hide from listings.

extension Catalog {
    /// Runs hidden from listings (deleted or purged).
    var hiddenCount: Int { deletedIDs.count + purgedIDs.count }

    /// `ids` without deleted and purged runs.
    func visible(_ ids: [RunID]) -> [RunID] {
        if deletedIDs.isEmpty && purgedIDs.isEmpty { return ids }
        return ids.filter { !deletedIDs.contains($0) && !purgedIDs.contains($0) }
    }

    /// Applies a management record to `info`. Returns true when the record purges the run.
    func applyManagement(_ kind: CatalogRecord.Kind, _ r: inout ByteReader, to info: inout RunInfo, offset: Int) throws(StrataError) -> Bool {
        switch kind {
        case .state:
            let state = try r.u8("run state")
            let ms = try r.i64("state time")
            switch state {
            case ManagementCoding.stateDeleted:
                info.deletedMs = ms
                info.history.append(RunEdit(field: .deleted, value: "", atMs: ms))
            case ManagementCoding.stateRestored:
                info.deletedMs = nil
                info.history.append(RunEdit(field: .restored, value: "", atMs: ms))
            case ManagementCoding.statePurged:
                return true
            default:
                throw StrataError.corrupt("unknown run state \(state)", path: path, offset: offset)
            }
        case .rename:
            let field = try r.u8("renamed field")
            let value = try r.string("new name")
            let ms = try r.i64("rename time")
            if field == ManagementCoding.fieldProject {
                info.project = value
                info.history.append(RunEdit(field: .project, value: value, atMs: ms))
            } else {
                info.name = value
                info.history.append(RunEdit(field: .name, value: value, atMs: ms))
            }
        case .annotate:
            let field = try r.u8("annotated field")
            let text = try r.string("note")
            let ms = try r.i64("note time")
            let purpose = field == ManagementCoding.fieldPurpose
            let key = purpose ? "purpose" : "note"
            if text.isEmpty { info.metadata[key] = nil } else { info.metadata[key] = .string(text) }
            info.history.append(RunEdit(field: purpose ? .purpose : .note, value: text, atMs: ms))
        case .tagEdit:
            let ms = try r.i64("tag edit time")
            let add = try r.count("tag count", max: 1 << 16)
            for _ in 0..<add {
                let t = try r.string("tag")
                info.tags.insert(t)
                info.history.append(RunEdit(field: .tagAdded, value: t, atMs: ms))
            }
            let remove = try r.count("tag count", max: 1 << 16)
            for _ in 0..<remove {
                let t = try r.string("tag")
                info.tags.remove(t)
                info.history.append(RunEdit(field: .tagRemoved, value: t, atMs: ms))
            }
        case .artifact:
            info.addArtifact(try ManagementCoding.readArtifact(&r, run: info.id))
        case .deployment:
            info.deployments.append(try ManagementCoding.readDeployment(&r, run: info.id))
        default:
            break
        }
        return false
    }

    // MARK: record bodies

    static func stateRecord(_ run: RunID, _ state: UInt8, at ms: Int64) -> CatalogRecord {
        var w = ByteWriter()
        w.u8(state)
        w.i64(ms)
        return CatalogRecord(kind: .state, run: run, body: w.bytes)
    }

    static func renameRecord(_ run: RunID, project: Bool, _ value: String, at ms: Int64) -> CatalogRecord {
        var w = ByteWriter()
        w.u8(project ? ManagementCoding.fieldProject : ManagementCoding.fieldName)
        w.string(value)
        w.i64(ms)
        return CatalogRecord(kind: .rename, run: run, body: w.bytes)
    }

    static func annotateRecord(_ run: RunID, purpose: Bool, _ text: String, at ms: Int64) -> CatalogRecord {
        var w = ByteWriter()
        w.u8(purpose ? ManagementCoding.fieldPurpose : ManagementCoding.fieldNote)
        w.string(text)
        w.i64(ms)
        return CatalogRecord(kind: .annotate, run: run, body: w.bytes)
    }

    static func tagEditRecord(_ run: RunID, add: [String], remove: [String], at ms: Int64) -> CatalogRecord {
        var w = ByteWriter()
        w.i64(ms)
        w.varint(UInt64(add.count)); for t in add { w.string(t) }
        w.varint(UInt64(remove.count)); for t in remove { w.string(t) }
        return CatalogRecord(kind: .tagEdit, run: run, body: w.bytes)
    }

    static func artifactRecord(_ a: Artifact) -> CatalogRecord {
        var w = ByteWriter()
        ManagementCoding.writeArtifact(a, into: &w)
        return CatalogRecord(kind: .artifact, run: a.run, body: w.bytes)
    }

    static func deploymentRecord(_ d: Deployment) -> CatalogRecord {
        var w = ByteWriter()
        ManagementCoding.writeDeployment(d, into: &w)
        return CatalogRecord(kind: .deployment, run: d.run, body: w.bytes)
    }
}
