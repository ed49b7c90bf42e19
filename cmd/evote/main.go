// Command evote is the single binary of the evote e-voting system: authority
// nodes, the tally service, election officials' tools, trustees' tools and the
// observers' verifier are all subcommands of it.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/urfave/cli/v2"
)

// commands holds the top-level subcommands. Each file of this package adds its
// own in an init function with register, so subcommands stay independent.
var commands []*cli.Command

func register(c *cli.Command) { commands = append(commands, c) }

// subcommands holds subcommands that a file adds to a command registered in
// another file, such as "election publish" next to "election validate".
var subcommands = map[string][]*cli.Command{}

func registerSub(parent string, c *cli.Command) { subcommands[parent] = append(subcommands[parent], c) }

// exitError carries a process exit status and a message meant for the user.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func newApp(stdout, stderr io.Writer) *cli.App {
	sort.Slice(commands, func(i, j int) bool { return commands[i].Name < commands[j].Name })
	for _, c := range commands {
		for _, sub := range subcommands[c.Name] {
			if !hasSubcommand(c, sub.Name) {
				c.Subcommands = append(c.Subcommands, sub)
			}
		}
	}
	return &cli.App{
		Name:                 "evote",
		Usage:                "end-to-end verifiable e-voting with an append-only ballot chain",
		Commands:             commands,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {}, // main reports errors itself
	}
}

func hasSubcommand(c *cli.Command, name string) bool {
	for _, s := range c.Subcommands {
		if s.Name == name {
			return true
		}
	}
	return false
}

// run executes the CLI with args and returns the exit status. It is what main
// calls, and what the CLI tests call.
func run(args []string, stdout, stderr io.Writer) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	err := newApp(stdout, stderr).Run(args)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "evote:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "evote:", err)
	return 1
}

func main() {
	stop := startCPUProfile(os.Args)
	code := run(os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// envCPUProfileDir names a folder into which every evote process writes a Go
// CPU profile of its run (COMMAND-SUBCOMMAND-PID.cpu.pprof), for performance
// work on whole clusters: `evote demo` and `evote cluster` pass it on to
// their nodes.
const envCPUProfileDir = "EVOTE_CPUPROFILE_DIR"

// envCPUProfileWindow, set with envCPUProfileDir, makes a process profile
// only a window of its run: from SIGUSR1 to SIGUSR2 (the benchmark's
// casting phase, internal/demo), into COMMAND-SUBCOMMAND-PID-window.cpu.pprof.
const envCPUProfileWindow = "EVOTE_CPUPROFILE_WINDOW"

func startCPUProfile(args []string) (stop func()) {
	dir := os.Getenv(envCPUProfileDir)
	if dir == "" {
		return func() {}
	}
	name := "evote"
	for _, a := range args[1:min(len(args), 3)] {
		if !strings.HasPrefix(a, "-") {
			name += "-" + a
		}
	}
	if os.Getenv(envCPUProfileWindow) != "" {
		return profileWindow(filepath.Join(dir, fmt.Sprintf("%s-%d-window.cpu.pprof", name, os.Getpid())))
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.cpu.pprof", name, os.Getpid())))
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "evote: CPU profile:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// profileWindow profiles from SIGUSR1 to SIGUSR2 into file.
func profileWindow(file string) (stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	done := make(chan struct{})
	var mu sync.Mutex
	var f *os.File
	end := func() {
		mu.Lock()
		defer mu.Unlock()
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
			f = nil
		}
	}
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-sigs:
				if s == syscall.SIGUSR2 {
					end()
					continue
				}
				mu.Lock()
				if f == nil {
					if g, err := os.Create(file); err == nil {
						if pprof.StartCPUProfile(g) == nil {
							f = g
						} else {
							g.Close()
						}
					}
				}
				mu.Unlock()
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
		end()
	}
}
