package client_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evote/evote/web/protocol"

	"github.com/evote/evote/web/client"
	"github.com/evote/evote/web/webtest"
)

// partition is a TCP proxy in front of a node that can go silent like a
// paused or partitioned node: it keeps every connection open and lets
// nothing through in either direction, and closes nothing. Armed, it goes
// silent right after it has passed on a cast's acknowledgement.
type partition struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	silent atomic.Bool
	fired  chan struct{}
	once   sync.Once
}

func newPartition(t *testing.T, target string) *partition {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &partition{ln: ln, target: target, fired: make(chan struct{})}
	var conns sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		conns.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			open = append(open, c, up)
			mu.Unlock()
			conns.Add(2)
			go func() { defer conns.Done(); p.pipe(up, c, false) }()
			go func() { defer conns.Done(); p.pipe(c, up, true) }()
		}
	}()
	return p
}

func (p *partition) url() string { return "ws://" + p.ln.Addr().String() + "/ws" }

func (p *partition) goSilent() { p.once.Do(func() { p.silent.Store(true); close(p.fired) }) }

var ackFrame = []byte(`"type":"ack"`)

// pipe copies src to dst until the partition is silent, then discards what
// src sends. fromNode says src is the node (whose frames are not masked,
// so an acknowledgement is seen as written).
func (p *partition) pipe(dst, src net.Conn, fromNode bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.silent.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			if fromNode && p.armed.Load() && bytes.Contains(buf[:n], ackFrame) {
				p.goSilent()
			}
		}
		if err != nil {
			return
		}
	}
}

// TestSilentNode: the node a client is on goes silent (no close, no
// answer, as a SIGSTOPped or partitioned node) right after acknowledging a
// cast, and later with a cast in flight. The client notices within its
// silence timeout, moves to the other node and gets the verified receipt
// there, and every ballot counts once.
func TestSilentNode(t *testing.T) {
	env := webtest.Start(t, 4, 200*time.Millisecond)
	urlA, _ := serve(t, env)
	urlB, _ := serve(t, env)
	e := webtest.ElectionID
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := client.Options{ChainID: env.ChainID, Validators: env.Validators, Logger: quiet}
	before, err := env.App.ElectionRecord(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("after-the-ack", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		p := newPartition(t, strings.TrimSuffix(strings.TrimPrefix(urlA, "ws://"), "/ws"))
		c, err := client.Dial(ctx, []string{p.url(), urlB}, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cast, code := env.Cast(t, 0)
		p.armed.Store(true)
		ack, err := c.Cast(ctx, e, cast)
		if err != nil {
			t.Fatal(err)
		}
		// The relay goes silent right after it forwards the ack, which the
		// client may read first: give it a moment.
		select {
		case <-p.fired:
		case <-time.After(2 * time.Second):
			t.Fatal("the node did not go silent after the acknowledgement")
		}
		start := time.Now()
		r, err := c.WaitCommitted(ctx, ack)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("node silent after the ack: verified receipt from the other node after %v", took.Round(time.Millisecond))
		if r.TrackingCode != code || c.URL() != urlB {
			t.Fatalf("receipt for %s from %s, want %s from %s", r.TrackingCode, c.URL(), code, urlB)
		}
		if err := protocol.VerifyTrackingCode(r, env.Ballot); err != nil {
			t.Fatal(err)
		}
		// Without a deadline the client waited for ever; the default
		// silence timeout is 5 s.
		if took > 20*time.Second {
			t.Fatalf("the receipt took %v", took)
		}
	})

	t.Run("cast-in-flight", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		p := newPartition(t, strings.TrimSuffix(strings.TrimPrefix(urlA, "ws://"), "/ws"))
		c, err := client.Dial(ctx, []string{p.url(), urlB}, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cast, code := env.Cast(t, 1)
		p.goSilent()
		start := time.Now()
		ack, err := c.Cast(ctx, e, cast)
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.WaitCommitted(ctx, ack)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("node silent with the cast in flight: verified receipt from the other node after %v", took.Round(time.Millisecond))
		if r.TrackingCode != code || c.URL() != urlB {
			t.Fatalf("receipt for %s from %s, want %s from %s", r.TrackingCode, c.URL(), code, urlB)
		}
		if took > 20*time.Second {
			t.Fatalf("the receipt took %v", took)
		}
	})

	after, err := env.App.ElectionRecord(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if after.BallotsCast != before.BallotsCast+2 {
		t.Fatalf("ballots cast %d → %d, want +2: a ballot was lost or counted twice", before.BallotsCast, after.BallotsCast)
	}
}
