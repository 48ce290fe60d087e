import ArgumentParser
import Foundation
import Identity

struct UserToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user-token",
        abstract:
            "Print a buyer identity token (JWT, HS256 with the data directory's identity.key) for tests and demos."
    )

    @OptionGroup var data: DataOption
    @Argument(help: "The user id (the token's sub).") var user: String
    @Option(help: "Seconds until the token expires.") var ttl = 3600
    @Option(help: "The account's level (the level claim), for sales with a minimum level.") var level: Int?

    func validate() throws {
        guard ttl > 0 else { throw ValidationError("--ttl must be a positive number of seconds") }
    }

    func run() throws {
        try runReporting {
            let directory = data.directory
            try directory.checkUsable()
            let signer = TokenSigner(secret: try directory.keyBytes(directory.identityKey))
            // Whole seconds: a NumericDate may be fractional, but not every reader accepts that.
            let expires = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + Double(ttl)).rounded(.down))
            let claims = UserClaims(user: user, expires: expires, level: level)
            let token = try signer.sign(claims)
            // Checked as a function will check it, so a user id it would refuse is refused here.
            do {
                _ = try signer.verify(token, as: UserClaims.self)
            } catch {
                throw ValidationError("user \"\(user)\" cannot be used: \(error)")
            }
            print(token)
        }
    }
}
