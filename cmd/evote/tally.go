package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/evote/evote/chain/store"
	"github.com/evote/evote/chain/store/pebblestore"
	"github.com/evote/evote/chain/store/pgstore"
	"github.com/evote/evote/tally"
)

// exitAlarm is the exit status when the chain and the tally service disagree.
const exitAlarm = 4

func init() {
	register(&cli.Command{
		Name:  "tally",
		Usage: "run an election's tally service: follow a node, keep the encrypted totals, publish them and the result",
		Description: "Follows one authority node's chain and keeps the election's encrypted running totals itself,\n" +
			"verifying every ballot's proofs again (a re-vote takes the replaced ballot out, audited ballots never\n" +
			"count). When the election is closed it publishes the totals, which the chain accepts only if they equal\n" +
			"its own; once k trustees have published decryption shares it combines them, solves the counts and\n" +
			"publishes the result, which the chain checks. Any disagreement with the chain is an ALARM (exit status 4).\n\n" +
			"The state is kept in --data DIR (embedded) or in PostgreSQL (--database-url), one commit per chain\n" +
			"height: a service stopped at any moment resumes where it was. With --http it serves /progress, /totals,\n" +
			"/result and /healthz as JSON. With --once it catches up, acts, prints its status and exits.",
		Flags: []cli.Flag{
			nodeFlag,
			&cli.StringFlag{Name: "election-id", Usage: "the election `ID` to tally (required)"},
			&cli.StringFlag{Name: "data", Usage: "keep the service's state in `DIR` (Pebble)", EnvVars: []string{"EVOTE_TALLY_DATA"}},
			&cli.StringFlag{Name: "database-url", Usage: "keep the state in PostgreSQL at `URL` instead", EnvVars: []string{"EVOTE_TALLY_DATABASE_URL"}},
			&cli.StringFlag{Name: "database-schema", Value: "evote_tally", Usage: "the PostgreSQL `SCHEMA` of the state (never the node's own)"},
			&cli.StringFlag{Name: "http", Usage: "serve the status API on `ADDR`, e.g. 127.0.0.1:8090"},
			&cli.BoolFlag{Name: "once", Usage: "catch up, act, print the status and exit"},
			&cli.DurationFlag{Name: "poll", Value: 2 * time.Second, Usage: "ask the node for new blocks this often (besides NewBlock notifications)"},
		},
		Action: tallyRun,
		Subcommands: []*cli.Command{{
			Name:  "status",
			Usage: "show a running tally service's progress and result",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "http", Required: true, Usage: "the service's status API `URL`, e.g. http://127.0.0.1:8090"},
			},
			Action: tallyStatus,
		}},
	})
}

// openTallyStore opens the store the flags select.
func openTallyStore(ctx context.Context, c *cli.Context) (store.Store, error) {
	switch {
	case c.String("database-url") != "" && c.String("data") != "":
		return nil, &exitError{2, "give --data or --database-url, not both"}
	case c.String("database-url") != "":
		return pgstore.New(ctx, pgstore.Config{URL: c.String("database-url"), Schema: c.String("database-schema")})
	case c.String("data") != "":
		return pebblestore.New(ctx, pebblestore.Config{Dir: c.String("data")})
	}
	return nil, &exitError{2, "no state store: give --data DIR or --database-url URL"}
}

func tallyRun(c *cli.Context) error {
	if c.String("election-id") == "" {
		return &exitError{2, "no election: give --election-id ID"}
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	node, _, err := dialNode(dialCtx, c.String("node"))
	cancel()
	if err != nil {
		return err
	}
	if !c.Bool("once") {
		// The websocket for NewBlock notifications; without it the service polls.
		if err := node.Start(); err != nil {
			slog.Warn("tally: no websocket to the node; polling only", "err", err)
		} else {
			defer node.Stop() //nolint:errcheck
		}
	}
	st, err := openTallyStore(ctx, c)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := tally.New(ctx, tally.Config{Client: node, ElectionID: c.String("election-id"), Store: st, PollInterval: c.Duration("poll")})
	if err != nil {
		return err
	}
	if addr := c.String("http"); addr != "" && !c.Bool("once") {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("tally: --http %s: %w", addr, err)
		}
		srv := &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		fmt.Fprintf(c.App.Writer, "tally: status API on http://%s/progress\n", ln.Addr())
	}
	if c.Bool("once") {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		_, err = svc.Step(sctx)
	} else {
		err = svc.Run(ctx)
	}
	p := svc.Progress()
	res, _ := svc.Result()
	printTallyStatus(c.App.Writer, p, &res)
	if errors.Is(err, tally.ErrAlarm) {
		return &exitError{exitAlarm, err.Error()}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if err == nil && !c.Bool("once") && c.String("http") != "" && ctx.Err() == nil {
		fmt.Fprintln(c.App.Writer, "tally: the election is tallied; serving the status API until interrupted")
		<-ctx.Done()
	}
	return nil
}

// printTallyStatus writes a service's progress, and its result if any, for
// people.
func printTallyStatus(w io.Writer, p tally.Progress, res *tally.Result) {
	phase := p.Phase
	if phase == "" {
		phase = "not on the chain"
	}
	fmt.Fprintf(w, "election %s: phase %s, processed height %d of %d\n", p.Election, phase, p.Height, p.ChainHeight)
	fmt.Fprintf(w, "ballots: %d counted (%d cast, %d replaced by re-votes), %d audited\n", p.Counted, p.Cast, p.Replaced, p.Audited)
	fmt.Fprintf(w, "state: %s: %s\n", p.State, p.Status)
	if p.LastError != "" && p.Alarm == "" {
		fmt.Fprintf(w, "last error: %s\n", p.LastError)
	}
	if res == nil || res.Height == 0 {
		return
	}
	fmt.Fprintf(w, "result (on the chain at height %d, checked by the service):\n", res.Height)
	for _, c := range res.Contests {
		fmt.Fprintf(w, "  %s\n", c.Title)
		width := 0
		for _, s := range c.Selections {
			width = max(width, len(s.Title))
		}
		for _, s := range c.Selections {
			fmt.Fprintf(w, "    %-*s %d\n", width+1, s.Title+":", s.Count)
		}
		if c.Blank != nil {
			fmt.Fprintf(w, "    blank ballots (%s): %d\n", c.BlankKind, *c.Blank)
		} else if c.BlankKind != "" {
			fmt.Fprintf(w, "    blank ballots: not counted separately\n")
		}
	}
}

func tallyStatus(c *cli.Context) error {
	base := strings.TrimRight(c.String("http"), "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string, v any) (int, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, fmt.Errorf("tally service at %s: %w", base, err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
			return resp.StatusCode, fmt.Errorf("tally service at %s%s: %w", base, path, err)
		}
		return resp.StatusCode, nil
	}
	var p tally.Progress
	if _, err := get("/progress", &p); err != nil {
		return err
	}
	var res tally.Result
	if code, err := get("/result", &res); err != nil || code != http.StatusOK {
		res = tally.Result{}
	}
	printTallyStatus(c.App.Writer, p, &res)
	if p.State == tally.StateAlarm {
		return &exitError{exitAlarm, ""}
	}
	return nil
}
