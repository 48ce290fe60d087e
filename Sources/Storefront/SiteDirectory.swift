import Foundation

/// A folder a web server serves the site from (`<data>/site`). Publishing writes each file
/// that changed by rename, so a request never sees half a file; files no longer built stay,
/// so a page loaded before an upgrade still finds its old assets.
public struct SiteDirectory: Sendable {
    /// The folder.
    public let path: String

    /// The site folder at `path`, created by the first publish.
    public init(path: String) {
        self.path = path
    }

    /// Writes `files`, one publisher at a time (an exclusive `flock` on the folder), so two
    /// sales created at once cannot leave a front page that lists only one of them. Assets go
    /// first: a page is never published before the assets it names.
    public func publish(_ files: [SiteFile]) throws {
        if let outside = files.first(where: { $0.path.hasPrefix("/") || $0.path.split(separator: "/").contains("..") })
        {
            throw StorefrontError("\(outside.path) is not a path inside the site")
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let folder = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { throw StorefrontError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(folder) }
        while flock(folder, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw StorefrontError("cannot lock \(path): \(String(cString: strerror(errno)))")
            }
        }
        for file in files.filter(\.isAsset) + files.filter({ !$0.isAsset }) {
            let target = URL(fileURLWithPath: path + "/" + file.path)
            if let current = FileManager.default.contents(atPath: target.path), Array(current) == file.bytes {
                continue
            }
            try FileManager.default.createDirectory(
                at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.bytes).write(to: target, options: .atomic)
        }
    }
}
