import FastCGI
import Foundation
import Sales
import Segment
import Store
import Synchronization
import TestSupport
import Testing

@testable import Buying

/// Another process re-initialises the segment (every slot cleared: no configuration, nothing
/// left, no flags) under a process whose mapping did not fault. Until the slot is reconciled
/// from SQLite it says nothing about the stock: buyers hear 503 `busy`, never `sold_out` or
/// `unknown_sale`, nothing changes, and the sale then sells as before.
@Suite struct ClearedSlotTests {
    /// A slot as a re-initialisation leaves it; `flagged`: with the sold-out flag that a failed
    /// take in yet another process synced into it meanwhile.
    static func clearedSlot(flagged: Bool) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: SegmentFile.slotSize)
        if flagged { bytes[SegmentFile.Field.flags] = 1 }
        return bytes
    }

    /// A function process on the shop's data directory whose clock, while `clearing` is on,
    /// clears the sale's slot each time it is read: after the request found the slot holding the
    /// sale (reconciling it if need be), as a re-initialisation elsewhere lands mid-request.
    final class Process: Sendable {
        final class Switch: Sendable {
            private let state = Mutex(false)
            var isOn: Bool { state.withLock { $0 } }
            func set(_ on: Bool) { state.withLock { $0 = on } }
        }

        let context: BuyingContext
        let token: Function
        let precheck: Function
        let order: Function
        let clearing = Switch()

        init(_ shop: Shop, slot: Int, flagged: Bool) throws {
            let (path, offset) = (shop.data.segment, SegmentFile.slotField(slot, 0))
            let (cleared, clock, clearing) = (ClearedSlotTests.clearedSlot(flagged: flagged), shop.clock, clearing)
            context = try BuyingContext(settings: shop.context.settings) {
                if clearing.isOn { #expect(SegmentFile.overwrite(path, at: offset, with: cleared)) }
                return clock.ms
            }
            token = TokenFunction.function(context)
            precheck = PrecheckFunction.function(context)
            order = OrderFunction.function(context)
        }
    }

    @Test(arguments: [false, true])
    func aSlotClearedUnderAProcessIsBusyNotSoldOutThenTheSaleSells(flagged: Bool) throws {
        let shop = try Shop()
        let sale = try shop.createSale("spring", stock: 2)
        let process = try Process(shop, slot: sale.slot, flagged: flagged)
        let before = try shop.snapshot(of: "spring")

        process.clearing.set(true)
        let token = try shop.call(
            process.token,
            Request(
                method: .post, path: "/api/token", headers: try shop.headers("alice"), remoteAddress: "127.0.0.1",
                body: Array(#"{"sale":"spring"}"#.utf8)))
        let order = try placeOrder("alice", sale: sale, shop: shop, through: process)
        // No take from the cleared slot synced a sold-out flag into it.
        #expect(try shop.state(of: "spring").slot.isSoldOut == flagged)
        let precheck = shop.call(
            process.precheck,
            Request(method: .get, path: "/api/precheck", query: Query([.init(name: "sale", value: "spring")])))
        for (name, answer) in [("token", token), ("order", order), ("precheck", precheck)] {
            #expect(
                answer.status == .serviceUnavailable && answer.errorCode == "busy"
                    && answer.headers[.retryAfter] == "1",
                "\(name): \(answer.status) \(answer.text)")
        }
        let state = try shop.state(of: "spring")
        #expect(state.orders.isEmpty && state.sale.remaining == 2 && state.sale.version == before.version)

        process.clearing.set(false)
        for user in ["u1", "u2"] {
            let bought = try buy(user, sale: sale, shop: shop, through: process)
            #expect(bought.status == .created, "\(user): \(bought.text)")
        }
        let late = try buy("u3", sale: sale, shop: shop, through: process)
        #expect(late.status == .conflict && late.errorCode == "sold_out", "\(late.text)")
        // Precheck looks the slot up again at most once a second.
        shop.clock.advance(by: 1_000)
        let soldOut = shop.call(
            process.precheck,
            Request(method: .get, path: "/api/precheck", query: Query([.init(name: "sale", value: "spring")])))
        #expect(soldOut.text == #"{"ok":false,"reason":"sold_out"}"#)
        let sold = try shop.state(of: "spring")
        #expect(sold.orders.count == 2 && sold.sale.remaining == 0 && sold.slot.remaining == 0)
    }

    /// The slot precheck found holding the sale is cleared before precheck reads its stock.
    @Test(arguments: [false, true])
    func aPrecheckWhoseSlotIsClearedAfterItWasFoundIsBusyNotSoldOut(flagged: Bool) throws {
        let shop = try Shop()
        let sale = try shop.createSale("spring", stock: 2)
        let slot = shop.desk.segment.slot(at: sale.slot)
        let configuration = try #require(slot.terms())

        #expect(
            SegmentFile.overwrite(
                shop.data.segment, at: SegmentFile.slotField(sale.slot, 0), with: Self.clearedSlot(flagged: flagged)))
        #expect(throws: Refusal.gateRebuilding) {
            try PrecheckFunction.verdict(
                of: slot, configuration, sale: "spring", nowMs: shop.clock.ms, faulted: false, context: shop.context)
        }
        let answer = shop.askPrecheck("spring")
        #expect(answer.status == .serviceUnavailable && answer.errorCode == "busy", "\(answer.text)")

        // The process that re-initialised the segment reconciles it from SQLite.
        try shop.desk.reconcile("spring", nowMs: shop.clock.ms)
        #expect(
            try PrecheckFunction.verdict(
                of: slot, configuration, sale: "spring", nowMs: shop.clock.ms, faulted: false, context: shop.context)
                == nil)
        shop.clock.advance(by: 1_000)
        #expect(shop.askPrecheck("spring").text == #"{"ok":true}"#)
    }

    /// An order through `process` with a token signed as the token function signs them.
    func placeOrder(_ user: String, sale: Sale, shop: Shop, through process: Process) throws -> Response {
        let token = try shop.mintOrderToken(user: user, sale: sale.id)
        let body = try JSONSerialization.data(withJSONObject: ["sale": sale.id, "token": token])
        return shop.call(
            process.order,
            Request(
                method: .post, path: OrderFunction.orderPath(secret: sale.secret), headers: try shop.headers(user),
                remoteAddress: "127.0.0.1", body: Array(body)))
    }

    /// A token from `process`, then the order with it.
    func buy(_ user: String, sale: Sale, shop: Shop, through process: Process) throws -> Response {
        let answer = shop.call(
            process.token,
            Request(
                method: .post, path: "/api/token", headers: try shop.headers(user), remoteAddress: "127.0.0.1",
                body: Array(#"{"sale":"\#(sale.id)"}"#.utf8)))
        guard answer.status == .ok else { return answer }
        let issued = try JSONDecoder().decode(TokenFunction.Answer.self, from: Data(answer.body))
        let body = try JSONSerialization.data(withJSONObject: ["sale": sale.id, "token": issued.token])
        return shop.call(
            process.order,
            Request(
                method: .post, path: issued.orderUrl, headers: try shop.headers(user), remoteAddress: "127.0.0.1",
                body: Array(body)))
    }
}
