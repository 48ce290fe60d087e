import Foundation

/// `path` made absolute against the current directory, with `.` and `..` resolved.
public func absolutePath(_ path: String) -> String {
    let joined = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    return URL(fileURLWithPath: joined).standardizedFileURL.path
}

/// The folder of the running executable (`/proc/self/exe`): where SwiftPM puts `flashsale`,
/// its functions and the test bundle side by side.
public func executableDirectory() throws -> String {
    let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    return URL(fileURLWithPath: executable).deletingLastPathComponent().path
}
