/// The params a filter reads: a run list filtered by `params.lr < 1e-3` decodes each run's `lr`
/// and moves past its other params (`Store.matching`), decoding the whole record only of the runs
/// that match.
extension Filter {
    /// Every param key the expression reads (`params.k`, `params.k[i]`, `len(params.k)`, `params has "k"`).
    /// A run whose params are cut down to these keys matches exactly when the whole run does:
    /// every param test reads its key alone (`FilterField.value(in:)`, `FilterNode.evaluate`).
    var paramKeys: Set<String> {
        var keys = Set<String>()
        root.collectParams(into: &keys)
        return keys
    }
}

extension FilterNode {
    func collectParams(into keys: inout Set<String>) {
        switch self {
        case .or(let xs), .and(let xs): for x in xs { x.collectParams(into: &keys) }
        case .not(let x): x.collectParams(into: &keys)
        case .compare(let f, _, _), .list(let f, _, _), .contains(let f, _), .element(let f, _), .isNull(let f, _):
            if let k = f.paramKey { keys.insert(k) }
        case .has(let set, let k): if set == .params { keys.insert(k) }
        }
    }
}

extension FilterField {
    /// The param key this field reads, if it reads one.
    var paramKey: String? {
        switch self {
        case .param(let k): return k
        case .element(let base, _), .length(let base): return base.paramKey
        default: return nil
        }
    }
}
