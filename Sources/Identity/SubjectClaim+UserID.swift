import JWTKit

extension SubjectClaim {
    /// The longest user id accepted, in characters.
    static let maxUserIDLength = 128

    /// Throws unless `value` is a user id: 1 to 128 characters, none of them a control character.
    func verifyUserID() throws {
        let reason: String? =
            if value.isEmpty {
                "the token names no user (sub is missing or empty)"
            } else if value.count > Self.maxUserIDLength {
                "the user id (sub) is longer than \(Self.maxUserIDLength) characters"
            } else if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                "the user id (sub) contains a control character"
            } else {
                nil
            }
        if let reason {
            throw JWTError.claimVerificationFailure(failedClaim: self, reason: reason)
        }
    }
}
