import Basics
import FastCGI
import Foundation
import HTTPTypes
import Sales
import Synchronization

/// `GET /sale/<ID>/sale.js?v=…` → JavaScript that hands the page its sale's state: phase,
/// start and end, server time and, only once the sale is open, the order URL with the
/// secret. The page fetches it again with a new `v` near the start, so no browser or CDN
/// keeps an old flag; a short public cache lifetime and a weak ETag let a CDN absorb the
/// polling in between.
public enum SaleFlagFunction {
    static let prefix = "/sale/"
    static let file = "/sale.js"

    /// The state the page receives, as the object `window.flashsale.sale`.
    public struct Flag: Codable, Sendable, Hashable {
        public var id: String
        public var state: SaleState
        public var startsAt: Int64
        public var endsAt: Int64?
        /// The order URL, present only while the sale is open.
        public var orderUrl: String?
        /// When this answer was made, in ms since the epoch; the countdown itself uses /api/time.
        public var serverTime: Int64
        /// The challenge the token function asks for first: `off`, `image` or `question`.
        public var captcha: CaptchaMode
        /// Leading zero bits of the proof of work the token function asks for; 0 is none.
        public var powBits: Int64
    }

    /// How long browsers and CDNs may keep one answer, in seconds.
    static let maxAgeSeconds = 1

    /// The sale-flag function, answering from the process's `context`.
    public static func function(_ context: BuyingContext) -> Function {
        let scripts = FlagScripts()
        return Function(
            name: "sale-flag",
            routes: [
                Route(prefix: prefix, methods: [.get]) { request in
                    guard let id = saleID(in: request.path) else { throw Router.notFound }
                    let current = try flag(saleID: id, context: context)
                    let ifNoneMatch = request.values(ofHeader: .ifNoneMatch).first
                    return try answer(current, ifNoneMatch: ifNoneMatch, scripts: scripts)
                }
            ])
    }

    /// The sale id of `/sale/<ID>/sale.js`, or nil for any other path under the prefix.
    static func saleID(in path: String) -> String? {
        guard path.hasPrefix(prefix), path.hasSuffix(file) else { return nil }
        let id = path.dropFirst(prefix.count).dropLast(file.count)
        // A byte, not a string: Foundation's contains(_: StringProtocol) searches through NSString.
        return id.isEmpty || id.utf8.contains(UInt8(ascii: "/")) ? nil : String(id)
    }

    static func flag(saleID id: String, context: BuyingContext) throws -> Flag {
        let now = context.clock()
        let (sale, refusal) = try context.inSession { session in
            guard let sale = try session.sale(id: id, nowMs: now) else { throw Router.notFound }
            let stock = try session.stock(of: sale, nowMs: now)
            return (sale, SaleChecks.refusal(stock, sale.stockTerms, nowMs: now))
        }
        let state: SaleState =
            switch refusal?.reason {
            case .notStarted: .scheduled
            case .ended: .ended
            case .soldOut: .soldOut
            default: .open
            }
        return Flag(
            id: sale.id, state: state, startsAt: sale.startsAt, endsAt: sale.endsAt,
            orderUrl: state == .open ? OrderFunction.orderPath(secret: sale.secret) : nil, serverTime: now,
            captcha: sale.captcha, powBits: sale.powBits)
    }

    /// The script, or 304 when the client's copy says the same. The ETag covers everything but
    /// the server time (weak: an older copy differs only in when it was made).
    static func answer(_ flag: Flag, ifNoneMatch: String?, scripts: FlagScripts) throws -> Response {
        let script = try scripts.script(for: flag)
        let headers: HTTPFields = [
            .contentType: "text/javascript; charset=utf-8",
            .cacheControl: "public, max-age=\(maxAgeSeconds)",
            .eTag: script.tag,
        ]
        if let ifNoneMatch, ifNoneMatch.split(separator: ",").contains(where: { matches($0, script.tag) }) {
            return Response(status: .notModified, headers: headers)
        }
        return Response(
            status: .ok, headers: headers, body: script.head + Array(String(flag.serverTime).utf8) + script.tail)
    }

    /// The script of every flag answered so far, but for its server time: a crowd polling one
    /// sale is answered without encoding JSON or hashing for each request.
    final class FlagScripts: Sendable {
        struct Script {
            /// Up to and including `"serverTime":`.
            var head: [UInt8]
            /// What follows the server time.
            var tail: [UInt8]
            var tag: String
        }

        /// A few states per sale; past this many (only if sales come and go for days) it starts over.
        static let limit = 4096
        private let scripts = Mutex<[Flag: Script]>([:])

        func script(for flag: Flag) throws -> Script {
            var stable = flag
            stable.serverTime = 0
            if let known = scripts.withLock({ $0[stable] }) { return known }
            let json = try encoder.encode(stable)
            let text = String(decoding: json, as: UTF8.self)
            let marker = #""serverTime":"#
            guard let at = text.range(of: marker + "0") else {
                throw HTTPError(.internal, "the sale flag encodes without its server time")
            }
            let script = Script(
                head: Array(
                    "window.flashsale = window.flashsale || {};\nwindow.flashsale.sale = \(text[..<at.lowerBound])\(marker)"
                        .utf8),
                tail: Array("\(text[at.upperBound...]);\n".utf8),
                tag: "W/\"\(digest(json))\"")
            scripts.withLock { known in
                if known.count >= Self.limit { known.removeAll() }
                known[stable] = script
            }
            return script
        }
    }

    /// Sorted keys. Every string in a flag is a sale id (lowercase letters, digits, dashes), a
    /// state or a hex secret, so nothing in it can end the script early.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// `If-None-Match` compares weakly: `W/"x"` and `"x"` match, as does `*`.
    private static func matches(_ candidate: Substring, _ tag: String) -> Bool {
        let trimmed = candidate.trimmingCharacters(in: .whitespaces)
        let bare = { (value: String) in value.hasPrefix("W/") ? String(value.dropFirst(2)) : value }
        return trimmed == "*" || bare(trimmed) == bare(tag)
    }

    /// The tag only tells versions apart (it guards nothing), the same in every process.
    private static func digest(_ bytes: Data) -> String {
        String(fnv1a64(bytes), radix: 16)
    }
}
