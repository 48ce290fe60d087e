import Foundation

/// Speaks the FastCGI protocol to a function's socket the way a web server does, but lets a
/// test send any parameters, including ones no web server would (no REQUEST_METHOD, bytes
/// that are not UTF-8, huge values), and split a request to control its timing.
public final class FastCGIClient {
    private let stream: SocketStream
    private let requestID: UInt16 = 1

    public init(socketPath: String) throws {
        stream = try SocketStream(unixPath: socketPath)
    }

    /// One whole request: parameters, body, and the parsed answer.
    public static func request(
        socketPath: String, params: [(String, [UInt8])], body: [UInt8] = []
    ) throws -> HTTPAnswer {
        let client = try FastCGIClient(socketPath: socketPath)
        try client.begin(params: params)
        try client.sendBody(body)
        return try client.readAnswer()
    }

    /// Convenience: parameters as strings.
    public static func request(socketPath: String, params: [String: String], body: [UInt8] = []) throws -> HTTPAnswer {
        try request(
            socketPath: socketPath, params: params.sorted { $0.key < $1.key }.map { ($0.key, Array($0.value.utf8)) },
            body: body)
    }

    /// Sends BEGIN_REQUEST (responder role) and the parameters.
    public func begin(params: [(String, [UInt8])]) throws {
        try sendBeginRequest()
        try sendParams(params)
    }

    /// Sends BEGIN_REQUEST alone: the function accepts and waits for the parameters.
    /// `keepConnection` sets FCGI_KEEP_CONN, asking the function to leave the connection open.
    public func sendBeginRequest(keepConnection: Bool = false) throws {
        try stream.write(record(type: 1, content: [0, 1, keepConnection ? 1 : 0, 0, 0, 0, 0, 0]))
    }

    /// Sends the parameters and the empty record that ends them.
    public func sendParams(_ params: [(String, [UInt8])]) throws {
        var content: [UInt8] = []
        for (name, value) in params {
            content += Self.length(name.utf8.count) + Self.length(value.count) + Array(name.utf8) + value
        }
        for chunk in Self.chunks(content) {
            try stream.write(record(type: 4, content: chunk))
        }
        try stream.write(record(type: 4, content: []))
    }

    /// Sends the body as STDIN records and the empty record that ends it.
    public func sendBody(_ body: [UInt8]) throws {
        for chunk in Self.chunks(body) {
            try stream.write(record(type: 5, content: chunk))
        }
        try stream.write(record(type: 5, content: []))
    }

    /// Reads STDOUT records until the function closes the connection, closes it too (as a
    /// web server does) and parses a CGI answer.
    public func readAnswer() throws -> HTTPAnswer {
        defer { stream.close() }
        return try readAnswerLeavingOpen()
    }

    /// Reads the answer as ``readAnswer()`` does but keeps this side open, as a web server
    /// busy elsewhere would.
    public func readAnswerLeavingOpen() throws -> HTTPAnswer {
        let raw = try stream.readToEnd()
        var stdout: [UInt8] = []
        var offset = 0
        while offset + 8 <= raw.count {
            let type = raw[offset + 1]
            let length = Int(raw[offset + 4]) << 8 | Int(raw[offset + 5])
            let end = offset + 8 + length + Int(raw[offset + 6])
            guard end <= raw.count else { throw POSIXError(.EBADMSG) }
            if type == 6 {
                stdout += raw[(offset + 8)..<(offset + 8 + length)]
            }
            offset = end
        }
        return try Self.parseCGI(stdout)
    }

    /// Whether the function has closed the connection, not only ended its answer: one byte
    /// sent now is refused (EPIPE, or ECONNRESET when bytes it never read were left behind).
    public func functionHasClosed() -> Bool {
        do {
            try stream.write([0])
            return false
        } catch let error as POSIXError {
            return error.code == .EPIPE || error.code == .ECONNRESET
        } catch {
            return false
        }
    }

    /// A CGI answer (`Status: 200 OK` and headers) in the shape of an HTTP one.
    static func parseCGI(_ stdout: [UInt8]) throws -> HTTPAnswer {
        guard let end = stdout.firstRange(of: Array("\r\n\r\n".utf8)) else { throw POSIXError(.EBADMSG) }
        let head = String(decoding: stdout[..<end.lowerBound], as: UTF8.self)
        guard head.hasPrefix("Status: ") else { throw POSIXError(.EBADMSG) }
        return try HTTPAnswer(raw: Array(("HTTP/1.1 " + head.dropFirst(8)).utf8) + stdout[end.lowerBound...])
    }

    private func record(type: UInt8, content: [UInt8]) -> [UInt8] {
        [
            1, type, UInt8(requestID >> 8), UInt8(requestID & 0xff), UInt8(content.count >> 8),
            UInt8(content.count & 0xff), 0, 0,
        ]
            + content
    }

    private static func length(_ n: Int) -> [UInt8] {
        n < 128
            ? [UInt8(n)] : [UInt8((n >> 24) | 0x80), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
    }

    private static func chunks(_ bytes: [UInt8]) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: 65535).map { Array(bytes[$0..<min($0 + 65535, bytes.count)]) }
    }
}
