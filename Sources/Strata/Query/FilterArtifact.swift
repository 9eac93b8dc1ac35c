// `artifact("<name>").<field>` in filter expressions (docs/FILTERS.md, "Artifacts").

extension FilterField {
    /// The fields an artifact test can read.
    static let artifactFields = ["digest", "uri", "kind", "size", "step", "role"]

    /// The field of the run's newest artifact named `name` (an output when it has one); nil when
    /// the run has no such artifact, or the artifact no step.
    static func artifactValue(_ run: RunInfo, _ name: String, _ field: String) -> ParamValue? {
        guard let a = run.artifacts.last(where: { $0.name == name && $0.role == .output }) ?? run.artifacts.last(where: { $0.name == name }) else {
            return nil
        }
        switch field {
        case "digest": return .string(a.digest)
        case "uri": return .string(a.uri)
        case "kind": return .string(a.kind)
        case "size": return .int(a.size)
        case "step": return a.step.map { .int($0) }
        case "role": return .string(a.role.rawValue)
        default: return nil
        }
    }
}

extension FilterParser {
    /// `artifact("<name>").<field>`, starting at the word `artifact`.
    mutating func parseArtifact() throws(StrataError) -> FilterField {
        try advance()
        guard token.isSymbol("(") else {
            throw error("expected '(' after artifact (as in artifact(\"model\").digest), found \(token.found)")
        }
        let open = token.position
        try advance()
        guard case .string(let name) = token.kind else {
            throw error("expected an artifact name in quotes after 'artifact(', found \(token.found)")
        }
        try advance()
        guard token.isSymbol(")") else {
            throw error("expected ')' to close 'artifact(' at position \(open), found \(token.found)")
        }
        try advance()
        let shown = "artifact(\(FilterField.quote(name)))"
        let list = FilterField.artifactFields.joined(separator: ", ")
        guard token.isSymbol(".") else { throw error("expected '.' and a field after \(shown) (one of: \(list)), found \(token.found)") }
        try advance()
        guard case .word(let field) = token.kind, FilterField.artifactFields.contains(field) else {
            throw error("unknown artifact field \(token.found) after '\(shown).' (one of: \(list))")
        }
        try advance()
        return .artifact(name, field)
    }
}
