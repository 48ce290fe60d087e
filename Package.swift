// swift-tools-version:6.0
import Foundation
import PackageDescription

/// Every folder in functions/ is one FastCGI function: a manifest and a thin `main`,
/// built as the executable `flashsale-<folder>`. Adding a function is adding a folder.
let functionNames: [String] = {
    let root = URL(fileURLWithPath: Context.packageDirectory).appendingPathComponent("functions")
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return entries.filter { name in
        FileManager.default.fileExists(
            atPath: root.appendingPathComponent(name).appendingPathComponent("main.swift").path)
    }.sorted()
}()

/// Each function links only the modules its `main` imports: `noop` and `time` the runtime and
/// nothing of the shop.
let functionTargets: [Target] = functionNames.map { name in
    let main = URL(fileURLWithPath: Context.packageDirectory)
        .appendingPathComponent("functions/\(name)/main.swift")
    let source = (try? String(contentsOf: main, encoding: .utf8)) ?? ""
    let imports = source.split(separator: "\n").compactMap { line -> String? in
        line.hasPrefix("import ") ? String(line.dropFirst("import ".count)).trimmingCharacters(in: .whitespaces) : nil
    }
    return .executableTarget(
        name: "flashsale-\(name)",
        dependencies: imports.map { .byName(name: $0) },
        path: "functions/\(name)",
        exclude: ["function.json"]
    )
}

let package = Package(
    name: "flashsale",
    products: [.executable(name: "flashsale", targets: ["flashsale"])]
        + functionNames.map { .executable(name: "flashsale-\($0)", targets: ["flashsale-\($0)"]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-extras/swift-extras-base64", from: "1.2.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
    ],
    targets: [
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // Not through pkg-config: hiredis's cflags carry -D_FILE_OFFSET_BITS=64, a flag SwiftPM
        // refuses (and 64-bit Linux needs no such define); the header is <hiredis/hiredis.h>.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(
            name: "FastCGI",
            dependencies: [
                "Basics",
                "CFastCGI",
                "CProcessShims",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "Functions", dependencies: ["FastCGI", "Basics"]),
        .target(name: "Store", dependencies: ["Basics", "CSQLite", "Sales"]),
        .target(name: "PostgreSQL", dependencies: ["Basics", "CLibPQ"]),
        .target(name: "Redis", dependencies: ["CHiredis"]),
        .target(name: "PostgresStore", dependencies: ["Basics", "PostgreSQL", "Sales"]),
        .target(name: "RedisGate", dependencies: ["Basics", "Redis", "Sales"]),
        .target(name: "Basics"),
        .target(
            name: "Segment",
            dependencies: ["Basics", "CProcessShims", "Sales", .product(name: "Atomics", package: "swift-atomics")]
        ),
        .target(
            name: "Identity",
            dependencies: [
                "FastCGI", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),
        .target(name: "Sales", dependencies: ["Basics"]),
        .target(
            name: "Backends",
            dependencies: [
                "Basics", "PostgresStore", "Redis", "RedisGate", "Sales", "Segment", "Store",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Export",
            dependencies: ["Basics", "Sales", .product(name: "CSV", package: "CSV.swift")]
        ),
        .target(name: "Challenges", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "Buying",
            dependencies: [
                "Backends", "Basics", "Challenges", "FastCGI", "Identity", "Sales",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .target(name: "CProcessShims"),
        .target(name: "LoadTest", dependencies: ["Identity"]),
        .target(
            name: "Storefront",
            dependencies: [
                "Sales", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        .target(
            name: "Hosting",
            dependencies: [
                "Basics", "CProcessShims", "FastCGI", "Sales", "Store", "Storefront",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .executableTarget(
            name: "flashsale",
            dependencies: [
                "Backends", "Basics", "Export", "FastCGI", "Hosting", "Identity", "LoadTest", "Sales", "Store",
                "Storefront", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["FastCGI", "Hosting", "Segment"],
            path: "Tests/TestSupport"
        ),
        .executableTarget(
            name: "hot-path-benchmark",
            dependencies: ["Basics", "Challenges", "Identity", "Sales", "Segment", "Store"],
            path: "Tests/Benchmarks/HotPath"),
        .testTarget(
            name: "BuyingTests",
            dependencies: [
                "Buying", "Challenges", "FastCGI", "Hosting", "Identity", "Sales", "Segment", "Store", "TestSupport",
            ]
        ),
        .testTarget(name: "BackendContractTests", dependencies: ["Backends", "Basics", "Sales", "TestSupport"]),
        .testTarget(name: "ChallengesTests", dependencies: ["Challenges"]),
        .testTarget(name: "LoadTestTests", dependencies: ["LoadTest"]),
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI", "Functions", "TestSupport"]),
        .testTarget(name: "HostingTests", dependencies: ["Hosting", "Sales", "Store", "TestSupport"]),
        .testTarget(name: "SegmentTests", dependencies: ["Sales", "Segment", "TestSupport"]),
        .testTarget(
            name: "IdentityTests",
            dependencies: ["Identity", "FastCGI", "TestSupport", .product(name: "JWTKit", package: "jwt-kit")]
        ),
        .testTarget(
            name: "SalesTests",
            dependencies: ["Backends", "Basics", "Export", "Sales", "Segment", "Store", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Sales", "Store", "TestSupport"]),
        .testTarget(name: "PostgreSQLTests", dependencies: ["PostgreSQL", "TestSupport"]),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "TestSupport"]),
        .testTarget(name: "PostgresStoreTests", dependencies: ["PostgresStore", "PostgreSQL", "Sales", "TestSupport"]),
        .testTarget(name: "RedisGateTests", dependencies: ["RedisGate", "Redis", "Sales", "TestSupport"]),
        .testTarget(name: "StorefrontTests", dependencies: ["Sales", "Store", "Storefront", "TestSupport"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Backends", "Buying", "Challenges", "FastCGI", "Hosting", "Identity", "Sales", "Segment", "Store",
                "TestSupport",
            ]
        ),
    ] + functionTargets,
    swiftLanguageModes: [.v6]
)
