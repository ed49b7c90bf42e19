package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evote/evote/ballot/config"
	"github.com/evote/evote/chain/store/pgstore"
	"github.com/evote/evote/internal/voters"
	"github.com/evote/evote/web/client"
)

// testDatabase returns the PostgreSQL URL of the tests and a fresh schema
// prefix whose schemas are dropped at the end, or skips the test when
// EVOTE_SKIP_POSTGRES=1.
func testDatabase(t *testing.T, name string) (url, prefix string) {
	t.Helper()
	if os.Getenv("EVOTE_SKIP_POSTGRES") == "1" {
		t.Skip("EVOTE_SKIP_POSTGRES=1")
	}
	url = os.Getenv("EVOTE_TEST_DATABASE_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	prefix = fmt.Sprintf("evote_%s_%d_", name, time.Now().UnixNano()%1e9)
	d := &demo{dbURL: url, dbSchema: prefix}
	t.Cleanup(func() {
		if err := d.dropSchemas(context.Background()); err != nil {
			t.Errorf("dropping the test schemas: %v", err)
		}
	})
	return url, prefix
}

// TestLostDatabaseConnections: while voters cast, every connection of node
// 0 to its PostgreSQL database is terminated again and again (as
// pg_terminate_backend, a failover or a restarting server does). Before,
// the node took a failed read for a rejection (code 99) where its peers
// accepted the ballot, and forked silently. Now it retries on a new
// connection, or, if the database stays away, stops without storing the
// block and, restarted, executes it again: every receipted ballot ends on
// every node, with the same app hash.
func TestLostDatabaseConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node cluster on PostgreSQL")
	}
	url, prefix := testDatabase(t, "lostconn")
	exe := buildEvote(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	d := &demo{exe: exe, w: io.Discard, dir: t.TempDir(), steps: 11, dbURL: url, dbSchema: prefix}
	if err := d.startCluster(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.stopCluster()
	m, err := config.Load("../../election-configs/benchmark-10-selections.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const n = 80
	if err := d.publish(ctx, m, n); err != nil {
		t.Fatal(err)
	}
	if err := d.ceremony(ctx); err != nil {
		t.Fatal(err)
	}
	e, creds, _, err := d.credentialsAndOpen(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := voters.Prepare(e, creds, voters.Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	var reqs []*voters.Request
	for _, r := range plan.Requests {
		if r.Kind == voters.Cast {
			reqs = append(reqs, r)
		}
	}
	var urls []string
	for _, nd := range d.nodes {
		urls = append(urls, "ws://"+nd.HTTPAddr+"/ws")
	}
	opts, err := pinnedValidators(ctx, "http://"+d.nodes[0].HTTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	// Every client prefers node 0, whose database connections are killed.
	var clients []*client.Client
	for range 4 {
		c, err := client.Dial(ctx, urls, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	receipted := &receipts{codes: map[string]bool{}}
	receipted.castAll(t, ctx, clients, m.ElectionID, reqs[:10])

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	app := pgstore.ApplicationName(prefix + d.nodes[0].Name)
	var killed atomic.Int64
	stop := make(chan struct{})
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		for {
			var k int64
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE application_name = $1) AS t`, app).Scan(&k); err == nil {
				killed.Add(k)
			}
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
			}
		}
	}()
	receipted.castAll(t, ctx, clients, m.ElectionID, reqs[10:])
	close(stop)
	<-killerDone
	if killed.Load() == 0 {
		t.Fatal("no connection of node 0 was terminated: the test tested nothing")
	}
	restarted := false
	select {
	case <-d.children[0].done:
		// It stopped rather than diverge; it says why, and a restart brings
		// it back.
		log, _ := os.ReadFile(filepath.Join(d.nodes[0].Home, nodeLog))
		if !strings.Contains(string(log), "cannot go on") {
			t.Fatalf("node 0 exited without saying why:\n%s", tail(d.nodes[0].Home))
		}
		ch, err := startChild(d.exe, d.nodes[0], "error", d.dbURL)
		if err != nil {
			t.Fatal(err)
		}
		d.children[0] = ch
		restarted = true
	default:
	}
	last, err := rpcHeight(ctx, d.nodes[1].RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	waitSameAppHash(t, ctx, d, last)
	receipted.onEveryNode(t, ctx, d, m.ElectionID, len(reqs))
	resp, err := http.Get("http://" + d.nodes[0].HTTPAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("node 0's /healthz: %s", resp.Status)
	}
	t.Logf("%d connections of node 0 terminated during %d casts; node 0 restarted: %v", killed.Load(), len(reqs)-10, restarted)
}
