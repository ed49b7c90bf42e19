package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/urfave/cli/v2"

	"github.com/evote/evote/chain/node"
)

// nodeLog is the file, in a node's home, that `evote cluster start` sends
// the node's output to.
const nodeLog = "node.log"

func init() {
	register(&cli.Command{
		Name:  "cluster",
		Usage: "run a local cluster of authority nodes, one process each, on 127.0.0.1",
		Description: "For development and demonstrations: every node of a testnet (evote node testnet) runs as\n" +
			"its own `evote node start` process on this machine. A real deployment runs one node per\n" +
			"organisation instead (docs/operations.md).",
		Subcommands: []*cli.Command{
			{
				Name:      "start",
				Usage:     "start every node of the testnet in DIR (writing it first if DIR has none) and run until interrupted",
				ArgsUsage: " ",
				Description: "Each node's output goes to DIR/nodeI/" + nodeLog + ". Once every node has committed a block the\n" +
					"command prints the nodes' ports; SIGINT or SIGTERM stops every node gracefully.",
				Flags: append(testnetFlags(),
					&cli.StringFlag{Name: "dir", Required: true, Usage: "the testnet `FOLDER`"},
					&cli.StringFlag{Name: "database-url", EnvVars: []string{envDatabaseURL},
						Usage: "PostgreSQL `URL` for the nodes' state (each node in its own schema; default: embedded Pebble)"},
					logLevelFlag,
					&cli.DurationFlag{Name: "wait", Value: time.Minute, Usage: "how long to wait for every node's first block (`DURATION`)"},
				),
				Action: clusterStart,
			},
			{
				Name:      "status",
				Usage:     "show the height and app hash of every node of the testnet in DIR",
				ArgsUsage: " ",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "dir", Required: true, Usage: "the testnet `FOLDER`"}},
				Action:    clusterStatus,
			},
		},
	})
}

type child struct {
	info node.NodeInfo
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func clusterStart(c *cli.Context) error {
	dir := c.String("dir")
	if _, err := parseLevel(c.String("log-level")); err != nil {
		return err
	}
	tn, err := node.LoadTestnet(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if _, err := generateTestnet(c, dir); err != nil {
			return err
		}
		if tn, err = node.LoadTestnet(dir); err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "wrote a %d-node testnet in %s (chain %s)\n", len(tn.Nodes), dir, tn.ChainID)
	case err != nil:
		return err
	case c.IsSet("nodes") && c.Int("nodes") != len(tn.Nodes):
		return &exitError{2, fmt.Sprintf("cluster start: %s holds a %d-node testnet, not %d", dir, len(tn.Nodes), c.Int("nodes"))}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cluster start: %w", err)
	}

	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()

	var children []*child
	defer func() { stopChildren(children) }()
	clusterNodes = tn.Nodes
	for _, n := range tn.Nodes {
		ch, err := startChild(exe, n, c.String("log-level"), c.String("database-url"))
		if err != nil {
			return err
		}
		children = append(children, ch)
	}

	// Wait until every node has committed a block.
	deadline := time.Now().Add(c.Duration("wait"))
	for _, ch := range children {
		for {
			if h, err := rpcHeight(ctx, ch.info.RPCAddr); err == nil && h >= 1 {
				break
			}
			select {
			case <-ch.done:
				return fmt.Errorf("cluster start: %s exited (%v); see %s", ch.info.Name, ch.err, filepath.Join(ch.info.Home, nodeLog))
			case <-ctx.Done():
				return nil
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("cluster start: %s made no block within %v; see %s", ch.info.Name, c.Duration("wait"), filepath.Join(ch.info.Home, nodeLog))
			}
		}
	}
	fmt.Fprintf(c.App.Writer, "cluster of %d nodes running, chain %s\n", len(children), tn.ChainID)
	printCluster(c.App.Writer, children)
	fmt.Fprintln(c.App.Writer, "Press Ctrl-C to stop.")

	allDone := make(chan struct{})
	go func() {
		for _, ch := range children {
			<-ch.done
		}
		close(allDone)
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(c.App.Writer, "stopping the cluster")
	case <-allDone:
		return errors.New("cluster start: every node has exited")
	}
	return nil
}

func startChild(exe string, n node.NodeInfo, level, dbURL string) (*child, error) {
	logf, err := os.OpenFile(filepath.Join(n.Home, nodeLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cluster start: %w", err)
	}
	cmd := exec.Command(exe, "node", "start", "--home", n.Home, "--log-level", level)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = os.Environ()
	if peers := peerHTTP(n); peers != "" {
		cmd.Env = append(cmd.Env, envPeerHTTP+"="+peers)
	}
	if dbURL != "" {
		cmd.Env = append(cmd.Env, envDatabaseURL+"="+dbURL)
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		cmd.Env = append(cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", nodeProcs(runtime.NumCPU(), len(clusterNodes))))
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("cluster start: %s: %w", n.Name, err)
	}
	ch := &child{info: n, cmd: cmd, done: make(chan struct{})}
	go func() {
		ch.err = cmd.Wait()
		logf.Close()
		close(ch.done)
	}()
	return ch, nil
}

// nodeProcs is the GOMAXPROCS of each of nodes node processes sharing a
// machine of cpus cores: the cores divided among them, at least one each.
// Nodes on their own machines use all of it; on one machine, each node
// process running as many scheduler threads as there are cores makes them
// spin and preempt one another (the 4-node benchmark on 2 cores commits
// about 8 % more ballots per second with 1 than with 2; docs/benchmarks.md).
// A GOMAXPROCS set in the environment is passed on instead.
func nodeProcs(cpus, nodes int) int {
	return max(1, cpus/max(1, nodes))
}

// clusterNodes are the nodes of the testnet being started, so that each
// child learns the others' HTTP addresses.
var clusterNodes []node.NodeInfo

// peerHTTP returns the HTTP URLs of the other nodes of the testnet, comma-separated.
func peerHTTP(self node.NodeInfo) string {
	var urls []string
	for _, n := range clusterNodes {
		if n.Name != self.Name && n.HTTPAddr != "" {
			urls = append(urls, "http://"+n.HTTPAddr)
		}
	}
	return strings.Join(urls, ",")
}

// stopChildren sends SIGINT to every node still running and waits for them
// to stop; a node that has not stopped after 30 s is killed.
func stopChildren(children []*child) {
	for _, ch := range children {
		select {
		case <-ch.done:
		default:
			ch.cmd.Process.Signal(os.Interrupt)
		}
	}
	timeout := time.After(30 * time.Second)
	for _, ch := range children {
		select {
		case <-ch.done:
		case <-timeout:
			ch.cmd.Process.Kill()
			<-ch.done
		}
	}
}

func printCluster(w io.Writer, children []*child) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPID\tP2P\tRPC\tHTTP\tLOG")
	for _, ch := range children {
		n := ch.info
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", n.Name, ch.cmd.Process.Pid, n.P2PAddr, n.RPCAddr, n.HTTPAddr, filepath.Join(n.Home, nodeLog))
	}
	tw.Flush()
}

func rpcClient(addr string) (*rpchttp.HTTP, error) {
	return rpchttp.NewWithTimeout("tcp://"+addr, 2)
}

func rpcHeight(ctx context.Context, addr string) (int64, error) {
	cl, err := rpcClient(addr)
	if err != nil {
		return 0, err
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.SyncInfo.LatestBlockHeight, nil
}

func clusterStatus(c *cli.Context) error {
	tn, err := node.LoadTestnet(c.String("dir"))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintf(c.App.Writer, "chain %s\n", tn.ChainID)
	fmt.Fprintln(tw, "NODE\tSTATUS\tHEIGHT\tAPP HASH\tPEERS\tRPC")
	down := 0
	for _, n := range tn.Nodes {
		ctx, cancel := context.WithTimeout(c.Context, 3*time.Second)
		cl, err := rpcClient(n.RPCAddr)
		if err == nil {
			s, serr := cl.Status(ctx)
			ni, nerr := cl.NetInfo(ctx)
			if serr == nil && nerr == nil {
				state := "up"
				if s.SyncInfo.CatchingUp {
					state = "catching up"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\n", n.Name, state, s.SyncInfo.LatestBlockHeight, s.SyncInfo.LatestAppHash, ni.NPeers, n.RPCAddr)
				cancel()
				continue
			}
		}
		cancel()
		down++
		fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t%s\n", n.Name, "down", n.RPCAddr)
	}
	tw.Flush()
	if down > 0 {
		return &exitError{1, fmt.Sprintf("cluster status: %d of %d nodes down", down, len(tn.Nodes))}
	}
	return nil
}
