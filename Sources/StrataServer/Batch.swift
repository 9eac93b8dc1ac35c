import Strata
import StrataInterop

/// Decodes an ingest body: a JSON array of records, or records one after another (JSON lines).
///
/// Each record goes through StrataInterop's `RecordDecoder` (the one `strata ingest` uses, in its
/// batch dialect: `strata ingest`'s JSON line format plus the columnar form). Everything is
/// checked before anything is written: a batch is rejected whole.
struct BatchDecoder {
    static func decode(_ body: [UInt8]) throws(APIError) -> [IngestRecord] {
        var decoder = RecordDecoder(.batch)
        var s = JSONScanner(body)
        s.skipSpace()
        guard let first = s.peek else { throw APIError(400, "the request body is empty (send a JSON array of records, or JSON lines)") }
        var out: [IngestRecord] = []
        var index = 0
        func record() throws(APIError) {
            do {
                var r = try decoder.record(&s)
                r.index = index
                out.append(r)
                index += 1
            } catch {
                throw apiError(error, index: index)
            }
        }
        do {
            if first == UInt8(ascii: "[") {
                if try s.beginArray() {
                    repeat { try record() } while try s.commaOr(UInt8(ascii: "]"))
                }
                s.skipSpace()
                if !s.atEnd { throw s.fail("unexpected \(s.describeHere()) after the closing ']'") }
            } else {
                while true {
                    s.skipSpace()
                    if s.atEnd { break }
                    try record()
                }
            }
        } catch let e as JSONSyntaxError {
            throw APIError(400, "record \(index): malformed JSON at byte \(e.offset): \(e.message)", index: index)
        } catch let e as APIError {
            throw e
        } catch {
            throw APIError(400, "record \(index): \(error)", index: index)
        }
        return out
    }

    /// The answer to a refused record: 400, "record N: …", the record's index and field.
    static func apiError(_ failure: RecordFailure, index: Int) -> APIError {
        switch failure {
        case .invalid(let message, let field):
            return APIError(400, "record \(index): \(message)", index: index, field: field)
        case .malformed(let e, let key?):
            // Malformed text inside a value (e.g. a lone surrogate): name the key it is in.
            return APIError(400, "record \(index): malformed JSON at byte \(e.offset) in \"\(key)\": \(e.message)", index: index, field: key)
        case .malformed(let e, nil):
            return APIError(400, "record \(index): malformed JSON at byte \(e.offset): \(e.message)", index: index)
        }
    }
}
