import Foundation
import Testing

@testable import Strata

/// The catalog reader's rule (docs/FORMAT.md, "Catalog"): a stored length is trusted only once the
/// record's checksum vouches for it, so a damaged length can neither hide the records after it nor
/// make the reader skip into the middle of one.
@Suite("Catalog damage")
struct CatalogDamageTests {
    /// A store whose catalog holds exactly the create records of runs a, b, c (in that order);
    /// returns the byte offset of each record.
    static func makeStore(_ path: String) throws -> [Int] {
        let s = try Store.open(at: path)
        s.catalog.writesPackedRecords = false  // one plain record a run
        for name in ["a", "b", "c"] { _ = try s.createRun(name: name, params: ["lr": .double(0.1)]) }
        // Leave the runs running: finishing them would append status records.
        try s.close()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/catalog.log")))
        var offsets: [Int] = []
        var pos = 0
        while pos + 16 <= bytes.count {
            offsets.append(pos)
            let len = Int(bytes[pos + 4]) | Int(bytes[pos + 5]) << 8 | Int(bytes[pos + 6]) << 16 | Int(bytes[pos + 7]) << 24
            pos += 16 + len
        }
        #expect(pos == bytes.count)
        return offsets
    }

    static func setLength(_ path: String, record at: Int, to len: UInt32) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for i in 0..<4 { bytes[at + 4 + i] = UInt8(truncatingIfNeeded: len >> (8 * UInt32(i))) }
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    static func names(_ store: Store) throws -> Set<String> {
        Set(try store.runs().filter { $0.metadata["catalog.missing"] == nil }.map(\.name))
    }

    @Test func lengthPointingIntoTheNextRecordDoesNotHideIt() throws {
        let dir = TempDir()
        let offsets = try Self.makeStore(dir.sub("s"))
        #expect(offsets.count >= 3)
        let catalog = dir.sub("s/catalog.log")
        // Record a claims to run 20 bytes into record b.
        let lenA = UInt32(offsets[1] - offsets[0] - 16)
        try Self.setLength(catalog, record: offsets[0], to: lenA + 20)
        let store = try Store.open(at: dir.sub("s"))
        defer { try? store.close() }
        #expect(try Self.names(store) == ["b", "c"])
        let report = try store.verify()
        #expect(report.problems.contains { $0.path == catalog && $0.message.contains("byte 0:") && $0.message.contains("checksum") })
    }

    @Test func hugeLengthInTheMiddleIsDamageNotAnUnfinishedTail() throws {
        let dir = TempDir()
        let offsets = try Self.makeStore(dir.sub("s"))
        let catalog = dir.sub("s/catalog.log")
        try Self.setLength(catalog, record: offsets[1], to: 0x7FFF_FFF0)
        let store = try Store.open(at: dir.sub("s"))
        defer { try? store.close() }
        #expect(try Self.names(store) == ["a", "c"])
        // New records after the damage are read too (the reader is not stuck at the damage).
        _ = try store.createRun(name: "d")
        try store.flush()  // creation is batched: written at flush
        let reopened = try Store.open(at: dir.sub("s"))
        defer { try? reopened.close() }
        #expect(try Self.names(reopened) == ["a", "c", "d"])
        #expect(try reopened.verify().problems.contains { $0.path == catalog && $0.message.contains("byte \(offsets[1]):") })
    }

    @Test func unfinishedTailIsRetriedNotReportedAsDamage() throws {
        let dir = TempDir()
        let offsets = try Self.makeStore(dir.sub("s"))
        let path = dir.sub("s/catalog.log")
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        let last = offsets[offsets.count - 1]
        // A reader looks while the last record is only half written (read at the catalog level:
        // opening a store may append records of its own, which would rightly make this damage).
        let cut = last + (whole.count - last) / 2
        try whole.prefix(cut).write(to: URL(fileURLWithPath: path))
        let catalog = Catalog(path: path)
        try catalog.refresh()
        #expect(catalog.damaged.isEmpty)
        #expect(Set(catalog.runs.values.map(\.name)) == ["a", "b", "c"])
        // The writer finishes its record: the same reader now reads it, still without damage.
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        try h.write(contentsOf: whole.suffix(from: cut))
        try h.close()
        try catalog.refresh()
        #expect(catalog.damaged.isEmpty)
        let fresh = Catalog(path: path)
        try fresh.refresh()
        #expect(fresh.runs.mapValues(\.status) == catalog.runs.mapValues(\.status))
        #expect(fresh.runs.count == 3)
    }

    @Test func tornRecordFollowedByANewOneIsDamage() throws {
        let dir = TempDir()
        let offsets = try Self.makeStore(dir.sub("s"))
        let path = dir.sub("s/catalog.log")
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        // Record b torn in its middle, then the records after it appended whole.
        let tornAt = offsets[1] + 10
        var damagedFile = whole.prefix(tornAt)
        damagedFile.append(whole.suffix(from: offsets[2]))
        try damagedFile.write(to: URL(fileURLWithPath: path))
        let catalog = Catalog(path: path)
        try catalog.refresh()
        #expect(Set(catalog.runs.values.map(\.name)) == ["a", "c"])
        #expect(catalog.damaged.map(\.offset) == [offsets[1]])
    }

    @Test func oversizedRecordIsRefusedOnAppend() throws {
        let dir = TempDir()
        let store = try Store.open(at: dir.sub("s"))
        defer { try? store.close() }
        let big = String(repeating: "x", count: 60_000)
        var params: [String: ParamValue] = [:]
        for i in 0..<300 { params["p\(i)"] = .string(big) }  // about 18 MB
        #expect(throws: StrataError.self) { _ = try store.createRun(name: "huge", params: params) }
        #expect(try store.runs().isEmpty)
        #expect(try store.verify().isHealthy)
    }
}
