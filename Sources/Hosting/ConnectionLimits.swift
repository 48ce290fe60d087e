/// How much of a host one client may take, the same for every host `flashsale config` writes
/// and for `flashsale serve`: a cap on the connections one client address holds at once, and
/// a deadline for a request's header and body to arrive, so that a client trickling bytes
/// into thousands of idle connections cannot fill the server's connection table.
public struct ConnectionLimits: Sendable, Equatable {
    /// A browser opens about 6 connections to a host; 128 lets some twenty buyers share one
    /// address (a carrier-grade NAT, an office) at once, and means a client needs 64
    /// addresses to fill lighttpd's 8,192 connections.
    public static let defaultPerAddress = 128
    /// Long enough for a 64 KiB body on a slow mobile link, and for lighttpd to close an idle
    /// keep-alive connection itself first (after 5 s).
    public static let defaultReadSeconds = 10

    /// Connections one client address may hold at once; 0 for no cap.
    public var perAddress: Int
    /// Seconds a request's header (and body) has to arrive, trickled or not.
    public var readSeconds: Int

    public init(perAddress: Int = Self.defaultPerAddress, readSeconds: Int = Self.defaultReadSeconds) {
        self.perAddress = perAddress
        self.readSeconds = readSeconds
    }

    /// Whether the per-address cap is on.
    public var capsAddresses: Bool { perAddress > 0 }
}
