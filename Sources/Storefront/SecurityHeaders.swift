/// The headers every response carries, from lighttpd and from a CDN alike: no sniffing, no
/// framing, no referrer, and a policy that runs only the site's own scripts and styles.
public enum SecurityHeaders {
    public static let all: [(name: String, value: String)] = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        (
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        ),
    ]
}
