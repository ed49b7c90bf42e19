package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/chain/node"
)

// fakeNodes returns three nodes with homes under a temporary folder; node1
// has no HTTP address.
func fakeNodes(t *testing.T) []node.NodeInfo {
	dir := t.TempDir()
	nodes := []node.NodeInfo{
		{Name: "node0", P2PAddr: "127.0.0.1:6000", HTTPAddr: "127.0.0.1:7000", RPCAddr: "127.0.0.1:1"},
		{Name: "node1", P2PAddr: "127.0.0.1:6001", RPCAddr: "127.0.0.1:1"},
		{Name: "node2", P2PAddr: "127.0.0.1:6002", HTTPAddr: "127.0.0.1:7002", RPCAddr: "127.0.0.1:1"},
	}
	for i := range nodes {
		nodes[i].Home = filepath.Join(dir, nodes[i].Name)
		if err := os.Mkdir(nodes[i].Home, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return nodes
}

func TestPeerHTTP(t *testing.T) {
	c, err := New(fakeNodes(t), Options{Exe: "/bin/true"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"http://127.0.0.1:7002", "http://127.0.0.1:7000,http://127.0.0.1:7002", "http://127.0.0.1:7000"} {
		if got := c.peerHTTP(c.Nodes[i]); got != want {
			t.Errorf("%s's peers: %q, want %q", c.Nodes[i].Name, got, want)
		}
	}
}

// TestChildEnvironment starts a script in place of evote: it writes its
// arguments and environment to the log and exits, so WaitReady names the
// node that exited and its log.
func TestChildEnvironment(t *testing.T) {
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		t.Skip("GOMAXPROCS is set: the children get it unchanged")
	}
	exe := filepath.Join(t.TempDir(), "fake-evote")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\necho \"args: $*\"\nenv\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	nodes := fakeNodes(t)
	c, err := New(nodes, Options{Exe: exe, LogLevel: "error", DatabaseURL: "postgres://db/x", Env: []string{"EVOTE_TEST_EXTRA=1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	for _, ch := range c.Children {
		<-ch.Done()
	}
	select {
	case <-c.AllExited():
	case <-time.After(10 * time.Second):
		t.Fatal("AllExited is not closed though every child has exited")
	}
	err = c.WaitReady(context.Background(), 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "node0 exited (exit status 3)") || !strings.Contains(err.Error(), LogPath(nodes[0])) {
		t.Errorf("WaitReady after the children exited: %v", err)
	}
	log, err := os.ReadFile(LogPath(nodes[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"args: node start --home " + nodes[0].Home + " --log-level error\n",
		"\n" + EnvPeerHTTP + "=http://127.0.0.1:7002\n",
		"\n" + EnvDatabaseURL + "=postgres://db/x\n",
		"\nGOMAXPROCS=",
		"\nEVOTE_TEST_EXTRA=1\n",
	} {
		if !strings.Contains(string(log), want) {
			t.Errorf("node0's child was not given %q:\n%s", strings.TrimSpace(want), log)
		}
	}
}

// TestWaitReadyDeadline: a node whose RPC never answers is not ready after
// the timeout, and the error names its log.
func TestWaitReadyDeadline(t *testing.T) {
	nodes := fakeNodes(t)
	c, err := New(nodes, Options{Exe: "/bin/true"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.WaitReady(context.Background(), 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "node0 made no block within 300ms") || !strings.Contains(err.Error(), LogPath(nodes[0])) {
		t.Errorf("WaitReady without nodes: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.WaitReady(ctx, time.Minute); err != context.Canceled {
		t.Errorf("WaitReady after its context was cancelled: %v", err)
	}
}

// TestStop: Stop interrupts every running child (SIGINT) and waits for it.
func TestStop(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "fake-evote")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\ntrap 'echo interrupted; exit 0' INT\nwhile :; do sleep 0.05; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	nodes := fakeNodes(t)
	c, err := New(nodes, Options{Exe: exe})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the trap is set
	c.Stop()
	for i, ch := range c.Children {
		if !ch.Exited() || ch.Err() != nil {
			t.Errorf("%s after Stop: exited %v, %v", ch.Node.Name, ch.Exited(), ch.Err())
		}
		if log, _ := os.ReadFile(LogPath(nodes[i])); string(log) != "interrupted\n" {
			t.Errorf("%s was not interrupted: its log holds %q", ch.Node.Name, log)
		}
	}
	var table strings.Builder
	c.PrintTable(&table)
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	want := fmt.Sprintf("node0 %d 127.0.0.1:6000 127.0.0.1:1 127.0.0.1:7000 %s", c.Children[0].Pid(), LogPath(nodes[0]))
	if len(lines) != 4 || strings.Join(strings.Fields(lines[1]), " ") != want {
		t.Errorf("table:\n%s\nwant a line %q", table.String(), want)
	}
}
