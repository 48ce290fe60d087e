import Basics
import Foundation
import Hosting

/// Where the tests find the project and its built executables.
public enum Paths {
    /// The package root (the folder holding Package.swift).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.path
            }
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    /// The folder with `flashsale` and the `flashsale-*` functions: `$FLASHSALE_BIN`, else the
    /// folder of the running test bundle, which SwiftPM builds beside them.
    public static let binDirectory: String =
        ProcessInfo.processInfo.environment["FLASHSALE_BIN"] ?? (try? executableDirectory()) ?? ".build/debug"

    public static func executable(_ name: String) -> String { "\(binDirectory)/\(name)" }
}

/// A fresh directory under /tmp (short, so unix socket paths fit), removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ prefix: String = "fs") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        path = String(cString: made)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A loopback TCP port that was free a moment ago.
public func freePort() throws -> Int {
    try PortHolder().port
}

/// Holds a loopback TCP port in the listening state until released.
public final class PortHolder {
    public let port: Int
    /// The listening socket, closed when the holder is released.
    public let descriptor: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        close(descriptor)
    }
}
