import Foundation

/// An HTTP/1.1 answer as a test sees it.
public struct HTTPAnswer: Sendable {
    public var status: Int
    /// Header names lower-cased; the last value wins.
    public var headers: [String: String]
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body decoded as a JSON object.
    public func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw POSIXError(.EBADMSG)
        }
        return object
    }

    /// The `error.code` of a JSON error body, if the body is one.
    public var errorCode: String? {
        ((try? json())?["error"] as? [String: Any])?["code"] as? String
    }

    /// Parses a raw answer: status line, headers, body (up to what was received).
    public init(raw: [UInt8]) throws {
        guard let end = raw.firstRange(of: Array("\r\n\r\n".utf8)) else { throw POSIXError(.EBADMSG) }
        let head = String(decoding: raw[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw POSIXError(.EBADMSG) }
        self.status = status
        headers = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        body = Array(raw[end.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            body = try Self.dechunked(body)
        }
    }

    /// The body of a chunked answer (a proxying host streams one), its chunks joined.
    static func dechunked(_ raw: [UInt8]) throws -> [UInt8] {
        var body: [UInt8] = []
        var rest = raw[...]
        while let lineEnd = rest.firstRange(of: Array("\r\n".utf8)) {
            let sizeField =
                String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeField.trimmingCharacters(in: .whitespaces), radix: 16),
                rest.distance(from: lineEnd.upperBound, to: rest.endIndex) >= size
            else { throw POSIXError(.EBADMSG) }
            if size == 0 { return body }
            let start = lineEnd.upperBound
            body += rest[start..<rest.index(start, offsetBy: size)]
            rest = rest[rest.index(start, offsetBy: size)...].dropFirst(2)
        }
        throw POSIXError(.EBADMSG)
    }
}

/// Sends raw HTTP/1.1 requests to a loopback port, byte for byte as written, so tests can
/// send what a browser never would. One connection per request.
public enum HTTPClient {
    public static func send(host: String = "127.0.0.1", port: Int, raw: [UInt8]) throws -> HTTPAnswer {
        let stream = try SocketStream(host: host, port: port)
        try stream.write(raw)
        return try HTTPAnswer(raw: stream.readToEnd())
    }

    public static func request(
        host: String = "127.0.0.1", port: Int, method: String = "GET", target: String, headers: [String: String] = [:],
        body: [UInt8] = []
    ) throws -> HTTPAnswer {
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            head += "\(name): \(value)\r\n"
        }
        if !body.isEmpty || method == "POST" {
            head += "Content-Length: \(body.count)\r\n"
        }
        return try send(host: host, port: port, raw: Array((head + "\r\n").utf8) + body)
    }
}
