import FastCGI
import Testing

@testable import Hosting

/// The guard's bookkeeping, listing by listing: a connection still sending a request that is
/// not answered within the read timeout is condemned, one waiting for its answer or idle
/// between requests is not, and a subscriber (an IPv4 address, an IPv6 /64) is cut to its cap.
@Suite struct ConnectionLedgerTests {
    let start = ContinuousClock.now
    let client = NetworkAddress("198.51.100.7")!

    func connection(
        _ inode: UInt32, received: UInt64, acked: UInt64 = 0, from address: NetworkAddress? = nil
    ) -> ConnectionLedger.Connection {
        ConnectionLedger.Connection(inode: inode, address: address ?? client, received: received, acked: acked)
    }

    /// Observes one listing per second, `listings(second)` each; the verdicts in order.
    func run(
        _ ledger: inout ConnectionLedger, seconds: ClosedRange<Int>,
        _ listings: (Int) -> [ConnectionLedger.Connection]
    ) -> [ConnectionLedger.Verdict] {
        seconds.map { ledger.observe(listings($0), at: start + .seconds($0)) }
    }

    @Test func aTricklerIsCondemnedOnceTheReadTimeoutHasPassed() {
        var ledger = ConnectionLedger(limits: ConnectionLimits(perAddress: 0, readSeconds: 5), exempt: [])
        let verdicts = run(&ledger, seconds: 0...7) { [connection(1, received: UInt64(20 + $0))] }
        #expect(verdicts.prefix(6).allSatisfy { $0.stalled.isEmpty })
        #expect(verdicts[6].stalled == [1])
    }

    @Test func aRequestWaitingForItsAnswerIsNotCondemned() {
        var ledger = ConnectionLedger(limits: ConnectionLimits(perAddress: 0, readSeconds: 2), exempt: [])
        // The request arrives whole in a second, then waits a minute for the function.
        let verdicts = run(&ledger, seconds: 0...60) { [connection(1, received: $0 == 0 ? 30 : 80)] }
        #expect(verdicts.allSatisfy { $0.all.isEmpty })
    }

    @Test func aKeepAliveConnectionsNextRequestCountsFromTheLastAnswer() {
        var ledger = ConnectionLedger(limits: ConnectionLimits(perAddress: 0, readSeconds: 3), exempt: [])
        // Asks, is answered, asks again each few seconds, each request arriving at once.
        let verdicts = run(&ledger, seconds: 0...30) { second in
            [connection(1, received: UInt64(second / 4 * 80 + 80), acked: UInt64(second / 4 * 200))]
        }
        #expect(verdicts.allSatisfy { $0.all.isEmpty })
        // Then, answered, trickles its next request: its clock starts at the first listing with
        // no answer beside the bytes (32 s), and it is condemned once 3 s have passed since.
        let trickled = run(&ledger, seconds: 31...37) { second in
            [connection(1, received: UInt64(1_000 + second), acked: 8 * 200)]
        }
        #expect(trickled.map { !$0.stalled.isEmpty } == [false, false, false, false, false, true, true])
    }

    /// An answer and the bytes around it in one listing start no clock: a buyer idle for a few
    /// seconds after it, whose next request then waits on a busy function, is left alone.
    @Test func bytesSeenBesideAnAnswerStartNoRequest() {
        var ledger = ConnectionLedger(limits: ConnectionLimits(perAddress: 0, readSeconds: 3), exempt: [])
        let verdicts = run(&ledger, seconds: 0...12) { second in
            [connection(1, received: second < 5 ? 80 : 160, acked: 200)]
        }
        #expect(verdicts.allSatisfy { $0.all.isEmpty })
        // The same when the answer and the next request's bytes come between two listings.
        let answeredAndAsked = run(&ledger, seconds: 13...25) { second in
            [connection(1, received: second < 14 ? 160 : 240, acked: second < 14 ? 200 : 400)]
        }
        #expect(answeredAndAsked.allSatisfy { $0.all.isEmpty })
    }

    @Test func anIPv6SubscriberIsCappedAcrossItsSlash64() {
        var ledger = ConnectionLedger(limits: ConnectionLimits(perAddress: 4, readSeconds: 0), exempt: [])
        let varied = (1...6).map { NetworkAddress("2001:db8:1:2::\($0)")! }
        let other = NetworkAddress("2001:db8:1:3::1")!
        _ = ledger.observe((1...4).map { connection(UInt32($0), received: 1, from: varied[$0 - 1]) }, at: start)
        let listing =
            (1...6).map { connection(UInt32($0), received: 1, from: varied[$0 - 1]) }
            + [connection(7, received: 1, from: other)]
        let verdict = ledger.observe(listing, at: start + .seconds(1))
        #expect(verdict.overCap == [5, 6])
        #expect(verdict.busiest?.subscriber == "2001:db8:1:2::/64" && verdict.busiest?.count == 6)
    }

    @Test func aTrustedProxyIsNotCappedButAnIPv4MappedPeerIsItsIPv4Address() {
        let proxy = NetworkAddress("203.0.113.5")!
        var ledger = ConnectionLedger(limits: ConnectionLimits(perAddress: 2, readSeconds: 0), exempt: [proxy])
        let mapped = NetworkAddress(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 198, 51, 100, 7])!
        let listing =
            (1...5).map { connection(UInt32($0), received: 1, from: proxy) }
            + [connection(6, received: 1), connection(7, received: 1, from: mapped), connection(8, received: 1)]
        #expect(ledger.observe(listing, at: start).overCap.count == 1)
    }
}
