/// "Did you mean …" suggestions for mistyped names: the one place that decides how close a word
/// must be to a known name (the filter language, the CLI's keys, runs and metrics, the server's
/// parameters all use it).
public enum Suggest {
    /// The known name closest to `word` (case-insensitive), if it is within a typo's distance:
    /// at most 1 edit for words up to 5 characters, 2 for longer ones (insertions, deletions,
    /// substitutions and swaps of neighbours each count 1). Ties go to the first in `candidates`.
    ///
    /// - Parameters:
    ///   - word: The word as typed.
    ///   - candidates: The known names.
    /// - Returns: The closest known name, or nil when none is within a typo's distance.
    public static func closest<S: Sequence<String>>(to word: String, in candidates: S) -> String? {
        let lower = Array(word.lowercased())
        let limit = Swift.max(1, Swift.min(2, word.count / 3))
        var best: (name: String, distance: Int)?
        for name in candidates where name != word {
            let d = editDistance(lower, Array(name.lowercased()))
            if d <= limit, best == nil || d < best!.distance { best = (name, d) }
        }
        return best?.name
    }

    /// ` (did you mean X?)` for the closest name, else "" — for appending to an error message.
    ///
    /// - Parameters:
    ///   - word: The word as typed.
    ///   - candidates: The known names.
    /// - Returns: ` (did you mean X?)`, or "" when no name is close.
    public static func didYouMean<S: Sequence<String>>(_ word: String, in candidates: S) -> String {
        closest(to: word, in: candidates).map { " (did you mean \($0)?)" } ?? ""
    }

    /// Optimal string alignment distance (insertions, deletions, substitutions, transpositions).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = Swift.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = Swift.min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
