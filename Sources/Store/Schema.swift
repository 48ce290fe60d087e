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
            slot INTEGER NOT NULL UNIQUE CHECK (slot >= 0 AND slot < 1024),
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
        """,
        """
        ALTER TABLE sales ADD COLUMN per_ip_rate INTEGER NOT NULL DEFAULT 0
            CHECK (per_ip_rate >= 0 AND per_ip_rate <= 1000);
        """,
        """
        ALTER TABLE sales ADD COLUMN min_level INTEGER NOT NULL DEFAULT 0 CHECK (min_level >= 0);
        """,
        """
        ALTER TABLE sales ADD COLUMN captcha TEXT NOT NULL DEFAULT 'off' CHECK (captcha IN ('off', 'image', 'question'));
        CREATE TABLE sale_questions (
            sale TEXT NOT NULL REFERENCES sales (id),
            position INTEGER NOT NULL,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,
            PRIMARY KEY (sale, position)
        ) STRICT;
        """,
        """
        ALTER TABLE sales ADD COLUMN pow_bits INTEGER NOT NULL DEFAULT 0 CHECK (pow_bits >= 0 AND pow_bits <= 24);
        """,
        """
        ALTER TABLE orders ADD COLUMN ticket INTEGER;
        """,
    ]

    /// The most sales a database holds: one per slot of the stock segment.
    static let maxSales = 1024

    /// Runs the migrations the database has not seen, each in its own transaction with the
    /// version bump, so several processes starting at once migrate exactly once. A database
    /// already up to date takes no write lock; one newer than this program is refused.
    static func migrate(_ database: Database) throws(SQLiteError) {
        let current = try version(of: database)
        guard current <= migrations.count else {
            throw SQLiteError(
                resultCode: 1, extendedResultCode: 1,
                message: "the database has schema version \(current), newer than this flashsale knows "
                    + "(\(migrations.count)): run a newer flashsale", sql: nil)
        }
        for (index, migration) in migrations.enumerated() where index >= current {
            try database.execute("BEGIN IMMEDIATE")
            do {
                if try version(of: database) == index {
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

    private static func version(of database: Database) throws(SQLiteError) -> Int {
        Int(try database.text("PRAGMA user_version") ?? "0") ?? 0
    }
}
