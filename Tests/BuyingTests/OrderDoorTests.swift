import Basics
import FastCGI
import Foundation
import Hosting
import TestSupport
import Testing

@testable import Buying

/// The order function beside its door (`ListenQueue.Door`): the in-line `BusyGate` stands
/// aside while the door keeps the queue, and takes over once the door has closed.
@Suite struct OrderDoorTests {
    @Test func onceTheDoorHasClosedTheOrderFunctionRefusesBeyondTheLimitInLine() throws {
        let shop = try Shop()
        let sale = try shop.createSale("spring", stock: 3)
        let directory = try TemporaryDirectory("door")
        defer { directory.remove() }
        let fd = try unixListener(at: directory.path + "/order.sock")
        defer { close(fd) }
        let door = try #require(ListenQueue.Door.open(listener: fd, limit: 1, answer: []))
        let order = OrderFunction.function(shop.context, door: door)
        func request(_ user: String) throws -> Request {
            let token = try shop.mintOrderToken(user: user, sale: "spring")
            let body = try JSONSerialization.data(withJSONObject: ["sale": "spring", "token": token])
            var request = Request(
                method: .post, path: "/api/order/\(sale.secret)", headers: try shop.headers(user), body: Array(body))
            request.queuedBehind = { 100 }
            return request
        }

        // The door keeps the queue: what it let in is not refused again.
        #expect(shop.call(order, try request("alice")).status == .created)

        // Its socket stops listening: the door's thread ends, and the function gates in line.
        shutdown(fd, Int32(SHUT_RDWR))
        #expect(eventually { !door.isOpen }, "the door's thread ended but it still says it is open")
        let refused = shop.call(order, try request("bob"))
        #expect(refused.status == .serviceUnavailable && refused.errorCode == "busy")
        #expect(refused.headers[.retryAfter] == "1")
    }
}
