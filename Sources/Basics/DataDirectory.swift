import Foundation
import Glibc

/// The data directory: database, keys, sockets, logs and the generated server
/// configuration. Chosen by `--data`, else `FLASHSALE_DATA`, else `./var`.
public struct DataDirectory: Sendable, Equatable {
    public static let environmentVariable = "FLASHSALE_DATA"

    /// Absolute path of the directory.
    public let path: String

    public init(path: String) {
        self.path = absolutePath(path)
    }

    /// `option`, else `$FLASHSALE_DATA`, else `./var`.
    public static func resolve(option: String?, environment: [String: String]) -> DataDirectory {
        DataDirectory(path: option ?? environment[environmentVariable] ?? "var")
    }

    /// This installation's own secret: it signs order tokens.
    public var secretKey: String { path + "/secret.key" }
    /// The secret the main site signs buyers' identity tokens with. `init` writes a random one
    /// for the demo and tests; an operator replaces it with the site's shared secret.
    public var identityKey: String { path + "/identity.key" }
    public var database: String { path + "/flashsale.db" }
    /// The stock segment, the memory-mapped fast gate in front of the database.
    public var segment: String { path + "/stock.segment" }
    public var sockets: String { path + "/run" }
    public var logs: String { path + "/log" }
    /// Where every function's stderr goes: its startup failures and internal errors.
    public var functionLog: String { logs + "/functions.log" }
    /// Set to `1` in the environment of functions that serve a demo's data directory: only
    /// the guest function reads it, and refuses to run without it.
    public static let demoVariable = "FLASHSALE_DEMO"

    /// Creates the directory, its sockets and logs folders and its two keys; keeps existing
    /// keys, so running it again is safe. A key is 32 random bytes, hex, readable by the owner only.
    public func createKeys() throws {
        for directory in [path, sockets, logs] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try systemCall("chmod", path) { chmod(path, 0o700) }
        try writeKeyIfMissing(secretKey)
        try writeKeyIfMissing(identityKey)
    }

    /// Throws a one-line error unless the directory exists and this process can write it.
    public func checkUsable() throws(DataDirectoryError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataDirectoryError("data directory \(path) does not exist: run `flashsale init` first")
        }
        guard access(path, W_OK) == 0 else {
            throw DataDirectoryError("data directory \(path) is not writable by this user")
        }
        guard FileManager.default.fileExists(atPath: secretKey) else {
            throw DataDirectoryError("data directory \(path) has no secret key: run `flashsale init` first")
        }
    }

    /// Who owns the directory: the account a web server should run the functions as, since
    /// the directory and its keys are readable by their owner only.
    public func owner() throws -> FileOwner {
        var info = stat()
        _ = try systemCall("stat", path) { stat(path, &info) }
        return FileOwner(uid: info.st_uid, gid: info.st_gid)
    }

    /// The bytes of a key file, without a trailing newline: the HMAC key.
    public func keyBytes(_ file: String) throws -> [UInt8] {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        while bytes.last == UInt8(ascii: "\n") || bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count >= 32 else {
            throw DataDirectoryError("\(file) holds \(bytes.count) bytes; a key needs at least 32")
        }
        return bytes
    }

    /// Writes a random 256-bit key, hex, to a fresh temporary file beside `file`, then links it
    /// into place: a crash leaves either no key or a whole one, two `init`s at once cannot mix
    /// their drafts, and a key that exists is never replaced.
    private func writeKeyIfMissing(_ file: String) throws {
        if FileManager.default.fileExists(atPath: file) { return }
        try writeDraft(Array((randomHex(bytes: 32) + "\n").utf8), beside: file) { draft in
            if link(draft, file) == -1 && errno != EEXIST {
                throw SystemCallError(call: "link", subject: file, errno: errno)
            }
        }
    }

    /// Writes `bytes` to a fresh temporary file beside `file`, readable by the owner only, and
    /// syncs it; `place` then puts the draft in place (a link or a rename), and the draft's
    /// name is removed after (a rename has already moved it).
    func writeDraft(_ bytes: [UInt8], beside file: String, place: (String) throws -> Void) throws {
        var template = Array("\(file).XXXXXX".utf8CString)
        let fd = try systemCall("mkstemp", file) { mkstemp(&template) }  // mode 0600
        let draft = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer {
            close(fd)
            unlink(draft)
        }
        let written = try systemCall("write", draft) { write(fd, bytes, bytes.count) }
        guard written == bytes.count else { throw SystemCallError(call: "write", subject: draft, errno: EIO) }
        try systemCall("fsync", draft) { fsync(fd) }
        try place(draft)
    }
}

/// A file's owning user and group, with their names where the system knows them.
public struct FileOwner: Sendable, Equatable {
    public var uid: uid_t
    public var gid: gid_t

    public init(uid: uid_t, gid: gid_t) {
        self.uid = uid
        self.gid = gid
    }

    /// The user's name, if the system knows it.
    public var userName: String? { getpwuid(uid).map { String(cString: $0.pointee.pw_name) } }
    /// The group's name, if the system knows it.
    public var groupName: String? { getgrgid(gid).map { String(cString: $0.pointee.gr_name) } }
}

/// Why a data directory cannot be used, as one line an operator can act on.
public struct DataDirectoryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
