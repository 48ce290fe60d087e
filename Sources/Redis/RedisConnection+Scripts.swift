extension RedisConnection {
    /// Loads `script` into the server's script cache (SCRIPT LOAD) and answers its SHA-1, which
    /// this connection keeps to run it by. A hash other than the one learned before throws.
    @discardableResult
    public func load(_ script: RedisScript) throws(RedisError) -> String {
        let reply = try command(["SCRIPT", "LOAD", script.source])
        guard let sha1 = reply.text, sha1.count == 40 else {
            throw RedisError(kind: .protocol, message: "SCRIPT LOAD answered no SHA-1", command: "SCRIPT")
        }
        if let known = scriptHashes[script], known != sha1 {
            throw RedisError(
                kind: .protocol, message: "SCRIPT LOAD answered \(sha1) for the script \(known) names",
                command: "SCRIPT")
        }
        scriptHashes[script] = sha1
        return sha1
    }

    /// Runs `script` by its SHA-1 (EVALSHA), loading it first on this connection's first use.
    /// When the server has lost it (NOSCRIPT: a restart, SCRIPT FLUSH, a failover), loads it
    /// again and runs it once more; the first attempt did not run.
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) throws(RedisError) -> RedisReply {
        let sha1: String
        if let known = scriptHashes[script] { sha1 = known } else { sha1 = try load(script) }
        let evalsha = ["EVALSHA", sha1, String(keys.count)] + keys + arguments
        do {
            return try command(evalsha)
        } catch  where error.code == "NOSCRIPT" {
            try load(script)
            return try command(evalsha)
        }
    }
}
