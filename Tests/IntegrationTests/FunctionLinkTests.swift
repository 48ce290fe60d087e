import Foundation
import TestSupport
import Testing

/// Each function executable links only what its `main` needs, checked on the built binaries:
/// a Swift module's symbols are mangled `$s<length><Module>`, so `nm` shows which modules an
/// executable carries, whatever its sources import.
@Suite struct FunctionLinkTests {
    /// Modules that must never be on the request path.
    static let onTop = ["Hosting", "Storefront", "Mustache", "CSV", "Export", "LoadTest", "ArgumentParser"]
    /// Everything of the shop, which `noop` and `time` must not carry.
    static let shop = ["Buying", "Backends", "Sales", "Segment", "Store", "Identity", "Challenges", "JWTKit"]

    @Test(arguments: ["noop", "time"])
    func aRuntimeFunctionCarriesTheRuntimeAndNothingOfTheShop(name: String) throws {
        let modules = try Self.modules(in: "flashsale-\(name)")
        #expect(modules.contains("FastCGI") && modules.contains("Functions"), "\(modules.sorted())")
        for module in Self.onTop + Self.shop {
            #expect(!modules.contains(module), "flashsale-\(name) carries \(module)")
        }
    }

    @Test(arguments: ["captcha", "guest", "order", "precheck", "sale-flag", "token"])
    func aBuyingFunctionCarriesNothingOfWhatStandsOnTop(name: String) throws {
        let modules = try Self.modules(in: "flashsale-\(name)")
        #expect(modules.contains("FastCGI") && modules.contains("Buying"), "\(modules.sorted())")
        for module in Self.onTop {
            #expect(!modules.contains(module), "flashsale-\(name) carries \(module)")
        }
    }

    @Test func theCommandCarriesWhatStandsOnTop() throws {
        let modules = try Self.modules(in: "flashsale")
        for module in ["Hosting", "Storefront", "Export", "LoadTest"] {
            #expect(modules.contains(module), "flashsale lacks \(module): the check would see nothing")
        }
    }

    /// The Swift modules whose symbols `executable` defines.
    static func modules(in executable: String) throws -> Set<String> {
        let nm = Process()
        nm.executableURL = URL(fileURLWithPath: "/usr/bin/nm")
        nm.arguments = ["--defined-only", Paths.executable(executable)]
        let output = Pipe()
        nm.standardOutput = output
        try nm.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        nm.waitUntilExit()
        try #require(nm.terminationStatus == 0, "nm \(executable) exited \(nm.terminationStatus)")
        let pattern = try Regex(#"\$s(\d+)([A-Za-z_]\w*)"#)
        var modules: Set<String> = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let match = line.firstMatch(of: pattern),
                let length = Int(match.output[1].substring ?? ""),
                let name = match.output[2].substring, name.count >= length
            else { continue }
            modules.insert(String(name.prefix(length)))
        }
        return modules
    }
}
