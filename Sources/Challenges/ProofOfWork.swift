import Crypto
import Foundation
import Synchronization

/// Hashcash over a server nonce: a solution is a counter such that SHA-256 of
/// `<nonce>:<counter>` starts with the sale's number of zero bits. An honest browser pays once
/// per token, a script pays for every attempt. The nonce is an HMAC of the sale and the
/// current window under a key derived from the data directory's secret, so issuing and checking it needs no
/// state; a nonce is accepted in its window and the next.
public final class ProofOfWork: Sendable {
    /// How long one nonce is handed out.
    public static let windowMs: Int64 = 15_000

    private let key: SymmetricKey
    /// Per sale, the nonces of the last window asked for and the one before: each is computed
    /// once per window instead of twice per request. Sales are few; the cache is emptied if
    /// it ever holds more than ``cachedSales``.
    private let recent = Mutex<[String: (window: Int64, current: String, previous: String)]>([:])
    private static let cachedSales = 256

    public init(secret: [UInt8]) {
        key = SubKey.derive(from: secret, for: "proof-of-work nonce")
    }

    /// The nonce of `sale` for the window holding `nowMs`.
    public func nonce(sale: String, nowMs: Int64) -> String {
        nonces(sale: sale, window: nowMs / Self.windowMs).current
    }

    /// When a nonce handed out at `nowMs` stops being accepted.
    public static func expiry(nowMs: Int64) -> Int64 {
        (nowMs / windowMs + 2) * windowMs
    }

    /// Whether `nonce` is the one of `sale` for this window or the one before.
    public func isCurrent(_ nonce: String, sale: String, nowMs: Int64) -> Bool {
        let known = nonces(sale: sale, window: nowMs / Self.windowMs)
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

    private func nonces(sale: String, window: Int64) -> (current: String, previous: String) {
        if let known = recent.withLock({ $0[sale] }), known.window == window {
            return (known.current, known.previous)
        }
        let fresh = (
            window: window, current: nonce(sale: sale, window: window), previous: nonce(sale: sale, window: window - 1)
        )
        recent.withLock { recent in
            if recent.count >= Self.cachedSales { recent.removeAll() }
            recent[sale] = fresh
        }
        return (fresh.current, fresh.previous)
    }

    private func nonce(sale: String, window: Int64) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("pow\n\(sale)\n\(window)".utf8), using: key)
        return Data(code.prefix(16)).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
