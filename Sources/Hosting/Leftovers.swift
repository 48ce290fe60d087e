import Basics
import Foundation

/// What a `serve` that died hard (kill -9, a crash) may have left running on a data directory:
/// a lighttpd (its executable is lighttpd) whose `-f` names the directory's lighttpd.conf, and
/// function processes whose socket (fd 0) is one lighttpd spawned in its `run/` folder
/// (`<name>.sock-N`). Paths are compared once resolved (symbolic links, `..`, the process's
/// working directory), so a serve started on another spelling of the directory is found.
/// Processes of `flashsale config spawn` (`<name>.spawn.sock`), a `tail -f` of the
/// configuration and anything else are never touched.
struct Leftovers {
    /// A process found, with its start time (`/proc/PID/stat`), so a pid reused meanwhile is
    /// never signalled.
    struct Process: Equatable {
        var pid: pid_t
        var startTime: UInt64
        var isLighttpd: Bool
    }

    var processes: [Process]

    /// The leftovers on `data` now, this process excluded. `lighttpd` is the binary serve runs;
    /// a process counts as a lighttpd when its executable is that one or is named lighttpd.
    init(of data: DataDirectory, lighttpd: String? = nil) {
        let sockets = Set(boundSockets(in: data.sockets).map(\.inode))
        let config = canonicalPath(data.lighttpdConfig)
        let binary = lighttpd.flatMap(canonicalPath)
        processes = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = pid_t(entry), pid != getpid(), let startTime = liveStartTime(of: pid) else { return nil }
            if let config, isLighttpd(pid, binary), namesConfig(pid, config) {
                return Process(pid: pid, startTime: startTime, isLighttpd: true)
            }
            guard let inode = socketInode(pid: pid, fd: 0), sockets.contains(inode) else { return nil }
            return Process(pid: pid, startTime: startTime, isLighttpd: false)
        }
    }

    /// One line naming them, for serve's stderr.
    var summary: String {
        let lighttpds = processes.filter(\.isLighttpd).map { String($0.pid) }
        let functions = processes.filter { !$0.isLighttpd }.map { String($0.pid) }
        let parts: [String] =
            (lighttpds.isEmpty ? [] : ["lighttpd \(lighttpds.joined(separator: " "))"])
            + (functions.isEmpty ? [] : ["functions \(functions.joined(separator: " "))"])
        return parts.joined(separator: ", ")
    }

    /// Stops them: SIGTERM (lighttpd then stops its functions and removes its sockets and pid
    /// file; a function finishes the request in hand), up to `grace` seconds, then SIGKILL and
    /// up to `grace` seconds more. True when none is left.
    func stop(grace: Double) -> Bool {
        signal(SIGTERM)
        if eventually(within: grace, { alive.isEmpty }) { return true }
        signal(SIGKILL)
        return eventually(within: grace) { alive.isEmpty }
    }

    /// Removes the sockets lighttpd spawned functions on (`<name>.sock-N` in `data`'s run
    /// folder) that no process holds open any more: a lighttpd killed with -9 leaves them.
    static func removeStaleSockets(in data: DataDirectory) {
        let open = Set(boundSockets(in: data.sockets).map(\.name))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: data.sockets)) ?? []
        for name in names where isSpawnedSocketName(name) && !open.contains(name) {
            var info = stat()
            if lstat("\(data.sockets)/\(name)", &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK {
                unlink("\(data.sockets)/\(name)")
            }
        }
    }

    private var alive: [Process] { processes.filter { liveStartTime(of: $0.pid) == $0.startTime } }

    private func signal(_ signo: Int32) {
        for process in alive { kill(process.pid, signo) }
    }
}

/// The start time (field 22 of `/proc/PID/stat`) of a process that exists and is no zombie.
private func liveStartTime(of pid: pid_t) -> UInt64? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 19, fields[0] != "Z"
    else { return nil }
    return UInt64(fields[19])
}

/// True when the executable of `pid` is `binary` (canonical) or is named lighttpd: a `tail -f`
/// or an editor of the configuration is no lighttpd.
private func isLighttpd(_ pid: pid_t, _ binary: String?) -> Bool {
    guard var executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") else {
        return false
    }
    // An executable replaced on disk (a package upgrade) since the process started.
    if executable.hasSuffix(" (deleted)") { executable.removeLast(" (deleted)".count) }
    return executable == binary || executable.split(separator: "/").last == "lighttpd"
}

/// True when the process's arguments hold `-f` followed by a path (relative to its cwd) that
/// resolves to `config`, itself canonical.
private func namesConfig(_ pid: pid_t, _ config: String) -> Bool {
    guard let raw = procFile("/proc/\(pid)/cmdline") else { return false }
    let arguments = raw.split(separator: 0, omittingEmptySubsequences: false).map {
        String(decoding: $0, as: UTF8.self)
    }
    for (flag, value) in zip(arguments, arguments.dropFirst()) where flag == "-f" && !value.isEmpty {
        // /proc/PID/cwd leads into the process's working directory, wherever it is.
        if canonicalPath(value.hasPrefix("/") ? value : "/proc/\(pid)/cwd/\(value)") == config { return true }
    }
    return false
}

/// `path` with every symbolic link, `.` and `..` resolved (realpath(3)), if it exists.
private func canonicalPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// The inode of the socket open as `fd` in process `pid`, if it is one (`socket:[N]`).
private func socketInode(pid: pid_t, fd: Int32) -> UInt64? {
    guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
        link.hasPrefix("socket:[")
    else { return nil }
    return UInt64(link.dropFirst("socket:[".count).dropLast())
}

/// Open unix sockets bound to lighttpd's per-process sockets in `folder`
/// (`<name>.sock-N`), from `/proc/net/unix`: file name and inode. A socket closed by every
/// process that held it is no longer listed, though its file stays. The table holds the path
/// as it was bound, so each folder is compared once resolved: a serve started through a
/// symbolic link (or `..`) is found. A relative bind path, whose base is the binder's working
/// directory at the time, cannot be resolved and is left out (serve binds absolute paths).
private func boundSockets(in folder: String) -> [(name: String, inode: UInt64)] {
    guard let folder = canonicalPath(folder),
        let table = procFile("/proc/net/unix").map({ String(decoding: $0, as: UTF8.self) })
    else { return [] }
    var resolved: [Substring: String?] = [:]
    // Num RefCount Protocol Flags Type St Inode Path
    return table.split(separator: "\n").dropFirst().compactMap { line in
        let fields = line.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: true)
        guard fields.count == 8, let inode = UInt64(fields[6]), fields[7].hasPrefix("/"),
            let slash = fields[7].lastIndex(of: "/")
        else { return nil }
        let name = String(fields[7][fields[7].index(after: slash)...])
        guard isSpawnedSocketName(name) else { return nil }
        let directory = fields[7][..<slash]
        if resolved[directory] == nil {
            resolved[directory] = canonicalPath(directory.isEmpty ? "/" : String(directory))
        }
        return resolved[directory] == folder ? (name, inode) : nil
    }
}

/// `<name>.sock-N`: a socket lighttpd made for process N of a function.
private func isSpawnedSocketName(_ name: String) -> Bool {
    guard let range = name.range(of: ".sock-", options: .backwards), range.lowerBound != name.startIndex else {
        return false
    }
    let number = name[range.upperBound...]
    return !number.isEmpty && number.allSatisfy { ("0"..."9").contains($0) } && !name.contains("/")
}

/// The whole of a /proc file. Foundation's `contents(atPath:)` and `String(contentsOfFile:)`
/// read one page of a file whose size says 0, and /proc/net/unix is often longer.
private func procFile(_ path: String) -> Data? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    return try? handle.readToEnd()
}
