package web_test

import (
	"testing"
	"time"

	"github.com/evote/evote/web/protocol"

	"github.com/evote/evote/web"
	"github.com/evote/evote/web/webtest"
)

// TestHeartbeat: a ping message (the heartbeat of a browser page, which
// cannot send ping frames) is answered by a pong with its id at once, also
// while a cast of the same connection waits for its block; a ping without
// an id is refused like any request.
func TestHeartbeat(t *testing.T) {
	env := webtest.Start(t, 2, 200*time.Millisecond)
	_, ts := startServer(t, env, web.Config{})
	c := dial(t, ts, nil)
	c.send(map[string]any{"type": protocol.TypePing, "id": "p1"})
	c.expect("p1", protocol.TypePong, 5*time.Second)

	cast, _ := env.Cast(t, 0)
	c.send(castMsg("c1", webtest.ElectionID, cast))
	c.expect("c1", protocol.TypeAck, 10*time.Second)
	c.send(map[string]any{"type": protocol.TypePing, "id": "p2"})
	// The pong comes before the commit (or after it, if the block was
	// quicker): the heartbeat never waits for the cast.
	for got := map[string]bool{}; !got["p2"] || !got["c1"]; {
		m, err := c.read(10 * time.Second)
		if err != nil {
			t.Fatalf("waiting for the pong and the commit: %v", err)
		}
		switch {
		case m.ID == "p2" && m.Type == protocol.TypePong, m.ID == "c1" && m.Type == protocol.TypeCommitted:
			got[m.ID] = true
		case m.ID != "":
			t.Fatalf("got %s for %s", m.Type, m.ID)
		}
	}

	c2 := dial(t, ts, nil)
	c2.send(map[string]any{"type": protocol.TypePing})
	if m := c2.expectClose(protocol.ClosePolicy); m == nil {
		t.Fatal("a ping without an id got no error message")
	}
}
