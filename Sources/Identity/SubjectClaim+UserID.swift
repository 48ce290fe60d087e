import JWTKit

extension SubjectClaim {
    /// The longest user id accepted, in characters.
    static let maxUserIDLength = 128

    /// Throws unless `value` is a user id: 1 to 128 characters, none of them a control character.
    func verifyUserID() throws {
        // Printable ASCII, the usual id, needs no walk over characters and their categories.
        let isPrintableASCII = value.utf8.allSatisfy { (0x20...0x7E).contains($0) }
        let reason: String? =
            if value.isEmpty {
                "the token names no user (sub is missing or empty)"
            } else if (isPrintableASCII ? value.utf8.count : value.count) > Self.maxUserIDLength {
                "the user id (sub) is longer than \(Self.maxUserIDLength) characters"
            } else if !isPrintableASCII,
                value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            {
                "the user id (sub) contains a control character"
            } else {
                nil
            }
        if let reason {
            throw JWTError.claimVerificationFailure(failedClaim: self, reason: reason)
        }
    }
}
