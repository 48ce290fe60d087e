/// The sale of `flashsale demo`, created on the first run and started over on each later one.
/// The demo hands out guest identities signed with the data directory's identity key, so it
/// runs only on a directory of its own: one holding another sale, or a sale called `demo`
/// that the demo did not make, is refused before anything changes.
public enum DemoSale {
    public static let id = "demo"

    /// Creates the demo sale from `new`, or starts it over; `madeByDemo` says whether the
    /// directory carries the demo's marker.
    public static func prepare<Store, Gate>(_ new: NewSale, desk: SaleDesk<Store, Gate>, madeByDemo: Bool, nowMs: Int64)
        throws(StoreError)
        -> Sale
    {
        let sales = try desk.store.sales()
        if let other = sales.first(where: { $0.id != id }) {
            throw .invalid(
                "the data directory holds the sale \"\(other.id)\": the demo runs only in a directory of its own (give --data)"
            )
        }
        guard sales.contains(where: { $0.id == id }) else { return try desk.create(new, nowMs: nowMs) }
        guard madeByDemo else {
            throw .invalid("the data directory holds a sale \"demo\" that `flashsale demo` did not create: give --data")
        }
        return try desk.replace(new, nowMs: nowMs)
    }
}
