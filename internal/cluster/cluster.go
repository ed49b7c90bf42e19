// Package cluster supervises a local cluster: every node of a testnet
// (chain/node.GenerateTestnet) runs as its own `evote node start` child
// process on this machine, for development, demonstrations and the tests
// that treat the chain as a black box. `evote cluster start` and `evote
// demo` use it; a real deployment runs one node per organisation instead
// (docs/operations.md).
//
// Its errors name the node they concern and leave the caller's context
// (such as "cluster start: ") to the caller.
package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/evote/evote/chain/node"
)

// LogFile is the file, in a node's home, that the node's output goes to.
const LogFile = "node.log"

// The environment variables through which a child learns what `evote node
// start` also takes as flags.
const (
	// EnvPeerHTTP carries the other nodes' HTTP URLs, comma-separated
	// (--peer-http).
	EnvPeerHTTP = "EVOTE_PEER_HTTP"
	// EnvDatabaseURL carries the PostgreSQL URL of the node's state, so that
	// a password in it appears on no command line.
	EnvDatabaseURL = "EVOTE_DATABASE_URL"
)

// StopTimeout is how long Stop waits for the children to stop after SIGINT
// before it kills them.
const StopTimeout = 30 * time.Second

// Options say how the children of a cluster run.
type Options struct {
	// Exe is the evote binary the children run; the running one
	// (os.Executable) if empty.
	Exe string
	// LogLevel is each node's --log-level.
	LogLevel string
	// DatabaseURL is the PostgreSQL URL of the nodes' state, passed as
	// EnvDatabaseURL; the nodes use embedded Pebble if it is empty.
	DatabaseURL string
	// Env holds more NAME=value variables for every child, after this
	// process's environment.
	Env []string
}

// Cluster is the children of one testnet's nodes. Children[i] runs
// Nodes[i] once Start or StartNode(i) has started it.
type Cluster struct {
	Nodes    []node.NodeInfo
	Children []*Child
	opts     Options
}

// New returns the cluster of nodes, none of them started yet.
func New(nodes []node.NodeInfo, o Options) (*Cluster, error) {
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("the evote binary: %w", err)
		}
		o.Exe = exe
	}
	return &Cluster{Nodes: nodes, Children: make([]*Child, len(nodes)), opts: o}, nil
}

// Start starts a child for every node. On an error the children already
// started keep running: Stop stops them.
func (c *Cluster) Start() error {
	for i := range c.Nodes {
		if err := c.StartNode(i); err != nil {
			return err
		}
	}
	return nil
}

// StartNode starts node i's child, in place of the one that ran it before
// (which must have exited).
func (c *Cluster) StartNode(i int) error {
	n := c.Nodes[i]
	logf, err := os.OpenFile(filepath.Join(n.Home, LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s's log: %w", n.Name, err)
	}
	cmd := exec.Command(c.opts.Exe, "node", "start", "--home", n.Home, "--log-level", c.opts.LogLevel)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = os.Environ()
	if peers := c.peerHTTP(n); peers != "" {
		cmd.Env = append(cmd.Env, EnvPeerHTTP+"="+peers)
	}
	if c.opts.DatabaseURL != "" {
		cmd.Env = append(cmd.Env, EnvDatabaseURL+"="+c.opts.DatabaseURL)
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		cmd.Env = append(cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", Procs(runtime.NumCPU(), len(c.Nodes))))
	}
	cmd.Env = append(cmd.Env, c.opts.Env...)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", n.Name, err)
	}
	ch := &Child{Node: n, cmd: cmd, done: make(chan struct{})}
	go func() {
		ch.err = cmd.Wait()
		logf.Close()
		close(ch.done)
	}()
	c.Children[i] = ch
	return nil
}

// Procs is the GOMAXPROCS of each of nodes node processes sharing a machine
// of cpus cores: the cores divided among them, at least one each. Nodes on
// their own machines use all of it; on one machine, each node process
// running as many scheduler threads as there are cores makes them spin and
// preempt one another (the 4-node benchmark on 2 cores commits about 8 %
// more ballots per second with 1 than with 2; docs/benchmarks.md). A
// GOMAXPROCS set in the environment is passed on instead.
func Procs(cpus, nodes int) int {
	return max(1, cpus/max(1, nodes))
}

// peerHTTP returns the HTTP URLs of the cluster's other nodes,
// comma-separated.
func (c *Cluster) peerHTTP(self node.NodeInfo) string {
	var urls []string
	for _, n := range c.Nodes {
		if n.Name != self.Name && n.HTTPAddr != "" {
			urls = append(urls, "http://"+n.HTTPAddr)
		}
	}
	return strings.Join(urls, ",")
}

// WaitReady waits until every node has committed a block. It fails when a
// child exits first or a node has none after timeout, naming the node's
// log; it returns ctx's error once ctx is done.
func (c *Cluster) WaitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i, n := range c.Nodes {
		var exited <-chan struct{}
		if ch := c.Children[i]; ch != nil {
			exited = ch.done
		}
		for {
			if h, err := Height(ctx, n.RPCAddr); err == nil && h >= 1 {
				break
			}
			select {
			case <-exited:
				return fmt.Errorf("%s exited (%v); see %s", n.Name, c.Children[i].err, LogPath(n))
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s made no block within %v; see %s", n.Name, timeout, LogPath(n))
			}
		}
	}
	return nil
}

// AllExited returns a channel that is closed once every child has exited.
func (c *Cluster) AllExited() <-chan struct{} {
	all := make(chan struct{})
	children := append([]*Child(nil), c.Children...)
	go func() {
		for _, ch := range children {
			if ch != nil {
				<-ch.done
			}
		}
		close(all)
	}()
	return all
}

// Stop sends SIGINT to every child still running and waits for them to
// stop; a child that has not stopped after StopTimeout is killed.
func (c *Cluster) Stop() {
	for _, ch := range c.Children {
		if ch != nil && !ch.Exited() {
			ch.cmd.Process.Signal(os.Interrupt)
		}
	}
	timeout := time.After(StopTimeout)
	for _, ch := range c.Children {
		if ch == nil {
			continue
		}
		select {
		case <-ch.done:
		case <-timeout:
			ch.cmd.Process.Kill()
			<-ch.done
		}
	}
}

// PrintTable writes a table of the running children: each node's name,
// process id, P2P, RPC and HTTP addresses and log file.
func (c *Cluster) PrintTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPID\tP2P\tRPC\tHTTP\tLOG")
	for _, ch := range c.Children {
		if ch == nil {
			continue
		}
		n := ch.Node
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", n.Name, ch.Pid(), n.P2PAddr, n.RPCAddr, n.HTTPAddr, LogPath(n))
	}
	tw.Flush()
}

// LogPath is the file node n's child writes its output to.
func LogPath(n node.NodeInfo) string { return filepath.Join(n.Home, LogFile) }

// Child is one `evote node start` process of a cluster.
type Child struct {
	Node node.NodeInfo
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Done returns a channel that is closed once the process has exited.
func (ch *Child) Done() <-chan struct{} { return ch.done }

// Exited reports whether the process has exited.
func (ch *Child) Exited() bool {
	select {
	case <-ch.done:
		return true
	default:
		return false
	}
}

// Err is the process's exit error once it has exited (nil for status 0,
// and while it runs).
func (ch *Child) Err() error {
	if !ch.Exited() {
		return nil
	}
	return ch.err
}

// Pid is the process's id.
func (ch *Child) Pid() int { return ch.cmd.Process.Pid }

// Signal sends sig to the process.
func (ch *Child) Signal(sig os.Signal) error { return ch.cmd.Process.Signal(sig) }

// Kill sends SIGKILL to the process; Done says when it has exited.
func (ch *Child) Kill() error {
	if err := ch.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("killing %s: %w", ch.Node.Name, err)
	}
	return nil
}

// RPCClient returns a client of the CometBFT RPC at addr (host:port) whose
// requests time out after 2 s.
func RPCClient(addr string) (*rpchttp.HTTP, error) {
	return rpchttp.NewWithTimeout("tcp://"+addr, 2)
}

// Height returns the latest block height of the node whose RPC is at addr.
func Height(ctx context.Context, addr string) (int64, error) {
	cl, err := RPCClient(addr)
	if err != nil {
		return 0, err
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.SyncInfo.LatestBlockHeight, nil
}
