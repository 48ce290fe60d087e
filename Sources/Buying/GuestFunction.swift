import Basics
import FastCGI
import Foundation
import HTTPTypes
import Identity

/// `POST /api/guest` → `{"user":"guest-…"}` and the identity cookie: lets a person at the
/// browser buy in `flashsale demo` without the main site. It signs with the identity key, as
/// the main site would, so it must never run outside the demo: its manifest is `demoOnly`
/// (`serve` does not route it) and the process refuses to start without `FLASHSALE_DEMO=1`.
public enum GuestFunction {
    /// How long a guest identity lasts.
    static let lifetimeSeconds: Int64 = 3600

    /// The answer: the guest's user id (the identity itself travels in the cookie).
    public struct Body: Codable, Sendable, Equatable {
        public var user: String
    }

    /// The function, with the data directory's identity key; refuses outside the demo.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> Function
    {
        guard environment[DataDirectory.demoVariable] == "1" else {
            throw DataDirectoryError(
                "the guest function runs only under `flashsale demo` (\(DataDirectory.demoVariable)=1)")
        }
        let data = DataDirectory.resolve(option: nil, environment: environment)
        try data.checkUsable()
        return function(signer: TokenSigner(secret: try data.keyBytes(data.identityKey)))
    }

    /// A browser that already holds a valid guest identity keeps it; any other gets a new one.
    static func function(signer: TokenSigner, clock: @escaping @Sendable () -> Int64 = wallClockMilliseconds)
        -> Function
    {
        let reader = IdentityReader(signer: signer)
        return Function(
            name: "guest",
            routes: [
                Route("/api/guest", methods: [.post]) { request in
                    if let user = try? reader.user(of: request), user.hasPrefix("guest-") {
                        return try Response.json(Body(user: user))
                    }
                    let user = "guest-" + randomHex(bytes: 8)
                    let expires = Date(timeIntervalSince1970: Double(clock() / 1000 + lifetimeSeconds))
                    let token = try signer.sign(UserClaims(user: user, expires: expires))
                    let cookie =
                        "\(IdentityReader.cookieName)=\(token); Path=/; Max-Age=\(lifetimeSeconds); HttpOnly; SameSite=Strict"
                    return try Response.json(Body(user: user), headers: [.setCookie: cookie])
                }
            ])
    }
}
