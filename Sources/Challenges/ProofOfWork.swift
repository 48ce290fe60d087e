import Crypto
import Foundation
import Synchronization

/// Hashcash over a server nonce: a solution is a counter such that SHA-256 of
/// `<nonce>:<counter>` starts with the sale's number of zero bits. An honest browser pays once
/// per token, a script pays for every attempt. The nonce is an HMAC of the sale, its start and
/// the window since the start under a key derived from the data directory's secret, so issuing
/// and checking it needs no state. Windows are counted from the sale's start: there is no
/// nonce before it, so nothing can be solved while people wait; a nonce is accepted in its
/// window and the next.
public final class ProofOfWork: Sendable {
    /// How long one nonce is handed out.
    public static let windowMs: Int64 = 15_000

    private let key: SymmetricKey
    /// Per sale, the nonces of the last window asked for and the one before (none before the
    /// first): each is computed once per window instead of twice per request. Sales are few;
    /// the cache is emptied if it ever holds more than ``cachedSales``.
    private let recent = Mutex<[String: (startMs: Int64, window: Int64, current: String, previous: String?)]>([:])
    private static let cachedSales = 256

    public init(secret: [UInt8]) {
        key = SubKey.derive(from: secret, for: "proof-of-work nonce")
    }

    /// The nonce of `sale`, which opens at `startMs`, for the window holding `nowMs`; nil before the start.
    public func nonce(sale: String, startMs: Int64, nowMs: Int64) -> String? {
        guard let window = Self.window(startMs: startMs, nowMs: nowMs) else { return nil }
        return nonces(sale: sale, startMs: startMs, window: window).current
    }

    /// When a nonce handed out at `nowMs` (at or after `startMs`) stops being accepted.
    public static func expiry(startMs: Int64, nowMs: Int64) -> Int64 {
        startMs + ((nowMs - startMs) / windowMs + 2) * windowMs
    }

    /// Whether `nonce` is the one of `sale` for this window or the one before, both counted
    /// from `startMs`; never before the start.
    public func isCurrent(_ nonce: String, sale: String, startMs: Int64, nowMs: Int64) -> Bool {
        guard let window = Self.window(startMs: startMs, nowMs: nowMs) else { return false }
        let known = nonces(sale: sale, startMs: startMs, window: window)
        return nonce == known.current || nonce == known.previous
    }

    /// Whether `counter` solves `nonce` with at least `bits` leading zero bits.
    public static func solves(nonce: String, counter: String, bits: Int) -> Bool {
        var hash = SHA256()
        for part in [nonce, ":", counter] {
            var part = part
            // The string's own UTF-8 bytes, read in place for the length of the call.
            part.withUTF8 { hash.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        return zeroBits(of: Array(hash.finalize())) >= bits
    }

    static func zeroBits(of bytes: [UInt8]) -> Int {
        var count = 0
        for byte in bytes {
            if byte != 0 { return count + byte.leadingZeroBitCount }
            count += 8
        }
        return count
    }

    /// The window since the start that holds `nowMs`, or nil before the start.
    static func window(startMs: Int64, nowMs: Int64) -> Int64? {
        nowMs >= startMs ? (nowMs - startMs) / windowMs : nil
    }

    private func nonces(sale: String, startMs: Int64, window: Int64) -> (current: String, previous: String?) {
        if let known = recent.withLock({ $0[sale] }), known.startMs == startMs, known.window == window {
            return (known.current, known.previous)
        }
        let fresh = (
            startMs: startMs, window: window, current: nonce(sale: sale, startMs: startMs, window: window),
            previous: window > 0 ? nonce(sale: sale, startMs: startMs, window: window - 1) : nil
        )
        recent.withLock { recent in
            if recent.count >= Self.cachedSales { recent.removeAll() }
            recent[sale] = fresh
        }
        return (fresh.current, fresh.previous)
    }

    /// The nonce of window `window` (0 from the start on) of `sale` opening at `startMs`.
    func nonce(sale: String, startMs: Int64, window: Int64) -> String {
        let message = Data("pow\n\(sale)\n\(startMs)\n\(window)".utf8)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: key)
        return Data(code.prefix(16)).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
