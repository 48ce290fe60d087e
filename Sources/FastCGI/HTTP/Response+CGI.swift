import HTTPTypes

extension Response {
    /// The response as a CGI/FastCGI stdout stream: a `Status:` line, the headers with
    /// `Content-Length`, a blank line and, unless `includeBody` is false (HEAD), the body.
    public func cgiBytes(includeBody: Bool = true) -> [UInt8] {
        var head = "Status: \(status.code) \(status.reasonPhrase)\r\n"
        for field in headers where field.name != .contentLength {
            head += "\(field.name.rawName): \(field.value)\r\n"
        }
        // A 304 or 204 has no body; a Content-Length on a 304 would have to be the full answer's.
        if status != .notModified && status != .noContent {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if includeBody {
            bytes += body
        }
        return bytes
    }
}
