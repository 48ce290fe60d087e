import FastCGI

/// `GET|POST /api/noop` → `{}`: the smallest function, the yardstick for the host's ceiling.
public enum NoopFunction {
    public static let function = Function(
        name: "noop",
        routes: [
            Route("/api/noop", methods: [.get, .post]) { _ in Response.json(bytes: Array("{}".utf8)) }
        ])
}
