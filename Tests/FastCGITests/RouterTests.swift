import FastCGI
import HTTPTypes
import Testing

@Suite struct RouterTests {
    let router = Router([
        Route("/api/a", methods: [.get]) { _ in Response(status: .ok) },
        Route("/api/a", methods: [.delete]) { _ in Response(status: .noContent) },
        Route("/api/b", methods: [.post]) { _ in Response(status: .created) },
    ])

    @Test func findsTheRouteForPathAndMethod() throws {
        #expect(try router.handler(for: .get, path: "/api/a")(Request(method: .get, path: "/api/a")).status == .ok)
        #expect(
            try router.handler(for: .delete, path: "/api/a")(Request(method: .delete, path: "/api/a")).status
                == .noContent)
        #expect(
            try router.handler(for: .post, path: "/api/b")(Request(method: .post, path: "/api/b")).status == .created)
    }

    @Test func acceptingGETAcceptsHEAD() throws {
        #expect(try router.handler(for: .head, path: "/api/a")(Request(method: .head, path: "/api/a")).status == .ok)
    }

    @Test(arguments: ["/api/c", "/api/a/", "/api/a/x", "/API/a", "/", ""])
    func unknownPathIsNotFound(_ path: String) {
        #expect(throws: Router.notFound) {
            try router.handler(for: .get, path: path)
        }
    }

    @Test func wrongMethodIsMethodNotAllowedWithAllow() {
        do {
            _ = try router.handler(for: .post, path: "/api/a")
            Issue.record("POST /api/a was routed")
        } catch {
            #expect(error.code == .methodNotAllowed)
            #expect(error.status == .methodNotAllowed)
            #expect(error.headers[.allow] == "GET, HEAD, DELETE")
        }
        #expect(throws: HTTPError.self) { try router.handler(for: .head, path: "/api/b") }
    }
}

@Suite struct PrefixRouteTests {
    let router = Router([
        Route(prefix: "/api/order/", methods: [.post]) { request in
            Response(status: .created, body: Array(request.path.dropFirst("/api/order/".count).utf8))
        }
    ])

    @Test func answersEveryPathUnderThePrefix() throws {
        let response = try router.handler(for: .post, path: "/api/order/abc")(
            Request(method: .post, path: "/api/order/abc"))
        #expect(response.status == .created)
        #expect(response.body == Array("abc".utf8))
    }

    @Test(arguments: ["/api/order/", "/api/order", "/api/orderx", "/api/orde"])
    func thePrefixItselfAndLookAlikesAreNotFound(_ path: String) {
        #expect(throws: Router.notFound) { try router.handler(for: .post, path: path) }
    }

    @Test func otherMethodsUnderThePrefixAreNotAllowed() {
        #expect(throws: HTTPError.self) { try router.handler(for: .get, path: "/api/order/abc") }
        do {
            _ = try router.handler(for: .get, path: "/api/order/abc")
        } catch {
            #expect(error.code == .methodNotAllowed)
            #expect(error.headers[.allow] == "POST")
        }
    }
}
