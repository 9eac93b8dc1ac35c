import Foundation
import Strata

/// Q1–Q7 of QUERIES.md (filled in with the query engine).
enum Queries {
    static func run(long: String, sweep: String, repeats: Int) throws -> ([String: Any], [String: Double]) {
        ([:], [:])
    }
}
