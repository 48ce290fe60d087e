import PostgreSQL

/// The PostgreSQL schema, one migration per version; `schema_version` says how many ran.
/// The same tables as the embedded store's, with `user_id` for the buyer (`user` is reserved),
/// and the group commit as a function, so that a group is one round trip and one transaction.
enum PostgresSchema {
    static let migrations: [String] = [
        """
        CREATE TABLE meta (
            key text PRIMARY KEY,
            value text NOT NULL
        );
        CREATE TABLE sales (
            id text PRIMARY KEY,
            slot integer NOT NULL UNIQUE CHECK (slot >= 0 AND slot < 1024),
            title text NOT NULL,
            price bigint NOT NULL CHECK (price >= 0),
            stock bigint NOT NULL CHECK (stock > 0),
            remaining bigint NOT NULL CHECK (remaining >= 0 AND remaining <= stock),
            version bigint NOT NULL DEFAULT 0,
            starts_at bigint NOT NULL,
            ends_at bigint CHECK (ends_at IS NULL OR ends_at > starts_at),
            secret text NOT NULL UNIQUE,
            created_at bigint NOT NULL,
            per_ip_rate bigint NOT NULL DEFAULT 0 CHECK (per_ip_rate >= 0 AND per_ip_rate <= 1000),
            min_level bigint NOT NULL DEFAULT 0 CHECK (min_level >= 0),
            captcha text NOT NULL DEFAULT 'off' CHECK (captcha IN ('off', 'image', 'question')),
            pow_bits bigint NOT NULL DEFAULT 0 CHECK (pow_bits >= 0 AND pow_bits <= 24)
        );
        CREATE TABLE sale_questions (
            sale text NOT NULL REFERENCES sales (id),
            position integer NOT NULL,
            question text NOT NULL,
            answer text NOT NULL,
            PRIMARY KEY (sale, position)
        );
        CREATE TABLE orders (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            sale text NOT NULL REFERENCES sales (id),
            user_id text NOT NULL,
            created_at bigint NOT NULL,
            status text NOT NULL DEFAULT 'placed',
            ticket bigint,
            UNIQUE (sale, user_id)
        );
        """,
        // One group of won orders, entries given as a JSON array of {sale, user, at, ticket}:
        // each sale of the group is locked once (in id order, so that the groups of several
        // hosts never deadlock) and its remaining units read; the entries are inserted in
        // order, ON CONFLICT telling an earlier order of the same user; an entry whose ticket
        // placed an order before (the group committed again) gets that order; each sale's
        // units are taken with one conditional update of the group's count. An outcome row
        // per entry, in the entries' order.
        """
        CREATE FUNCTION place_orders(entries jsonb)
        RETURNS TABLE (entry integer, outcome text, order_id bigint, order_created_at bigint, order_status text)
        LANGUAGE plpgsql AS $place$
        DECLARE
            units_left jsonb := '{}';
            units_taken jsonb := '{}';
            wanted text;
            units bigint;
            taken bigint;
            item record;
            placed record;
        BEGIN
            FOR wanted IN SELECT DISTINCT e ->> 'sale' FROM jsonb_array_elements(entries) AS e ORDER BY 1 LOOP
                SELECT s.remaining INTO units FROM sales AS s WHERE s.id = wanted FOR UPDATE;
                IF FOUND THEN
                    units_left := units_left || jsonb_build_object(wanted, units);
                    units_taken := units_taken || jsonb_build_object(wanted, 0);
                END IF;
            END LOOP;
            FOR item IN
                SELECT (e.position - 1)::integer AS position, e.value ->> 'sale' AS sale, e.value ->> 'user' AS buyer,
                    (e.value ->> 'at')::bigint AS at, (e.value ->> 'ticket')::bigint AS ticket
                FROM jsonb_array_elements(entries) WITH ORDINALITY AS e (value, position)
                ORDER BY e.position
            LOOP
                entry := item.position;
                order_id := NULL;
                order_created_at := NULL;
                order_status := NULL;
                IF NOT units_left ? item.sale THEN
                    outcome := 'unknown_sale';
                    RETURN NEXT;
                    CONTINUE;
                END IF;
                taken := (units_taken ->> item.sale)::bigint;
                IF taken < (units_left ->> item.sale)::bigint THEN
                    INSERT INTO orders AS o (sale, user_id, created_at, ticket)
                    VALUES (item.sale, item.buyer, item.at, item.ticket)
                    ON CONFLICT (sale, user_id) DO NOTHING
                    RETURNING o.id, o.created_at, o.status INTO placed;
                    IF FOUND THEN
                        units_taken := jsonb_set(units_taken, ARRAY[item.sale], to_jsonb(taken + 1));
                        outcome := 'placed';
                        order_id := placed.id;
                        order_created_at := placed.created_at;
                        order_status := placed.status;
                        RETURN NEXT;
                        CONTINUE;
                    END IF;
                END IF;
                SELECT o.id, o.created_at, o.status INTO placed FROM orders AS o
                WHERE o.sale = item.sale AND o.user_id = item.buyer AND item.ticket IS NOT NULL AND o.ticket = item.ticket;
                IF FOUND THEN
                    outcome := 'placed';
                    order_id := placed.id;
                    order_created_at := placed.created_at;
                    order_status := placed.status;
                ELSIF taken < (units_left ->> item.sale)::bigint THEN
                    outcome := 'already_ordered';
                ELSE
                    outcome := 'sold_out';
                END IF;
                RETURN NEXT;
            END LOOP;
            FOR wanted, taken IN SELECT t.key, t.value::bigint FROM jsonb_each_text(units_taken) AS t LOOP
                IF taken > 0 THEN
                    UPDATE sales AS s SET remaining = s.remaining - taken, version = s.version + 1
                    WHERE s.id = wanted AND s.remaining >= taken;
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'the group took % units of sale "%", more than it had', taken, wanted;
                    END IF;
                END IF;
            END LOOP;
        END;
        $place$;
        """,
    ]

    /// Runs the migrations the database has not seen, each in its own transaction with the
    /// version bump, under an advisory lock, so that the processes of several hosts starting at
    /// once migrate exactly once. A database already up to date is only read: the functions'
    /// role needs no right to create anything. A database newer than this program is refused.
    static func migrate(_ connection: PostgresConnection) throws(PostgresError) {
        guard try version(connection) != migrations.count else { return }
        for (index, migration) in migrations.enumerated() {
            try connection.transaction { () throws(PostgresError) in
                _ = try connection.query("SELECT pg_advisory_xact_lock(\(advisoryLock))")
                _ = try connection.query("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
                let current = try version(connection)
                guard current == index else { return }
                _ = try connection.query(migration)
                if index == 0 {
                    let id = String(UInt64.random(in: 1...UInt64.max), radix: 16)
                    _ = try connection.query("INSERT INTO meta (key, value) VALUES ('database_id', $1)", [.text(id)])
                }
                _ = try connection.query("DELETE FROM schema_version")
                _ = try connection.query("INSERT INTO schema_version (version) VALUES ($1)", [.int(Int64(index + 1))])
            }
        }
    }

    /// The schema version (0 before the first migration); a version newer than this program
    /// knows is refused.
    private static func version(_ connection: PostgresConnection) throws(PostgresError) -> Int {
        // Two statements: a statement naming a table that does not exist fails as it is parsed.
        let present = try connection.query("SELECT to_regclass('schema_version') IS NOT NULL AS present")
        guard try present.bool(0, "present") == true else { return 0 }
        let rows = try connection.query("SELECT COALESCE(max(version), 0) AS version FROM schema_version")
        let current = Int(try rows.int64(0, "version") ?? 0)
        guard current <= migrations.count else {
            throw PostgresError(
                message: "the database has schema version \(current), newer than this flashsale knows "
                    + "(\(migrations.count)): run a newer flashsale")
        }
        return current
    }

    /// The most sales a database holds: one per slot of a host's stock segment.
    static let maxSales = 1024

    /// The key of the advisory lock that migrations and sale creation take.
    static let advisoryLock: Int64 = 0x666c_6173_6873
}
