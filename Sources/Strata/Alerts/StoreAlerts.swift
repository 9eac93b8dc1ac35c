// The library API of alert rules and events (docs/FORMAT.md "Alerts", docs/API.md "Alerts").

extension Store {
    /// Adds an alert rule to the store (`alerts/rules`). `strata serve` picks it up within a
    /// second; `strata watch` when it starts.
    ///
    /// - Parameters:
    ///   - scope: The runs it watches: a project (its runs now and later) or one run.
    ///   - metric: The metric it watches (all series of that name, whatever their labels).
    ///   - condition: When it fires.
    ///   - webhook: An `http://` URL that `strata serve` posts each event to, or nil.
    ///   - allowNewMetric: Accept a metric that no run in the scope has logged yet (by default
    ///     that is refused, as it is most often a typo).
    /// - Returns: The stored rule, with its new id.
    /// - Throws: ``StrataError`` with code `.invalidArgument` for a bad metric name, threshold,
    ///   count, duration, percentage or URL, or a metric unknown in the scope (naming the closest
    ///   known metric); `.notFound` for an unknown run or baseline run; `.io` when the file cannot
    ///   be written.
    @discardableResult
    public func addAlert(
        scope: AlertScope, metric: String, condition: AlertCondition, webhook: String? = nil,
        allowNewMetric: Bool = false
    ) throws(StrataError) -> AlertRule {
        try Names.validateMetric(metric)
        try condition.validate()
        if let webhook { try validateWebhookURL(webhook) }
        let known: Set<String>
        let place: String
        switch scope {
        case .run(let id):
            guard runInfo(id) != nil else { throw StrataError(.notFound, "alert on run \(id.text): no such run in store \(path)") }
            known = Set(try series(of: id).map(\.key.metric))
            place = "run \(id.text)"
        case .project(let p):
            try Names.validateRunName(p, what: "project name")
            var names: Set<String> = []
            for info in try runs() where info.project == p {
                for s in try series(of: info.id) { names.insert(s.key.metric) }
            }
            known = names
            place = "project \(p)"
        }
        if !allowNewMetric && !known.contains(metric) {
            let hint = known.isEmpty ? " (it has no metrics yet)" : Suggest.didYouMean(metric, in: known.sorted())
            throw StrataError(
                .invalidArgument,
                "alert on unknown metric \"\(metric)\": no run of \(place) has logged it\(hint); pass allowNewMetric (CLI --new-metric) to watch a metric not logged yet"
            )
        }
        if case .baseline(let b, _) = condition {
            guard runInfo(b) != nil else { throw StrataError(.notFound, "alert baseline run \(b.text) does not exist in store \(path)") }
            if !allowNewMetric, !(try series(of: b)).contains(where: { $0.key.metric == metric }) {
                throw StrataError(.invalidArgument, "alert baseline run \(b.text) has no metric \"\(metric)\"")
            }
        }
        let rule = AlertRule(
            id: RunID.generate().text, scope: scope, metric: metric, condition: condition, webhook: webhook,
            createdMs: Clock.milliseconds())
        try writing { () throws(StrataError) in
            try AlertFiles.withLock(path) { () throws(StrataError) in
                let rules = try AlertFiles.readRules(path)
                guard rules.count < 10_000 else { throw StrataError(.limitExceeded, "the store has 10000 alert rules, the limit") }
                try AlertFiles.writeRules(path, rules + [rule], tmpDir: paths.tmp)
            }
        }
        return rule
    }

    /// The alert rules of the store, oldest first.
    ///
    /// - Returns: The rules (none when the store has no rules file).
    /// - Throws: ``StrataError`` with code `.corrupt` when the rules file is damaged, `.io`.
    public func alertRules() throws(StrataError) -> [AlertRule] {
        try AlertFiles.readRules(path)
    }

    /// Removes an alert rule. Its events stay.
    ///
    /// - Parameter id: The rule's id, or a unique beginning or end of it (at least 4 characters).
    /// - Returns: The removed rule.
    /// - Throws: ``StrataError`` with code `.notFound` when no rule matches, `.invalidArgument`
    ///   when a fragment matches several.
    @discardableResult
    public func removeAlert(_ id: String) throws(StrataError) -> AlertRule {
        try writing { () throws(StrataError) -> AlertRule in
            try AlertFiles.withLock(path) { () throws(StrataError) -> AlertRule in
                var rules = try AlertFiles.readRules(path)
                let i = try alertIndex(id, in: rules)
                let removed = rules.remove(at: i)
                try AlertFiles.writeRules(path, rules, tmpDir: paths.tmp)
                return removed
            }
        }
    }

    func alertIndex(_ id: String, in rules: [AlertRule]) throws(StrataError) -> Int {
        if let i = rules.firstIndex(where: { $0.id == id.uppercased() }) { return i }
        let f = id.uppercased()
        let matches = f.utf8.count >= 4 ? rules.indices.filter { rules[$0].id.hasPrefix(f) || rules[$0].id.hasSuffix(f) } : []
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 { throw .invalid("alert id \"\(id)\" is ambiguous: it matches \(matches.count) rules; give more characters") }
        throw StrataError(.notFound, "no alert rule with id \"\(id)\" in store \(path)")
    }

    /// The alert events of the store (of one run when `run` is given), in firing order, with
    /// their delivery times.
    ///
    /// - Parameter run: Only this run's events, or all when nil.
    /// - Returns: The events.
    /// - Throws: ``StrataError`` with code `.corrupt` when the events file is not one, `.io`.
    public func alertEvents(run: RunID? = nil) throws(StrataError) -> [AlertEvent] {
        var out: [AlertEvent] = []
        var index: [String: Int] = [:]
        for rec in try AlertFiles.readEvents(path) {
            switch rec {
            case .fired(let e):
                if run == nil || e.run == run { index[e.id] = out.count; out.append(e) }
            case .delivered(let id, let t):
                if let i = index[id], out[i].deliveredMs == nil { out[i].deliveredMs = t }
            case .rearmed: break
            }
        }
        return out
    }

    /// Records that an event was delivered to its rule's webhook (`strata serve` calls this after
    /// a 2xx answer), so a restarted server does not post it again.
    ///
    /// - Parameter event: The event's id.
    /// - Throws: ``StrataError`` when the events file cannot be written.
    public func recordAlertDelivered(_ event: String) throws(StrataError) {
        var end: Int? = nil
        try writing { () throws(StrataError) in
            try AlertFiles.append(
                path, [.delivered(event: event, timeMs: Clock.milliseconds())], sync: true, damagedDir: paths.damaged, knownEnd: &end)
        }
    }

    /// Events not delivered yet whose rule (still in the store) has a webhook, with that URL:
    /// what a starting server delivers first.
    ///
    /// - Returns: (event, webhook URL) pairs in firing order.
    /// - Throws: ``StrataError`` when the alert files cannot be read.
    public func undeliveredAlertEvents() throws(StrataError) -> [(event: AlertEvent, webhook: String)] {
        let hooks = Dictionary(try alertRules().compactMap { r in r.webhook.map { (r.id, $0) } }, uniquingKeysWith: { a, _ in a })
        return try alertEvents().compactMap { e in
            guard e.deliveredMs == nil, let h = hooks[e.rule] else { return nil }
            return (e, h)
        }
    }
}
