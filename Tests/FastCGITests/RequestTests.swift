import FastCGI
import HTTPTypes
import Testing

@Suite struct RequestTests {
    func params(_ values: [String: String]) -> Params {
        Params(
            ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/time", "REMOTE_ADDR": "192.0.2.7"].merging(values) { $1 })
    }

    @Test func parsesMethodPathQueryHeadersAndAddress() throws {
        let request = try Request(
            params: params([
                "REQUEST_METHOD": "POST",
                "REQUEST_URI": "/api/caf%C3%A9?sale=s%201&word=two+words&flag&sale=second",
                "QUERY_STRING": "sale=s%201&word=two+words&flag&sale=second",
                "HTTP_USER_AGENT": "test/1.0",
                "HTTP_X_FORWARDED_FOR": "198.51.100.1",
                "CONTENT_TYPE": "application/json",
                "CONTENT_LENGTH": "2",
                "SERVER_SOFTWARE": "lighttpd",
            ]))
        #expect(request.method == .post)
        #expect(request.path == "/api/café")
        #expect(request.query["sale"] == "s 1")
        #expect(request.query["word"] == "two words")
        #expect(request.query["flag"] == "")
        #expect(request.query["missing"] == nil)
        #expect(request.query.items.count == 4)
        #expect(request.headers[.userAgent] == "test/1.0")
        #expect(request.headers[HTTPField.Name("x-forwarded-for")!] == "198.51.100.1")
        #expect(request.headers[.contentType] == "application/json")
        #expect(request.headers[.contentLength] == "2")
        #expect(request.headers[HTTPField.Name("server-software")!] == nil)
        #expect(request.remoteAddress == "192.0.2.7")
    }

    @Test func readsOneHeaderStraightFromTheParamsAsTheFieldsWouldGiveIt() throws {
        let fromParams = try Request(
            params: params([
                "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.9", "HTTP_AUTHORIZATION": "Bearer abc",
                "CONTENT_TYPE": "application/json", "HTTP_COOKIE": "a=1; b=2",
            ]))
        let names: [HTTPField.Name] = [
            HTTPField.Name("X-Forwarded-For")!, .authorization, .contentType, .cookie, .userAgent, .contentLength,
        ]
        for name in names {
            #expect(fromParams.values(ofHeader: name) == fromParams.headers[values: name], "\(name)")
        }
        #expect(fromParams.values(ofHeader: HTTPField.Name("x-forwarded-for")!) == ["198.51.100.1, 203.0.113.9"])
        #expect(fromParams.values(ofHeader: .userAgent) == [])
        let built = Request(method: .get, path: "/", headers: [.cookie: "a=1", .authorization: "Bearer x"])
        #expect(built.values(ofHeader: .cookie) == ["a=1"])
        #expect(built.values(ofHeader: .authorization) == ["Bearer x"])
    }

    @Test func takesTheQueryFromTheURIWhenQueryStringIsAbsent() throws {
        var values = params(["REQUEST_URI": "/api/time?a=1"]).values
        values["QUERY_STRING"] = nil
        let request = try Request(params: Params(values))
        #expect(request.query["a"] == "1")
        #expect(request.path == "/api/time")
    }

    @Test(arguments: [
        ["REQUEST_URI": "/api/time?a=%zz", "QUERY_STRING": "a=%zz"],
        ["REQUEST_URI": "/api/time?a=%2", "QUERY_STRING": "a=%2"],
        ["REQUEST_URI": "/api/time?%FF=1", "QUERY_STRING": "%FF=1"],
        ["REQUEST_URI": "/api/ti%zzme"],
        ["REQUEST_URI": "/api/ti%FFme"],
        ["REQUEST_URI": "/api/ti%00me"],
        ["REQUEST_URI": "api/time"],
        ["REQUEST_URI": ""],
        ["REQUEST_METHOD": ""],
        ["REQUEST_METHOD": "GE T"],
    ])
    func refusesMalformedRequestsWithBadRequest(_ values: [String: String]) {
        #expect(throws: HTTPError.self) { try Request(params: params(values)) }
        do {
            _ = try Request(params: params(values))
        } catch {
            #expect(error.code == .badRequest)
            #expect(error.status == .badRequest)
        }
    }

    @Test func refusesARequestWithoutMethodOrURI() {
        for missing in ["REQUEST_METHOD", "REQUEST_URI"] {
            var values = params([:]).values
            values[missing] = nil
            #expect(
                throws: HTTPError(
                    .badRequest,
                    missing == "REQUEST_METHOD"
                        ? "the request has no REQUEST_METHOD" : "the request has no REQUEST_URI starting with /")
            ) {
                try Request(params: Params(values))
            }
        }
    }

    @Test func refusesRequestLinePartsThatAreNotUTF8() {
        for name in ["REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING"] {
            var params = params([:])
            params.set(name, bytes: [0x2F, 0xC3, 0x28])
            #expect(throws: HTTPError(.badRequest, "\(name) is not valid UTF-8")) { try Request(params: params) }
        }
    }

    @Test func keepsHeadersThatAreNotUTF8Repaired() throws {
        var params = params([:])
        params.set("HTTP_X_NAME", bytes: [0x61, 0xFF, 0x62])
        let request = try Request(params: params)
        #expect(request.headers[HTTPField.Name("x-name")!] == "a\u{FFFD}b")
    }

    @Test func parsesRawEntriesAndIgnoresEntriesWithoutEquals() {
        var params = Params()
        params.append(entry: Array("REQUEST_METHOD=GET".utf8))
        params.append(entry: Array("EMPTY=".utf8))
        params.append(entry: Array("WITH=EQUALS=INSIDE".utf8))
        params.append(entry: Array("NOEQUALS".utf8))
        #expect(params.values == ["REQUEST_METHOD": "GET", "EMPTY": "", "WITH": "EQUALS=INSIDE"])
    }

    @Test func decodesAHugeQueryInLinearTime() throws {
        let query = (0..<20_000).map { "k\($0)=v%20\($0)" }.joined(separator: "&")
        let request = try Request(params: params(["REQUEST_URI": "/api/time?" + query, "QUERY_STRING": query]))
        #expect(request.query.items.count == 20_000)
        #expect(request.query["k19999"] == "v 19999")
    }
}
