/// The folders of a store directory. Layout: `docs/FORMAT.md`, "Store directory".
struct StorePaths: Sendable {
    let root: String
    var versionFile: String { root + "/STRATA" }
    var catalog: String { root + "/catalog.log" }
    var logs: String { root + "/wal" }
    var segments: String { root + "/segments" }
    var tmp: String { root + "/tmp" }
    var damaged: String { root + "/damaged" }
    var compactionLock: String { root + "/compaction.lock" }
    var catalogLock: String { root + "/catalog.lock" }
    var batchKeys: String { root + "/keys" }

    func segment(_ name: String) -> String { segments + "/" + name }

    static func segmentName(writer: String, generation: UInt64) -> String {
        "\(writer)-\(generation).seg"
    }
}
