package client_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evote/evote/web/protocol"

	"github.com/evote/evote/web"
	"github.com/evote/evote/web/client"
	"github.com/evote/evote/web/webtest"
	"github.com/evote/evote/wire"
)

// killable is a listener whose connections can all be cut at once, like a
// node that dies.
type killable struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (k *killable) Accept() (net.Conn, error) {
	c, err := k.Listener.Accept()
	if err == nil {
		k.mu.Lock()
		k.conns = append(k.conns, c)
		k.mu.Unlock()
	}
	return c, err
}

func (k *killable) kill() {
	_ = k.Listener.Close()
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.conns {
		_ = c.Close()
	}
}

func serve(t *testing.T, env *webtest.Env) (string, *killable) {
	t.Helper()
	s := web.New(web.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, env.App, env.Client, env.ChainID)
	ts := httptest.NewUnstartedServer(s.Handler())
	k := &killable{Listener: ts.Listener}
	ts.Listener = k
	ts.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		k.kill()
		ts.Close()
	})
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws", k
}

func TestFailover(t *testing.T) {
	env := webtest.Start(t, 6, 200*time.Millisecond)
	url1, k1 := serve(t, env)
	url2, _ := serve(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := client.Dial(ctx, []string{"ws://127.0.0.1:1/ws", url1, url2}, client.Options{ChainID: env.ChainID, Validators: env.Validators, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.URL() != url1 {
		t.Fatalf("connected to %s, want %s", c.URL(), url1)
	}
	events, err := c.Subscribe(ctx, protocol.TopicBallots+webtest.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	e := webtest.ElectionID
	before, _ := env.App.ElectionRecord(ctx, e)

	// A forged ballot: a typed rejection.
	forged, _ := env.Cast(t, 5)
	forged[len(forged)-1] ^= 1
	var rj *client.Rejected
	if _, err := c.Cast(ctx, e, forged); !errors.As(err, &rj) || rj.Code != wire.CodeBadSignature {
		t.Fatalf("forged: %v", err)
	}

	// Cast, then the node dies before the commit reaches the client.
	cast, code := env.Cast(t, 0)
	ack, err := c.Cast(ctx, e, cast)
	if err != nil {
		t.Fatal(err)
	}
	if ack.TrackingCode != code {
		t.Fatalf("ack %+v, want %s", ack, code)
	}
	k1.kill()
	r, err := c.WaitCommitted(ctx, ack)
	if err != nil {
		t.Fatal(err)
	}
	if r.TrackingCode != code || c.URL() != url2 {
		t.Fatalf("receipt for %s from %s", r.TrackingCode, c.URL())
	}
	if err := protocol.VerifyTrackingCode(r, env.Ballot); err != nil {
		t.Fatal(err)
	}

	// Sending the same ballot again is safe: it is there already.
	again, err := c.Cast(ctx, e, cast)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.TrackingCode != code {
		t.Fatalf("re-send: %+v", again)
	}
	r2, err := c.WaitCommitted(ctx, again)
	if err != nil || r2.Height != r.Height {
		t.Fatalf("re-send receipt: %v", err)
	}

	// Another ballot and an audit on the second node; the subscription
	// followed the failover.
	cast1, code1 := env.Cast(t, 1)
	ack1, err := c.Cast(ctx, e, cast1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitCommitted(ctx, ack1); err != nil {
		t.Fatal(err)
	}
	audit, codeA := env.Audit(t, 2)
	acka, err := c.Audit(ctx, e, audit)
	if err != nil {
		t.Fatal(err)
	}
	ra, err := c.WaitCommitted(ctx, acka)
	if err != nil || ra.Kind != protocol.KindAudit || ra.TrackingCode != codeA {
		t.Fatalf("audit: %v", err)
	}
	for {
		select {
		case m := <-events:
			if m.Type == protocol.TypeBallot && m.TrackingCode == code1 {
				goto seen
			}
		case <-ctx.Done():
			t.Fatal("no ballot event after the failover")
		}
	}
seen:
	if _, err := c.Receipt(ctx, e, code); err != nil {
		t.Fatal(err)
	}
	after, _ := env.App.ElectionRecord(ctx, e)
	if after.BallotsCast != before.BallotsCast+2 || after.Audited != before.Audited+1 {
		t.Fatalf("cast %d→%d, audited %d→%d: a ballot was lost or counted twice", before.BallotsCast, after.BallotsCast, before.Audited, after.Audited)
	}
}
