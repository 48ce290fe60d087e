import FastCGI

extension Request {
    /// The credentials of `Authorization: Bearer <token>` (scheme in any case), `""` when the
    /// scheme is Bearer but the token is missing, or nil when there is no Bearer header.
    var bearerToken: Substring? {
        guard let value = values(ofHeader: .authorization).first?.trimmingSpaces else { return nil }
        let scheme = value.prefix { $0 != " " && $0 != "\t" }
        guard scheme.lowercased() == "bearer" else { return nil }
        return value.dropFirst(scheme.count).trimmingSpaces
    }

    /// The value of the first cookie called `name`, across every `Cookie` header
    /// (`a=1; name=value; b=2`), without the optional double quotes of RFC 6265.
    func cookie(named name: String) -> Substring? {
        for field in values(ofHeader: .cookie) {
            for pair in field.split(separator: ";") {
                guard let equals = pair.firstIndex(of: "="), pair[..<equals].trimmingSpaces == name else { continue }
                let value = pair[pair.index(after: equals)...].trimmingSpaces
                if value.count >= 2, value.first == "\"", value.last == "\"" {
                    return value.dropFirst().dropLast()
                }
                return value
            }
        }
        return nil
    }
}

extension StringProtocol where SubSequence == Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
