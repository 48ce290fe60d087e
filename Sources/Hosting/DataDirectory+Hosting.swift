import Basics
import Foundation
import Store

extension DataDirectory {
    public var uploads: String { path + "/tmp" }
    public var errorPages: String { path + "/errors" }
    public var lighttpdConfig: String { path + "/lighttpd.conf" }
    public var lighttpdPidFile: String { sockets + "/lighttpd.pid" }
    /// The published storefront, the folder lighttpd serves: see ``publishSite(_:sales:)``.
    public var site: String { path + "/site" }
    /// Present once `flashsale demo` has used the directory: only then may it replace the demo sale.
    public var demoMarker: String { path + "/demo" }

    /// Creates the directory and what it holds; keeps an existing secret key and database,
    /// so running it again is safe. The key is 32 random bytes, hex, readable by the owner only.
    /// The SQLite database only for the embedded backend (no store in ``backendSettings()``).
    public func initialize() throws {
        try createKeys()
        for directory in [uploads, errorPages] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        if try backendSettings().store == nil { _ = try SQLiteSaleStore(path: database) }
    }
}
