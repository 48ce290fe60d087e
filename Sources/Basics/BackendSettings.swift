import Foundation
import Glibc

/// Where a data directory's backend keeps its truth and what its hosts share of the gate, in
/// `backend.json` beside the keys (`flashsale init --store --gate`). No file: the embedded
/// backend, the directory's own SQLite database and stock segment.
public struct BackendSettings: Codable, Sendable, Equatable {
    /// The PostgreSQL server the hosts of a sale share (a `postgres://` URL or a conninfo), or
    /// nil for the directory's SQLite database.
    public var store: String?
    /// The Redis server the hosts of a sale share their gate's tables in (`redis://`), or nil
    /// for the segment's own.
    public var gate: String?

    public init(store: String? = nil, gate: String? = nil) {
        self.store = store
        self.gate = gate
    }
}

extension DataDirectory {
    public var backendSettingsFile: String { path + "/backend.json" }

    /// The directory's backend settings: the embedded backend's when there is no file. A file
    /// that cannot be read (another user's, say) is an error, never the embedded backend: that
    /// would be a second truth beside the one the settings name.
    public func backendSettings() throws -> BackendSettings {
        let fd = open(backendSettingsFile, O_RDONLY | O_CLOEXEC)
        if fd < 0 && errno == ENOENT { return BackendSettings() }
        guard fd >= 0 else { throw SystemCallError(call: "open", subject: backendSettingsFile, errno: errno) }
        let file = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            return try JSONDecoder().decode(BackendSettings.self, from: try file.readToEnd() ?? Data())
        } catch {
            throw DataDirectoryError("\(backendSettingsFile) is not valid backend settings: \(error)")
        }
    }

    /// Writes the settings to a fresh file readable by the owner only (a URL may hold a
    /// password), synced, then renamed into place: a crash leaves the old settings or the new.
    public func saveBackendSettings(_ settings: BackendSettings) throws {
        let bytes = Array(try prettyJSON(settings)) + [UInt8(ascii: "\n")]
        try writeDraft(bytes, beside: backendSettingsFile) { draft in
            try systemCall("rename", backendSettingsFile) { rename(draft, backendSettingsFile) }
        }
    }
}
