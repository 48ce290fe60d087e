/// The database schema, one migration per version; `PRAGMA user_version` says how many ran.
enum Schema {
    static let migrations: [String] = [
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT;
        INSERT INTO meta (key, value) VALUES ('database_id', lower(hex(randomblob(8))));
        CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            slot INTEGER NOT NULL UNIQUE CHECK (slot >= 0),
            title TEXT NOT NULL,
            price INTEGER NOT NULL CHECK (price >= 0),
            stock INTEGER NOT NULL CHECK (stock > 0),
            remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= stock),
            version INTEGER NOT NULL DEFAULT 0,
            starts_at INTEGER NOT NULL,
            ends_at INTEGER CHECK (ends_at IS NULL OR ends_at > starts_at),
            secret TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            sale TEXT NOT NULL REFERENCES sales (id),
            user TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'placed',
            UNIQUE (sale, user)
        ) STRICT;
        """
    ]

    /// Runs the migrations the database has not seen, each in its own transaction with the
    /// version bump, so several processes starting at once migrate exactly once.
    static func migrate(_ database: Database) throws(SQLiteError) {
        for (index, migration) in migrations.enumerated() {
            try database.execute("BEGIN IMMEDIATE")
            do {
                let version = Int(try database.text("PRAGMA user_version") ?? "0") ?? 0
                if version == index {
                    try database.execute(migration)
                    try database.execute("PRAGMA user_version = \(index + 1)")
                }
                try database.execute("COMMIT")
            } catch {
                try? database.execute("ROLLBACK")
                throw error
            }
        }
    }
}
