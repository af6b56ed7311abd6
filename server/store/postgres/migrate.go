package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema's versions, applied in order, each once and in
// a transaction of its own; schema_migrations records which were. Never
// edit one that was released: append another.
var migrations = []string{
	1: `
-- The log of accepted deltas. seq is the position in the site's log,
-- handed out by sequences under a row lock (see Append); id is the
-- device's idempotency key, unique across sites as in the embedded store.
CREATE TABLE deltas (
	site     text   NOT NULL,
	seq      bigint NOT NULL,
	id       bytea  NOT NULL UNIQUE CHECK (length(id) = 16),
	sha      bytea  NOT NULL, -- SHA-256 of body: a retry must match it
	model    bigint NOT NULL,
	received bigint NOT NULL, -- Unix nanoseconds
	body     bytea  NOT NULL,
	PRIMARY KEY (site, seq)
);
CREATE TABLE sequences (
	site text   PRIMARY KEY,
	last bigint NOT NULL
);
CREATE TABLE versions (
	site    text        NOT NULL,
	number  bigint      NOT NULL,
	created timestamptz NOT NULL,
	doc     jsonb       NOT NULL, -- the store.Version
	PRIMARY KEY (site, number)
);
-- Content-addressed: hash is the lowercase hex SHA-256 of body.
CREATE TABLE blobs (
	hash text  PRIMARY KEY,
	body bytea NOT NULL
);
-- The aggregation checkpoint of each site's latest version.
CREATE TABLE checkpoints (
	site   text   PRIMARY KEY,
	number bigint NOT NULL,
	state  bytea  NOT NULL
);
CREATE FUNCTION tailor_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'tailor: rows of % are immutable', TG_TABLE_NAME;
END $$;
CREATE TRIGGER deltas_immutable BEFORE UPDATE ON deltas FOR EACH ROW EXECUTE FUNCTION tailor_immutable();
CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions FOR EACH ROW EXECUTE FUNCTION tailor_immutable();
CREATE TRIGGER blobs_immutable BEFORE UPDATE ON blobs FOR EACH ROW EXECUTE FUNCTION tailor_immutable();
`,
	2: `
-- Retention: each site's base checkpoint, the aggregate of the deltas
-- deleted so far (all those with seq <= through).
CREATE TABLE bases (
	site    text   PRIMARY KEY,
	through bigint NOT NULL,
	until   bigint NOT NULL, -- Unix seconds of the newest received among them; 0: none
	state   bytea  NOT NULL
);
-- The store keeps when a delta arrived only to the hour (store.Coarse):
-- coarsen the times recorded before.
ALTER TABLE deltas DISABLE TRIGGER deltas_immutable;
UPDATE deltas SET received = received - received % 3600000000000 WHERE received % 3600000000000 <> 0;
ALTER TABLE deltas ENABLE TRIGGER deltas_immutable;
`,
	3: `
-- Each site's levers (store.Settings as JSON), rewritten whole when rev
-- still matches.
CREATE TABLE settings (
	site text   PRIMARY KEY,
	rev  bigint NOT NULL,
	body bytea  NOT NULL
);
`,
}

// migrateLock serializes replicas migrating the same database at once
// (a transaction-level advisory lock: "tailor.mi").
const migrateLock = 0x7461696c6f722e6d

// migrate applies the migrations the database lacks.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	for v := 1; v < len(migrations); v++ {
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
				return err
			}
			var latest int
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&latest); err != nil {
				return err
			}
			if latest >= len(migrations) {
				return fmt.Errorf("%w: the database's schema is at version %d, newer than this server's %d",
					ErrSchema, latest, len(migrations)-1)
			}
			if latest >= v {
				return nil
			}
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v)
			return err
		}); err != nil {
			return fmt.Errorf("postgres: migrate to schema version %d: %w", v, err)
		}
	}
	return nil
}

// SchemaVersion is the schema version this package migrates to.
func SchemaVersion() int { return len(migrations) - 1 }
