import FastCGI
/// What ``ConnectionGuard`` remembers of the port's connections from one listing to the next,
/// and which of them it should close: those over a subscriber's cap (the newest) and those
/// still sending a request not answered within the read timeout.
///
/// A connection is a trickler only while bytes keep arriving on it: one whose request is in
/// whole and waits for its answer (in lighttpd's FastCGI queue, behind a busy database) sends
/// nothing more and is left alone, as is an idle keep-alive connection. A request counts from
/// the first listing that sees its bytes arrive with no answer beside them, so a keep-alive
/// connection's next request starts afresh. A client silent in the middle of a header is lighttpd's to close
/// (`server.max-read-idle`), and one that stops reading an answer too (`server.max-write-idle`).
struct ConnectionLedger {
    /// One connection as a listing shows it.
    struct Connection {
        var inode: UInt32
        var address: NetworkAddress
        /// What the client has sent on it, and what it has acknowledged of the answers.
        var received: UInt64
        var acked: UInt64
    }

    /// The closings a listing calls for, by socket inode.
    struct Verdict {
        var stalled: Set<UInt32> = []
        var overCap: Set<UInt32> = []
        /// The subscriber holding the most connections over the cap, and how many.
        var busiest: (subscriber: String, count: Int)?

        var all: Set<UInt32> { stalled.union(overCap) }
    }

    /// One connection's history, by its socket's inode.
    struct Seen {
        var address: NetworkAddress
        var since: ContinuousClock.Instant
        var received: UInt64
        var acked: UInt64
        /// When the request being sent began (its first byte seen after the last answer);
        /// nil while none is being sent.
        var requestBegan: ContinuousClock.Instant?
    }

    let limits: ConnectionLimits
    /// Trusted proxies, never capped.
    let exempt: Set<NetworkAddress>
    private(set) var seen: [UInt32: Seen] = [:]

    init(limits: ConnectionLimits, exempt: Set<NetworkAddress>) {
        self.limits = limits
        self.exempt = exempt
    }

    /// Takes in a listing made at `now` and says which connections to close.
    mutating func observe(_ connections: [Connection], at now: ContinuousClock.Instant) -> Verdict {
        var next: [UInt32: Seen] = [:]
        var verdict = Verdict()
        let deadline = Duration.seconds(limits.readSeconds)
        for connection in connections where connection.inode != 0 {
            var entry =
                seen[connection.inode]
                ?? Seen(address: connection.address, since: now, received: 0, acked: 0, requestBegan: nil)
            // An answer since the last listing ends the request; what arrived beside it (that
            // request's last bytes, or the whole of the next) starts no clock: a request counts
            // from bytes seen arriving in a listing without an answer, at most one listing late.
            let answered = connection.acked != entry.acked
            let sending = !answered && connection.received != entry.received
            entry.acked = connection.acked
            entry.received = connection.received
            if answered { entry.requestBegan = nil }
            if sending && entry.requestBegan == nil { entry.requestBegan = now }
            if limits.readSeconds > 0, sending, let began = entry.requestBegan, now - began > deadline {
                verdict.stalled.insert(connection.inode)
            }
            next[connection.inode] = entry
        }
        seen = next
        guard limits.capsAddresses else { return verdict }
        let capped = seen.filter { !verdict.stalled.contains($0.key) && !exempt.contains($0.value.address) }
        for (subscriber, held) in Dictionary(grouping: capped, by: \.value.address.subscriber)
        where held.count > limits.perAddress {
            let newest = held.sorted { ($0.value.since, $0.key) > ($1.value.since, $1.key) }
            verdict.overCap.formUnion(newest.prefix(held.count - limits.perAddress).map(\.key))
            if held.count > verdict.busiest?.count ?? 0 {
                verdict.busiest = (subscriber.subscriberName, held.count)
            }
        }
        return verdict
    }

    /// Forgets a connection that was closed.
    mutating func forget(_ inode: UInt32) { seen[inode] = nil }
}
