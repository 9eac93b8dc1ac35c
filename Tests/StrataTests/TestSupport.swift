import Foundation
// TempDir and builtProduct, shared by every test target.
@_exported import StrataTestSupport
import Testing

@testable import Strata

/// A seeded generator (SplitMix64) so failures can be replayed from the printed seed.
typealias SeededRandom = SplitMix64

/// Bit-exact comparison of doubles (NaN payloads included).
func sameBits(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern }

/// Rewrites a segment file in format version 1 (chunk tables and directory statistics for every
/// series, no packs), as Strata wrote it before packed small series: the same encoder re-encodes
/// each stored chunk, and the directory's descriptive fields are kept. For tests of old stores
/// and of damage to chunk tables.
func rewriteSegmentAsVersion1(_ path: String) throws { try rewriteSegment(path, version: 1) }

/// Rewrites a segment file in an older format `version`: 1 as above; 2 packs small series but
/// stores no statistics for them (as written before version 3), so readers derive them; 3 with
/// `runIndex: false` has no run index (header flag bit 1 clear), as written before it.
func rewriteSegment(_ path: String, version: UInt32, runIndex: Bool = true) throws {
    let name = (path as NSString).lastPathComponent
    let tmp = (path as NSString).deletingLastPathComponent + "/.v\(version)tmp"
    try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    let segment = try Segment(path: path, name: name)
    var writer = try SegmentWriter(path: tmp + "/" + name, tmpDir: tmp, version: version, runIndex: runIndex)
    for s in segment.series {
        let chunks = try s.chunks().map { e in ChunkEncoder.encode(try ChunkColumns(ChunkHandle(segment: segment, entry: e, rankBase: 0))) }
        try writer.add(series: s.key, chunks: chunks)
    }
    try writer.finish(meta: segment.meta)
    #expect(rename(tmp + "/" + name, path) == 0)
}
