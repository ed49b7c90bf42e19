package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// cmtLogger carries CometBFT's log lines to a slog.Logger. CometBFT has three
// levels (Debug, Info, Error); they map to the slog levels of the same names,
// and the logger drops every line below its minimum level before CometBFT's
// key-value pairs are formatted.
//
// A peer that goes away or cannot be reached is routine in a network that
// tolerates faulty nodes: CometBFT's error lines about it are logged as
// warnings (peerTrouble). Once the node is being stopped, CometBFT reports
// its listeners and peers closing as errors; those lines are logged at Info.
type cmtLogger struct {
	l        *slog.Logger
	min      slog.Leveler
	stopping *atomic.Bool
	failure  *failure // set when CometBFT reports a consensus failure
}

var _ cmtlog.Logger = cmtLogger{}

func newCmtLogger(l *slog.Logger, min slog.Leveler) cmtLogger {
	if l == nil {
		l = slog.Default()
	}
	if min == nil {
		min = slog.LevelWarn
	}
	return cmtLogger{l: l, min: min, stopping: new(atomic.Bool), failure: newFailure()}
}

// peerTrouble are CometBFT's error messages about unreachable or
// disconnecting peers.
var peerTrouble = map[string]bool{
	"Stopping peer for error": true,
	"Error dialing peer":      true,
	"Failed to reconnect to peer. Beginning exponential backoff": true,
	"Error starting peer":      true,
	"Error closing connection": true,
}

func (c cmtLogger) Debug(msg string, keyvals ...any) { c.log(slog.LevelDebug, msg, keyvals) }
func (c cmtLogger) Info(msg string, keyvals ...any)  { c.log(slog.LevelInfo, msg, keyvals) }
func (c cmtLogger) Error(msg string, keyvals ...any) { c.log(slog.LevelError, msg, keyvals) }

func (c cmtLogger) With(keyvals ...any) cmtlog.Logger {
	return cmtLogger{l: c.l.With(keyvals...), min: c.min, stopping: c.stopping, failure: c.failure}
}

// consensusFailure is the message of CometBFT's consensus when it stops on a
// panic: a block it could not execute or commit, a WAL it could not write.
// Its consensus then stays stopped while the process goes on.
const consensusFailure = "CONSENSUS FAILURE!!!"

func (c cmtLogger) log(level slog.Level, msg string, keyvals []any) {
	if msg == consensusFailure {
		reason := "unknown"
		for i := 0; i+1 < len(keyvals); i += 2 {
			if keyvals[i] == "err" {
				reason = fmt.Sprint(keyvals[i+1])
			}
		}
		c.failure.set(fmt.Errorf("%w: %s", errConsensus, reason))
		// The stack trace CometBFT adds is for developers.
		keyvals = dropKey(keyvals, "stack")
	}
	if level == slog.LevelError {
		switch {
		case c.stopping.Load():
			level = slog.LevelInfo
		case peerTrouble[msg]:
			level = slog.LevelWarn
		}
	}
	if level < c.min.Level() {
		return
	}
	ctx := context.Background()
	if !c.l.Enabled(ctx, level) {
		return
	}
	c.l.Log(ctx, level, msg, keyvals...)
}

// dropKey returns keyvals without the pair of key k.
func dropKey(keyvals []any, k string) []any {
	out := make([]any, 0, len(keyvals))
	for i := 0; i+1 < len(keyvals); i += 2 {
		if keyvals[i] != k {
			out = append(out, keyvals[i], keyvals[i+1])
		}
	}
	return out
}

// pebbleLogger carries the log of CometBFT's Pebble databases to slog: their
// routine messages (WAL replay at start) at Debug. Pebble calls Fatalf on
// damage it cannot go on with, and expects it not to return.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "module", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "module", "pebble")
	os.Exit(1)
}
