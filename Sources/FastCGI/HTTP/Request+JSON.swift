import Foundation

extension Request {
    /// The body decoded as `T`; a body that is not such JSON is 400 `bad_request`, whose message
    /// shows `example`, the shape the function expects.
    public func decodeJSON<T: Decodable>(_: T.Type, example: String) throws(HTTPError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw HTTPError(.badRequest, "the body must be JSON like \(example)")
        }
    }
}
