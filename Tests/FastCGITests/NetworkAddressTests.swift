import FastCGI
import Testing

/// One spelling of a client's or proxy's address, whoever wrote it, and the subscriber it
/// belongs to: an IPv4 address, an IPv6 address's /64.
@Suite struct NetworkAddressTests {
    @Test(
        arguments: [
            ("198.51.100.7", "198.51.100.7"),
            ("198.51.100.7:443", "198.51.100.7"),
            ("::ffff:198.51.100.7", "198.51.100.7"),
            ("[::ffff:198.51.100.7]:80", "198.51.100.7"),
            ("2001:DB8:0:0::7", "2001:db8::7"),
            ("[2001:db8::7]", "2001:db8::7"),
            ("[2001:db8::7]:443", "2001:db8::7"),
        ] as [(String, String)])
    func anAddressInAnySpellingHasOne(_ text: String, _ spelling: String) {
        #expect(NetworkAddress(text)?.description == spelling)
    }

    @Test(arguments: ["", "not-an-address", "198.51.100", "fe80::1%eth0", "198.51.100.7:80:1x", "[2001:db8::7"])
    func textThatIsNoAddressIsNone(_ text: String) {
        #expect(NetworkAddress(text) == nil)
    }

    @Test func bytesOfAnIPv4MappedAddressAreItsIPv4Address() {
        let mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 198, 51, 100, 7]
        #expect(NetworkAddress(bytes: mapped) == NetworkAddress("198.51.100.7"))
        #expect(NetworkAddress(bytes: [1, 2, 3]) == nil)
    }

    @Test func anIPv6SubscriberIsItsSlash64() throws {
        let first = try #require(NetworkAddress("2001:db8:1:2:aaaa::1"))
        let second = try #require(NetworkAddress("2001:db8:1:2:bbbb:cccc:dddd:9"))
        let neighbour = try #require(NetworkAddress("2001:db8:1:3::1"))
        #expect(first.subscriber == second.subscriber && first.subscriber != neighbour.subscriber)
        #expect(first.subscriberName == "2001:db8:1:2::/64")
        let ipv4 = try #require(NetworkAddress("198.51.100.7"))
        #expect(ipv4.subscriber == ipv4 && ipv4.subscriberName == "198.51.100.7")
    }
}
