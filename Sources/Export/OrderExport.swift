import Basics
import CSV
import Foundation
import Sales

/// The orders of a sale, as `flashsale orders` writes them.
public enum OrderExport {
    public static let columns = ["id", "sale", "user", "created_at", "status"]

    /// CSV with a header row.
    public static func csv(_ orders: [Order]) throws -> String {
        let stream = OutputStream(toMemory: ())
        let writer = try CSVWriter(stream: stream)
        try writer.write(row: columns)
        for order in orders {
            try writer.write(row: [String(order.id), order.sale, order.user, iso8601(order.createdAt), order.status])
        }
        writer.stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// A JSON array of objects with the same fields as the CSV columns.
    public static func json(_ orders: [Order]) throws -> Data {
        struct Row: Encodable {
            var id: Int64
            var sale: String
            var user: String
            var created_at: String
            var status: String
        }
        return try prettyJSON(
            orders.map {
                Row(id: $0.id, sale: $0.sale, user: $0.user, created_at: iso8601($0.createdAt), status: $0.status)
            })
    }
}
