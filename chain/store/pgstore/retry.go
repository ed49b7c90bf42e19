package pgstore

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultRetryFor is how long a Store keeps retrying a call that failed for
// a transient reason when Config.RetryFor is zero.
const DefaultRetryFor = 10 * time.Second

// transient reports whether err is a failure that a new attempt, on another
// connection of the pool, may not meet: a lost or refused connection, a
// server shutting down or restarting, a connection slot not free, a
// serialization failure or a deadlock. A cancelled or expired context is
// not transient, nor is an error of the statement itself.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"): // connection exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin shutdown, crash shutdown, cannot connect now
			return true
		case pe.Code == "53300": // too many connections
			return true
		case pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock
			return true
		}
		return false
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	}
	// pgx reports a connection it closed after a fatal error this way.
	return strings.Contains(err.Error(), "conn closed")
}

// retry runs op until it succeeds, fails for a reason that is not
// transient, the context ends, or the store's retry time is spent; it
// returns op's last error. Every operation of a Store is safe to repeat:
// reads have no effect, and Commit of a block already committed is a no-op.
func (s *Store) retry(ctx context.Context, op func() error) error {
	deadline := time.Now().Add(s.retryFor)
	wait := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !transient(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		s.retries.Add(1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// Retries returns how many times the store has retried a call after a
// transient failure since it was opened.
func (s *Store) Retries() int64 { return s.retries.Load() }
