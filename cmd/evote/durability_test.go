package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/config"
	"github.com/evote/evote/chain"
	"github.com/evote/evote/internal/cluster"
	"github.com/evote/evote/internal/demo"
	"github.com/evote/evote/internal/voters"
	"github.com/evote/evote/rules"
	"github.com/evote/evote/web/client"
)

// TestBallotsSurviveKills treats a 4-process cluster as a black box while
// voters cast: clients connected to a node that is killed with SIGKILL
// reconnect to another; the other three keep committing; the killed node
// restarts and catches up to the same app hash; then all four are killed at
// once and restarted, and every ballot that had a committed receipt is still
// on every node.
//
// It runs on embedded Pebble and on PostgreSQL (each node in its own
// schema, dropped afterwards).
func TestBallotsSurviveKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node cluster and kills its nodes")
	}
	exe := buildEvote(t)
	t.Run("pebble", func(t *testing.T) { testBallotsSurviveKills(t, exe, "", "") })
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv("EVOTE_TEST_DATABASE_URL")
		if url == "" {
			url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		}
		if os.Getenv("EVOTE_SKIP_POSTGRES") == "1" {
			t.Skip("EVOTE_SKIP_POSTGRES=1")
		}
		prefix := fmt.Sprintf("evote_kill_%d_", time.Now().UnixNano()%1e9)
		t.Cleanup(func() {
			if err := demo.DropSchemas(context.Background(), url, prefix); err != nil {
				t.Errorf("dropping the test schemas: %v", err)
			}
		})
		testBallotsSurviveKills(t, exe, url, prefix)
	})
}

func testBallotsSurviveKills(t *testing.T, exe, dbURL, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	d := demo.New(demo.Config{Exe: exe, Dir: t.TempDir(), DatabaseURL: dbURL, SchemaPrefix: schema})
	if err := d.StartCluster(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.StopCluster()
	m, reqs := openElection(t, ctx, d, 60, 1)
	// Every client prefers node 0, the one that will be killed.
	clients := dialAll(t, ctx, d)

	receipted := &receipts{codes: map[string]bool{}}
	cast := func(reqs []*voters.Request) { receipted.castAll(t, ctx, clients, m.ElectionID, reqs) }
	cast(reqs[:20])

	// Kill node 0 while the next ballots are being cast.
	done := make(chan struct{})
	go func() {
		cast(reqs[20:40])
		close(done)
	}()
	time.Sleep(150 * time.Millisecond)
	if err := d.Cluster.Children[0].Kill(); err != nil {
		t.Fatal(err)
	}
	<-d.Cluster.Children[0].Done()
	<-done
	h1, err := cluster.Height(ctx, d.Cluster.Nodes[1].RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		if c.URL() == "ws://"+d.Cluster.Nodes[0].HTTPAddr+"/ws" {
			t.Fatalf("a client still uses the killed node")
		}
	}
	// Restart node 0; it catches up to the same app hash as the others.
	restart := func(i int) {
		if err := d.Cluster.StartNode(i); err != nil {
			t.Fatal(err)
		}
	}
	restart(0)
	waitSameAppHash(t, ctx, d, h1)
	cast(reqs[40:])

	// Kill all four at once, restart them, and look up every receipted ballot.
	last, err := cluster.Height(ctx, d.Cluster.Nodes[1].RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range d.Cluster.Children {
		_ = ch.Kill()
	}
	for _, ch := range d.Cluster.Children {
		<-ch.Done()
	}
	for i := range d.Cluster.Nodes {
		restart(i)
	}
	waitSameAppHash(t, ctx, d, last)
	receipted.onEveryNode(t, ctx, d, m.ElectionID, len(reqs))
}

// openElection publishes the 10-selection benchmark election for n voters
// on the demo's cluster, runs its key ceremony, loads the roll, opens it, and
// returns the manifest and one cast per voter (simulated voters of the seed).
func openElection(t *testing.T, ctx context.Context, d *demo.Demo, n int, seed uint64) (*ballot.Manifest, []*voters.Request) {
	t.Helper()
	m, a, err := config.LoadAssignment("../../election-configs/benchmark-10-selections.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, vs, _, err := d.OpenElection(ctx, m, demo.Entries(a, n))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := voters.Prepare(e, vs, voters.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	var reqs []*voters.Request
	for _, r := range plan.Requests {
		if r.Kind == voters.Cast {
			reqs = append(reqs, r)
		}
	}
	return m, reqs
}

// receipts are the tracking codes of ballots with a verified committed
// receipt.
type receipts struct {
	mu    sync.Mutex
	codes map[string]bool
}

// castAll casts every request at once, spread over the clients, and keeps
// the tracking codes whose receipt arrived and verified.
func (r *receipts) castAll(t *testing.T, ctx context.Context, clients []*client.Client, electionID string, reqs []*voters.Request) {
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[i%len(clients)]
			ack, err := c.Cast(ctx, electionID, req.Payload)
			if err != nil {
				t.Errorf("cast %s: %v", req.Tracking, err)
				return
			}
			if _, err := c.WaitCommitted(ctx, ack); err != nil {
				t.Errorf("receipt %s: %v", req.Tracking, err)
				return
			}
			r.mu.Lock()
			r.codes[req.Tracking] = true
			r.mu.Unlock()
		}()
	}
	wg.Wait()
}

// onEveryNode checks that every receipted ballot is on every node, that the
// election counts exactly those, and that all want ballots got a receipt.
func (r *receipts) onEveryNode(t *testing.T, ctx context.Context, d *demo.Demo, electionID string, want int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for code := range r.codes {
		for i := range d.Cluster.Nodes {
			var rec rules.BallotRecord
			if err := chain.QueryJSON(ctx, d.RPC(i), "ballot/"+electionID+"/"+code, &rec); err != nil || rec.TrackingCode != code {
				t.Fatalf("node %d lost ballot %s: %v", i, code, err)
			}
		}
	}
	for i := range d.Cluster.Nodes {
		var rec rules.ElectionRecord
		if err := chain.QueryJSON(ctx, d.RPC(i), "election/"+electionID, &rec); err != nil || rec.Counted() != len(r.codes) {
			t.Fatalf("node %d counts %d ballots, %d receipts were given: %v", i, rec.Counted(), len(r.codes), err)
		}
	}
	if len(r.codes) != want {
		t.Fatalf("%d of %d ballots got a receipt", len(r.codes), want)
	}
}

// waitHeight waits until node i has a block above min and returns its
// height (0 and an error if the node does not answer).
func waitHeight(ctx context.Context, d *demo.Demo, i int, min int64) (int64, error) {
	for {
		h, err := cluster.Height(ctx, d.Cluster.Nodes[i].RPCAddr)
		if err == nil && h > min {
			return h, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSameAppHash waits until every node is past height h and checks that
// all report the same app hash at height h+1 (the header that signs the
// state after block h).
func waitSameAppHash(t *testing.T, ctx context.Context, d *demo.Demo, h int64) {
	t.Helper()
	var want []byte
	for i := range d.Cluster.Nodes {
		if _, err := waitHeight(ctx, d, i, h+1); err != nil {
			t.Fatalf("node %d did not get past height %d: %v", i, h+1, err)
		}
		height := h + 1
		b, err := d.RPC(i).Block(ctx, &height)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = b.Block.AppHash
		} else if !bytes.Equal(want, b.Block.AppHash) {
			t.Fatalf("node %d has app hash %X at height %d, node 0 %X", i, b.Block.AppHash, height, want)
		}
	}
}
