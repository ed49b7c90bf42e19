package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evote/evote/chain/store/pgstore"
	"github.com/evote/evote/internal/cluster"
	"github.com/evote/evote/internal/demo"
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
	t.Cleanup(func() {
		if err := demo.DropSchemas(context.Background(), url, prefix); err != nil {
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
	d := demo.New(demo.Config{Exe: exe, Dir: t.TempDir(), DatabaseURL: url, SchemaPrefix: prefix})
	if err := d.StartCluster(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.StopCluster()
	m, reqs := openElection(t, ctx, d, 80, 2)
	// Every client prefers node 0, whose database connections are killed.
	clients := dialAll(t, ctx, d)
	receipted := &receipts{codes: map[string]bool{}}
	receipted.castAll(t, ctx, clients, m.ElectionID, reqs[:10])

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	app := pgstore.ApplicationName(prefix + d.Cluster.Nodes[0].Name)
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
	case <-d.Cluster.Children[0].Done():
		// It stopped rather than diverge; it says why, and a restart brings
		// it back.
		log, _ := os.ReadFile(cluster.LogPath(d.Cluster.Nodes[0]))
		if !strings.Contains(string(log), "cannot go on") {
			t.Fatalf("node 0 exited without saying why:\n%s", tail(d.Cluster.Nodes[0].Home))
		}
		if err := d.Cluster.StartNode(0); err != nil {
			t.Fatal(err)
		}
		restarted = true
	default:
	}
	last, err := cluster.Height(ctx, d.Cluster.Nodes[1].RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	waitSameAppHash(t, ctx, d, last)
	receipted.onEveryNode(t, ctx, d, m.ElectionID, len(reqs))
	resp, err := http.Get(d.HTTPURL(0) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("node 0's /healthz: %s", resp.Status)
	}
	t.Logf("%d connections of node 0 terminated during %d casts; node 0 restarted: %v", killed.Load(), len(reqs)-10, restarted)
}

// TestFullDisk: node 0's data folder is on a small file system that fills
// up while voters cast. Before, the node's consensus stopped on the failed
// WAL write ("no space left on device") while the process stayed up and
// /healthz answered ok. Now the node stops (the process exits, saying why);
// once space is freed and it is restarted, it catches up, and every
// receipted ballot is on every node with the same app hash.
func TestFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 4-node cluster")
	}
	exe := buildEvote(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	d := demo.New(demo.Config{Exe: exe, Dir: t.TempDir()})
	if err := d.StartCluster(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.StopCluster()

	// Move node 0's data folder onto a 64 MiB tmpfs.
	stopNode(t, d, 0)
	data := filepath.Join(d.Cluster.Nodes[0].Home, "data")
	if err := os.Rename(data, data+".orig"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", data).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small file system (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", data).Run() })
	if out, err := exec.Command("cp", "-a", data+".orig/.", data).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	startNode(t, d, 0)

	m, reqs := openElection(t, ctx, d, 60, 3)
	clients := dialAll(t, ctx, d)
	receipted := &receipts{codes: map[string]bool{}}
	receipted.castAll(t, ctx, clients, m.ElectionID, reqs[:10])

	// Fill the file system, and cast on.
	filler := filepath.Join(data, "filler")
	if out, err := exec.Command("dd", "if=/dev/zero", "of="+filler, "bs=1M").CombinedOutput(); err == nil {
		t.Fatalf("dd filled 64 MiB without running out of space: %s", out)
	}
	receipted.castAll(t, ctx, clients, m.ElectionID, reqs[10:30])
	select {
	case <-d.Cluster.Children[0].Done():
	case <-time.After(60 * time.Second):
		t.Fatalf("node 0 is still running 60 s after its disk filled up:\n%s", tail(d.Cluster.Nodes[0].Home))
	}
	log, _ := os.ReadFile(cluster.LogPath(d.Cluster.Nodes[0]))
	if !strings.Contains(string(log), "no space left on device") {
		t.Fatalf("node 0 stopped without naming the full disk:\n%s", tail(d.Cluster.Nodes[0].Home))
	}

	// Space is freed; restarted, node 0 catches up.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	startNode(t, d, 0)
	receipted.castAll(t, ctx, clients, m.ElectionID, reqs[30:])
	last, err := cluster.Height(ctx, d.Cluster.Nodes[1].RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	waitSameAppHash(t, ctx, d, last)
	receipted.onEveryNode(t, ctx, d, m.ElectionID, len(reqs))
}

// stopNode stops node i of the demo's cluster gracefully and waits for it.
func stopNode(t *testing.T, d *demo.Demo, i int) {
	t.Helper()
	if err := d.Cluster.Children[i].Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.Cluster.Children[i].Done():
	case <-time.After(30 * time.Second):
		t.Fatal("node did not stop within 30 s")
	}
}

// startNode starts node i of the demo's cluster again and waits until it
// has caught up with the others.
func startNode(t *testing.T, d *demo.Demo, i int) {
	t.Helper()
	if err := d.Cluster.StartNode(i); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := d.RPC(i).Status(context.Background())
		if err == nil && !st.SyncInfo.CatchingUp && st.SyncInfo.LatestBlockHeight > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %d did not catch up within 60 s: %v\n%s", i, err, tail(d.Cluster.Nodes[i].Home))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dialAll dials 4 clients that prefer node 0 and fail over to the others.
func dialAll(t *testing.T, ctx context.Context, d *demo.Demo) []*client.Client {
	t.Helper()
	var urls []string
	for _, nd := range d.Cluster.Nodes {
		urls = append(urls, "ws://"+nd.HTTPAddr+"/ws")
	}
	opts, err := pinnedValidators(ctx, d.HTTPURL(1))
	if err != nil {
		t.Fatal(err)
	}
	var clients []*client.Client
	for range 4 {
		c, err := client.Dial(ctx, urls, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		clients = append(clients, c)
	}
	return clients
}
