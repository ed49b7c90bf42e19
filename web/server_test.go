package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/web/protocol"

	"github.com/gorilla/websocket"

	"github.com/evote/evote/chain"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/web"
	"github.com/evote/evote/web/webtest"
	"github.com/evote/evote/wire"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startServer serves a web.Server for env on an httptest server.
func startServer(t *testing.T, env *webtest.Env, cfg web.Config) (*web.Server, *httptest.Server) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	s := web.New(cfg, env.App, env.Client, env.ChainID)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		ts.Close()
	})
	return s, ts
}

func wsURL(ts *httptest.Server) string { return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws" }

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, ts *httptest.Server, h http.Header) *client {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(wsURL(ts), h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (HTTP %d)", err, status)
	}
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

// dialAfterFlood dials like dial, but waits out a 429 (the per-address
// connection count or new-connection rate that a flood from the same
// loopback address used up), as the server's Retry-After asks.
func dialAfterFlood(t *testing.T, ts *httptest.Server) *client {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ws, resp, err := websocket.DefaultDialer.Dial(wsURL(ts), nil)
		if err == nil {
			t.Cleanup(func() { ws.Close() })
			return &client{t: t, ws: ws}
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Fatalf("dial: %v (HTTP %d)", err, status)
		}
		wait := time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		time.Sleep(wait)
	}
}

func (c *client) send(m any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(m); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next message, or the error that ended the connection.
func (c *client) read(timeout time.Duration) (*protocol.Message, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(timeout))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	var m protocol.Message
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("server sent %q: %v", b, err)
	}
	return &m, nil
}

// expect reads messages (skipping events) until one of type typ for id.
func (c *client) expect(id, typ string, timeout time.Duration) *protocol.Message {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("waiting for %s %s: %v", typ, id, err)
		}
		if m.ID != id && (m.Type == protocol.TypeBlock || m.Type == protocol.TypeBallot || m.Type == protocol.TypeAudited || m.ID != "") {
			continue
		}
		if m.Type != typ {
			c.t.Fatalf("got %s (code %d: %s), want %s", m.Type, m.Code, m.Reason, typ)
		}
		return m
	}
}

// expectClose reads until the connection closes, and checks the error
// message and the close code.
func (c *client) expectClose(code int) *protocol.Message {
	c.t.Helper()
	var errMsg *protocol.Message
	for {
		m, err := c.read(5 * time.Second)
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				c.t.Fatalf("want close %d, got %v", code, err)
			}
			if ce.Code != code {
				c.t.Fatalf("close code %d (%q), want %d", ce.Code, ce.Text, code)
			}
			return errMsg
		}
		if m.Type == protocol.TypeError {
			errMsg = m
		}
	}
}

func castMsg(id, election string, cast []byte) map[string]any {
	return map[string]any{"type": "cast", "id": id, "election": election, "cast": base64.StdEncoding.EncodeToString(cast)}
}

func record(t *testing.T, env *webtest.Env) rules.ElectionRecord {
	t.Helper()
	r, err := env.App.ElectionRecord(context.Background(), webtest.ElectionID)
	if err != nil {
		t.Fatal(err)
	}
	r.Manifest = nil
	return *r
}

func checkReceipt(t *testing.T, env *webtest.Env, r *protocol.Receipt, tracking string) {
	t.Helper()
	if r == nil {
		t.Fatal("no receipt")
	}
	if err := protocol.VerifyReceipt(r, env.ChainID, env.Validators); err != nil {
		t.Fatal(err)
	}
	if err := protocol.VerifyTrackingCode(r, env.Ballot); err != nil {
		t.Fatal(err)
	}
	if r.TrackingCode != tracking {
		t.Fatalf("receipt for %s, want %s", r.TrackingCode, tracking)
	}
}

func TestServer(t *testing.T) {
	env := webtest.Start(t, 12, 100*time.Millisecond)
	_, ts := startServer(t, env, web.Config{MaxMessageSize: 64 << 10, AllowedOrigins: []string{"https://vote.example.org"}})
	e := webtest.ElectionID

	watcher := dial(t, ts, nil)
	watcher.send(map[string]any{"type": "subscribe", "id": "s1", "topics": []string{"blocks", "ballots:" + e}})
	watcher.expect("s1", protocol.TypeSubscribed, 5*time.Second)

	var first *protocol.Receipt
	cast0, code0 := env.Cast(t, 0)
	t.Run("cast", func(t *testing.T) {
		c := dial(t, ts, nil)
		c.send(castMsg("c1", e, cast0))
		ack := c.expect("c1", protocol.TypeAck, 10*time.Second)
		if ack.TrackingCode != code0 || len(ack.TxHash) != 64 {
			t.Fatalf("ack %+v, want tracking code %s", ack, code0)
		}
		m := c.expect("c1", protocol.TypeCommitted, 10*time.Second)
		checkReceipt(t, env, m.Receipt, code0)
		first = m.Receipt
		if r := record(t, env); r.BallotsCast != 1 {
			t.Fatalf("ballots cast %d, want 1", r.BallotsCast)
		}
	})
	if first == nil {
		t.FailNow()
	}

	t.Run("events", func(t *testing.T) {
		var sawBlock, sawBallot bool
		deadline := time.Now().Add(5 * time.Second)
		for !sawBlock || !sawBallot {
			m, err := watcher.read(time.Until(deadline))
			if err != nil {
				t.Fatalf("block %v, ballot %v: %v", sawBlock, sawBallot, err)
			}
			switch m.Type {
			case protocol.TypeBlock:
				sawBlock = sawBlock || (m.Height > 0 && len(m.Hash) == 64 && m.Time != nil)
			case protocol.TypeBallot:
				if m.TrackingCode == code0 && m.Election == e && m.Height == first.Height {
					sawBallot = true
				}
			}
		}
	})

	t.Run("receipt", func(t *testing.T) {
		c := dial(t, ts, nil)
		c.send(map[string]any{"type": "receipt", "id": "r1", "election": e, "tracking_code": code0})
		m := c.expect("r1", protocol.TypeReceipt, 5*time.Second)
		checkReceipt(t, env, m.Receipt, code0)
		_, never := env.Cast(t, 11)
		c.send(map[string]any{"type": "receipt", "id": "r2", "election": e, "tracking_code": never})
		if m := c.expect("r2", protocol.TypeRejected, 5*time.Second); m.Code != wire.CodeNotFound {
			t.Fatalf("code %d, want %d", m.Code, wire.CodeNotFound)
		}
	})

	t.Run("revote", func(t *testing.T) {
		c := dial(t, ts, nil)
		cast, code := env.Cast(t, 0)
		c.send(castMsg("v2", e, cast))
		c.expect("v2", protocol.TypeAck, 10*time.Second)
		checkReceipt(t, env, c.expect("v2", protocol.TypeCommitted, 10*time.Second).Receipt, code)
		if r := record(t, env); r.BallotsCast != 2 || r.BallotsReplaced != 1 {
			t.Fatalf("cast %d, replaced %d; want 2, 1", r.BallotsCast, r.BallotsReplaced)
		}
		for {
			m, err := watcher.read(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type == protocol.TypeBallot && m.TrackingCode == code {
				if m.Replaces != code0 {
					t.Fatalf("ballot event replaces %q, want %s", m.Replaces, code0)
				}
				break
			}
		}
	})

	t.Run("audit", func(t *testing.T) {
		c := dial(t, ts, nil)
		a, code := env.Audit(t, 1)
		c.send(map[string]any{"type": "audit", "id": "a1", "election": e, "audit": json.RawMessage(a)})
		if ack := c.expect("a1", protocol.TypeAck, 10*time.Second); ack.TrackingCode != code {
			t.Fatalf("ack tracking code %s, want %s", ack.TrackingCode, code)
		}
		r := c.expect("a1", protocol.TypeCommitted, 10*time.Second).Receipt
		checkReceipt(t, env, r, code)
		if r.Kind != protocol.KindAudit || record(t, env).Audited != 1 {
			t.Fatalf("kind %s, audited %d", r.Kind, record(t, env).Audited)
		}
	})

	t.Run("bad-input", func(t *testing.T) {
		before := record(t, env)
		cast2, _ := env.Cast(t, 2)
		forged, _ := env.Cast(t, 3)
		forged[len(forged)-1] ^= 1 // the signature is last
		fatal := []struct {
			name  string
			frame int
			data  []byte
			code  int
		}{
			{"garbage", websocket.TextMessage, []byte("\x00garbage{"), protocol.CloseInvalidPayload},
			{"not utf-8", websocket.TextMessage, []byte("{\"type\":\"cast\xff\"}"), protocol.CloseInvalidPayload},
			{"json array", websocket.TextMessage, []byte(`[1,2]`), protocol.CloseInvalidPayload},
			{"binary frame", websocket.BinaryMessage, []byte(`{"type":"cast"}`), protocol.CloseUnsupported},
			{"oversized", websocket.TextMessage, []byte(`{"type":"cast","id":"x","cast":"` + strings.Repeat("A", 70<<10) + `"}`), protocol.CloseTooBig},
			{"unknown type", websocket.TextMessage, []byte(`{"type":"vote","id":"x"}`), protocol.ClosePolicy},
			{"no type", websocket.TextMessage, []byte(`{"id":"x"}`), protocol.ClosePolicy},
			{"no id", websocket.TextMessage, []byte(`{"type":"cast","election":"e","cast":"AAAA"}`), protocol.ClosePolicy},
			{"no election", websocket.TextMessage, []byte(`{"type":"cast","id":"x","cast":"AAAA"}`), protocol.ClosePolicy},
			{"no cast", websocket.TextMessage, []byte(`{"type":"cast","id":"x","election":"e"}`), protocol.ClosePolicy},
			{"bad base64", websocket.TextMessage, []byte(`{"type":"cast","id":"x","election":"e","cast":"!!!"}`), protocol.CloseInvalidPayload},
			{"bad topic", websocket.TextMessage, []byte(`{"type":"subscribe","id":"x","topics":["everything"]}`), protocol.ClosePolicy},
		}
		for _, tc := range fatal {
			t.Run(tc.name, func(t *testing.T) {
				c := dial(t, ts, nil)
				if err := c.ws.WriteMessage(tc.frame, tc.data); err != nil {
					t.Fatal(err)
				}
				m := c.expectClose(tc.code)
				if m == nil || m.Reason == "" || m.CloseCode != tc.code {
					t.Fatalf("error message %+v", m)
				}
				t.Logf("%s: %s", tc.name, m.Reason)
			})
		}

		rejected := []struct {
			name string
			msg  map[string]any
			code wire.Code
		}{
			{"wrong election", castMsg("w1", "other-2026", cast2), wire.CodeUnknownElection},
			{"replay", castMsg("w2", e, cast0), wire.CodeDuplicate},
			{"forged signature", castMsg("w3", e, forged), wire.CodeBadSignature},
			{"not a ballot", castMsg("w4", e, []byte("not a ballot")), wire.CodeMalformed},
		}
		c := dial(t, ts, nil) // one connection: rejections do not close it
		for _, tc := range rejected {
			c.send(tc.msg)
			m := c.expect(tc.msg["id"].(string), protocol.TypeRejected, 10*time.Second)
			if m.Code != tc.code {
				t.Errorf("%s: code %d (%s), want %d", tc.name, m.Code, m.Reason, tc.code)
			}
			t.Logf("%s: code %d: %s", tc.name, m.Code, m.Reason)
		}

		t.Run("flood", func(t *testing.T) {
			c := dial(t, ts, nil)
			for i := range 100 {
				if err := c.ws.WriteJSON(map[string]any{"type": "receipt", "id": "f", "election": e, "tracking_code": "x" + string(rune('a'+i%26))}); err != nil {
					break // the server closed
				}
			}
			if m := c.expectClose(protocol.ClosePolicy); m == nil || !strings.Contains(m.Reason, "rate limit") {
				t.Fatalf("error message %+v", m)
			}
		})

		// The server keeps serving another client, and nothing changed.
		if after := record(t, env); !jsonEqual(before, after) {
			t.Fatalf("state changed by bad input:\n%+v\n%+v", before, after)
		}
		c2 := dial(t, ts, nil)
		c2.send(castMsg("ok", e, cast2))
		c2.expect("ok", protocol.TypeAck, 10*time.Second)
		c2.expect("ok", protocol.TypeCommitted, 10*time.Second)
	})

	t.Run("origin", func(t *testing.T) {
		for _, tc := range []struct {
			origin string
			ok     bool
		}{{"https://evil.example", false}, {"https://vote.example.org", true}, {ts.URL, true}, {"", true}} {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			ws, resp, err := websocket.DefaultDialer.Dial(wsURL(ts), h)
			if tc.ok != (err == nil) {
				t.Fatalf("origin %q: err %v", tc.origin, err)
			}
			if err == nil {
				ws.Close()
			} else if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("origin %q: response %v", tc.origin, resp)
			}
		}
	})

	t.Run("shutdown", func(t *testing.T) {
		s2, ts2 := startServer(t, env, web.Config{})
		c := dial(t, ts2, nil)
		cast, _ := env.Cast(t, 5)
		c.send(castMsg("d1", e, cast))
		c.expect("d1", protocol.TypeAck, 10*time.Second)
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done <- s2.Shutdown(ctx)
		}()
		// The cast in flight is drained: committed before going away.
		c.expect("d1", protocol.TypeCommitted, 10*time.Second)
		c.expectClose(protocol.CloseGoingAway)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, resp, err := websocket.DefaultDialer.Dial(wsURL(ts2), nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("dial after shutdown: %v", err)
		}
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestElectionEvents: subscribers of an election's ballots topic also learn
// of the election's own events, such as its closing.
func TestElectionEvents(t *testing.T) {
	env := webtest.Start(t, 2, 100*time.Millisecond)
	_, ts := startServer(t, env, web.Config{})
	e := webtest.ElectionID
	watcher := dial(t, ts, nil)
	watcher.send(map[string]any{"type": "subscribe", "id": "s1", "topics": []string{"ballots:" + e}})
	watcher.expect("s1", protocol.TypeSubscribed, 5*time.Second)
	env.Commit(t, wire.Encode(chain.CloseTx(env.ChainID, e, env.Election.Official)))
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := watcher.read(time.Until(deadline))
		if err != nil {
			t.Fatalf("no election event: %v", err)
		}
		if m.Type == protocol.TypeElection && m.Election == e && m.Action == "closed" && m.Height > 0 {
			return
		}
	}
}
