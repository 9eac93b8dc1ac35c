/// Filters evaluated over columns: one value per run of each param the filter reads (the catalog
/// checkpoint's runs, `CatalogCheckpoint.paramColumns`), instead of a dictionary per run. The
/// leaves are the ones `FilterNode.evaluate` tests (`FilterNode.holds`, `FilterField.value(param:)`),
/// so a run matches here exactly when it matches there.
extension Filter {
    /// Whether every leaf reads a param or a metric of the run (nothing else of its record), so
    /// that the filter can be evaluated from param columns and run ids.
    var readsOnlyParamsAndMetrics: Bool { root.readsOnlyParamsAndMetrics }

    /// Which of `active` rows match: `column(key)` holds one value per row of the param `key`
    /// (nil: absent), `metricLeaf(row, leaf)` evaluates a leaf that reads a metric. Rows that are
    /// not active are false. Only for filters that ``readsOnlyParamsAndMetrics``.
    func matchingRows(
        _ active: [Bool], column: (String) -> [ParamValue?], metricLeaf: (Int, FilterNode) -> Bool
    ) -> [Bool] {
        root.mask(active, column: column, metricLeaf: metricLeaf)
    }
}

extension FilterNode {
    var readsOnlyParamsAndMetrics: Bool {
        switch self {
        case .or(let xs), .and(let xs): return xs.allSatisfy(\.readsOnlyParamsAndMetrics)
        case .not(let x): return x.readsOnlyParamsAndMetrics
        case .compare(let f, _, _), .list(let f, _, _), .contains(let f, _), .element(let f, _), .isNull(let f, _):
            return f.paramKey != nil || f.isMetric
        case .has(let set, _): return set == .params
        }
    }

    /// The rows of `active` this node holds for; an `and` tests each part only on the rows the
    /// parts before it kept, an `or` only on the rows not yet kept (as `evaluate` stops early), so
    /// a metric is looked up for no more runs than a run-by-run walk would.
    func mask(_ active: [Bool], column: (String) -> [ParamValue?], metricLeaf: (Int, FilterNode) -> Bool) -> [Bool] {
        switch self {
        case .and(let xs):
            var cur = active
            for x in xs { cur = x.mask(cur, column: column, metricLeaf: metricLeaf) }
            return cur
        case .or(let xs):
            var out = [Bool](repeating: false, count: active.count)
            var rest = active
            for x in xs {
                let m = x.mask(rest, column: column, metricLeaf: metricLeaf)
                for i in m.indices where m[i] {
                    out[i] = true
                    rest[i] = false
                }
            }
            return out
        case .not(let x):
            let m = x.mask(active, column: column, metricLeaf: metricLeaf)
            return active.indices.map { active[$0] && !m[$0] }
        case .has(_, let key):
            let col = column(key)
            return active.indices.map { active[$0] && col[$0] != nil }
        case .compare(let f, _, _), .list(let f, _, _), .contains(let f, _), .element(let f, _), .isNull(let f, _):
            guard let key = f.paramKey else { return active.indices.map { active[$0] && metricLeaf($0, self) } }
            let col = column(key)
            if case .param = f { return active.indices.map { active[$0] && holds(col[$0]) } }
            return active.indices.map { active[$0] && holds(f.value(param: col[$0])) }
        }
    }
}
