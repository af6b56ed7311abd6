package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrLeadershipLost is the cause of a leadership context that ended
// because the connection holding the lock failed.
var ErrLeadershipLost = errors.New("postgres: leadership lost: the connection holding the lock failed")

// leaderLock is the session-level advisory lock the aggregating replica
// holds ("tailor.a").
const leaderLock = 0x7461696c6f722e61

// pingEvery is how often a leader checks the connection holding its lock.
const pingEvery = time.Second

// Campaign blocks until this replica leads, or ctx ends, and returns the
// leadership: a context that ends when it does, and resign, which ends it
// and releases the lock (call it once done; it waits until released).
//
// Leadership is a session-level advisory lock held on a connection of its
// own. Campaign waits in pg_advisory_lock, so PostgreSQL grants the lock
// to one waiting replica the moment the leader's session ends: its
// process died (the kernel closes its socket), it resigned, or its
// connection broke. The leader pings that connection every second and
// steps down (context.Cause is ErrLeadershipLost) when a ping fails; the
// session's TCP keepalives make the server drop a leader whose host
// vanished within about ten seconds.
//
//	lead, resign, err := db.Campaign(ctx)
//	if err != nil { ... }
//	defer resign()
//	aggregate while lead.Err() == nil
//
// # Notes
//
// A leader that has not noticed yet that its session ended may overlap
// its successor by up to a ping; the store's version numbers fence them:
// only one of two publications of the same number succeeds.
func (s *DB) Campaign(ctx context.Context) (lead context.Context, resign func(), err error) {
	if err := s.check(ctx); err != nil {
		return nil, nil, err
	}
	conn, err := s.session(ctx, "tailor-server leader")
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: campaign: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(leaderLock)); err != nil {
		closeConn(conn)
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("postgres: campaign: %w", err)
	}
	lead, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer closeConn(conn) // ends the session: the lock is released
		tick := time.NewTicker(pingEvery)
		defer tick.Stop()
		for {
			select {
			case <-lead.Done():
				return
			case <-tick.C:
			}
			pctx, pcancel := context.WithTimeout(lead, 2*pingEvery)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil && lead.Err() == nil {
				cancel(fmt.Errorf("%w: %v", ErrLeadershipLost, err))
				return
			}
		}
	}()
	return lead, func() { cancel(context.Canceled); <-done }, nil
}

// session opens a dedicated connection, outside the pool, named name in
// pg_stat_activity: for what lives as long as the session (the leader's
// advisory lock, a LISTEN), with keepalives so that a lost peer ends it.
func (s *DB) session(ctx context.Context, name string) (*pgx.Conn, error) {
	cfg := s.conn.Copy()
	cfg.RuntimeParams["application_name"] = name
	for k, v := range keepalives {
		cfg.RuntimeParams[k] = v
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// keepalives make the server notice within about ten seconds that the
// host at the other end of a dedicated session is gone.
var keepalives = map[string]string{"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}

// Watch listens for the versions any replica publishes: it calls changed
// once listening (versions published before were not notified), then
// once per notification, until ctx ends (it returns nil) or the
// connection fails (it returns the error; notifications sent until the
// next Watch listens are lost, so the caller re-reads then, as the call
// of changed on listening does).
//
// # Notes
//
// changed runs on Watch's goroutine; it should not block.
func (s *DB) Watch(ctx context.Context, changed func()) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	conn, err := s.session(ctx, "tailor-server watch")
	if err != nil {
		return fmt.Errorf("postgres: watch: %w", err)
	}
	defer closeConn(conn)
	if _, err := conn.Exec(ctx, "LISTEN "+versionsChannel); err != nil {
		return fmt.Errorf("postgres: watch: %w", err)
	}
	changed()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("postgres: watch: %w", err)
		}
		changed()
	}
}
