import FastCGI
import Foundation
import TestSupport
import Testing

@testable import Buying
@testable import Store

/// An order whose log sync failed: withdrawn when it can be, kept when it cannot, and the gate
/// holds exactly what SQLite holds either way; orders stay stopped after it.
@Suite struct SyncFailedOrderTests {
    @Test func keptOrderKeepsItsUnitInTheGate() throws {
        let shop = try Shop()
        try shop.createSale("spring", stock: 3)
        try shop.withFunctionsStore { store in
            store.syncLog = { database throws(SQLiteError) in
                try database.execute("PRAGMA query_only = 1")
                throw SQLiteError(resultCode: 10, extendedResultCode: 1034, message: "disk I/O error", sql: nil)
            }
        }
        let first = try shop.buy("alice", sale: "spring")
        #expect(first.status == .serviceUnavailable && first.errorCode == "busy")
        #expect(String(decoding: first.body, as: UTF8.self).contains("orders are stopped"))
        try shop.withFunctionsStore { store in try store.database.execute("PRAGMA query_only = 0") }
        var state = try shop.state(of: "spring")
        #expect(state.orders.map(\.user) == ["alice"] && state.sale.remaining == 2 && state.slot.remaining == 2)
        let second = try shop.buy("bob", sale: "spring")
        #expect(
            second.status == .serviceUnavailable
                && String(decoding: second.body, as: UTF8.self).contains("orders are stopped"))
        state = try shop.state(of: "spring")
        #expect(state.orders.map(\.user) == ["alice"] && state.sale.remaining == 2 && state.slot.remaining == 2)
    }

    @Test func withdrawnOrderGivesItsUnitBack() throws {
        let shop = try Shop()
        try shop.createSale("spring", stock: 3)
        try shop.withFunctionsStore { store in
            store.syncLog = { _ throws(SQLiteError) in
                throw SQLiteError(resultCode: 10, extendedResultCode: 1034, message: "disk I/O error", sql: nil)
            }
        }
        let first = try shop.buy("alice", sale: "spring")
        #expect(first.status == .serviceUnavailable && first.errorCode == "busy")
        let state = try shop.state(of: "spring")
        #expect(state.orders.isEmpty && state.sale.remaining == 3 && state.slot.remaining == 3)
    }
}
