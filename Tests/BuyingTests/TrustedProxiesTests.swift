import Basics
import Buying
import Hosting
import TestSupport
import Testing

/// The functions and the host read `FLASHSALE_TRUSTED_PROXIES` with one parser: whatever
/// spelling a manifest uses, ports included, the proxies the functions trust are the ones
/// serve's guard and nginx leave uncapped.
@Suite struct TrustedProxiesTests {
    @Test func theFunctionsAndTheHostTrustTheSameProxies() throws {
        let proxies = "203.0.113.5:443, [2001:db8::1]:443,::ffff:198.51.100.7, 2001:DB8:0::2"
        let settings = try BuyingSettings(
            environment: ["FLASHSALE_DATA": "/nonexistent", "FLASHSALE_TRUSTED_PROXIES": proxies])
        let manifests = try Manifest.loadAll(from: Paths.packageRoot + "/functions").map {
            var manifest = $0
            if manifest.name == "token" { manifest.environment["FLASHSALE_TRUSTED_PROXIES"] = proxies }
            return manifest
        }
        let deployment = Deployment(
            data: DataDirectory(path: "/nonexistent"), staticDirectory: "/nonexistent", binDirectory: "/nonexistent",
            host: "127.0.0.1", port: 8080, manifests: manifests)
        #expect(settings.trustedProxies == ["203.0.113.5", "2001:db8::1", "198.51.100.7", "2001:db8::2"])
        #expect(Set(deployment.trustedProxies.map(\.description)) == settings.trustedProxies)
    }
}
