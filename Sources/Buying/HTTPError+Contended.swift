import FastCGI

extension HTTPError {
    /// A shared table's words were taken by other claims each time this request looked: nothing
    /// is held or counted and a captcha pass is given back (a proof of work, checked first, is
    /// spent as by any attempt), and a retry a second later gets its answer.
    static let contended = HTTPError.fixed(
        .busy, "too many requests at once; retry in a second", headers: [.retryAfter: "1"])
}
