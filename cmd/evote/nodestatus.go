package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/evote/evote/internal/jsonout"
	"github.com/evote/evote/record"
)

// nodeStatusCommand is `evote node status`: what a running node says of
// itself, for an operator checking that it makes blocks with its peers.
var nodeStatusCommand = &cli.Command{
	Name:      "status",
	Usage:     "print a running node's chain, height, genesis fingerprint, peers, validator set and the voting power it sees in its current round",
	UsageText: "evote node status --node RPC_URL [--wait DURATION] [--json]",
	Description: "RPC_URL is the node's CometBFT RPC address (http://127.0.0.1:26657 on its own machine by\n" +
		"default) or its public web address; the public address does not name the node's peers.\n" +
		"Compare the genesis fingerprint with every other node's (and with `evote node genesis`).\n" +
		"With --wait it waits, up to DURATION, until the node answers and has made a block\n" +
		"(and is not catching up), for scripts that start nodes; exit status 1 if it has not.",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "node", Required: true, EnvVars: []string{"EVOTE_NODE"}, Usage: "the node's `RPC_URL`"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		&cli.DurationFlag{Name: "wait", Usage: "wait up to `DURATION` (e.g. 60s) for the node to answer and make blocks"},
	},
	Action: nodeStatus,
}

// nodeStatusInfo is what node status prints.
type nodeStatusInfo struct {
	ChainID       string    `json:"chain_id"`
	Moniker       string    `json:"moniker"`
	NodeID        string    `json:"node_id"`
	Height        int64     `json:"latest_height"`
	BlockTime     time.Time `json:"latest_block_time"`
	CatchingUp    bool      `json:"catching_up"`
	GenesisSHA256 string    `json:"genesis_sha256"`
	Validators    int       `json:"validators"`
	TotalPower    int64     `json:"total_voting_power"`
	OwnPower      int64     `json:"voting_power"`
	// Peers is nil when the address does not name them (the public port).
	Peers []string `json:"peers"`
	// Votes is the voting power this node sees voting in its current round
	// (nil when the address does not give the consensus state).
	Votes *votesSeen `json:"votes_seen,omitempty"`
}

// votesSeen is the voting power whose votes a node has in its current
// consensus round: the prevotes and precommits it received, its own
// included. Blocks need more than 2/3 of the total.
type votesSeen struct {
	Height     int64 `json:"height"`
	Round      int   `json:"round"`
	Prevotes   int64 `json:"prevote_power"`
	Precommits int64 `json:"precommit_power"`
	Total      int64 `json:"total_power"`
}

// bitArrayPower reads CometBFT's vote bit array summary, "BA{4:x_x_} 20/40
// = 0.50", as the power that voted.
var bitArrayPower = regexp.MustCompile(`\} (\d+)/(\d+) =`)

// readVotesSeen reads the votes of the current round from a
// /consensus_state answer.
func readVotesSeen(raw []byte) (*votesSeen, error) {
	var rs struct {
		HRS  string `json:"height/round/step"`
		Sets []struct {
			Round      int    `json:"round"`
			Prevotes   string `json:"prevotes_bit_array"`
			Precommits string `json:"precommits_bit_array"`
		} `json:"height_vote_set"`
	}
	if err := json.Unmarshal(raw, &rs); err != nil {
		return nil, err
	}
	var v votesSeen
	if _, err := fmt.Sscanf(rs.HRS, "%d/%d/", &v.Height, &v.Round); err != nil {
		return nil, fmt.Errorf("height/round/step %q: %w", rs.HRS, err)
	}
	for _, set := range rs.Sets {
		if set.Round != v.Round {
			continue
		}
		for _, f := range []struct {
			s   string
			out *int64
		}{{set.Prevotes, &v.Prevotes}, {set.Precommits, &v.Precommits}} {
			m := bitArrayPower.FindStringSubmatch(f.s)
			if m == nil {
				return nil, fmt.Errorf("vote bit array %q", f.s)
			}
			*f.out, _ = strconv.ParseInt(m[1], 10, 64)
			v.Total, _ = strconv.ParseInt(m[2], 10, 64)
		}
		return &v, nil
	}
	return nil, fmt.Errorf("no votes of round %d", v.Round)
}

func nodeStatus(c *cli.Context) error {
	wait := c.Duration("wait")
	ctx, cancel := context.WithTimeout(c.Context, 2*time.Minute+wait)
	defer cancel()
	deadline := time.Now().Add(wait)
	var info nodeStatusInfo
	var err error
	for {
		info, err = readNodeStatus(ctx, c.String("node"))
		if wait == 0 || (err == nil && info.Height > 0 && !info.CatchingUp) {
			break
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("node status: the node did not answer within %v: %w", wait, err)
			}
			printNodeStatus(c.App.ErrWriter, info, time.Now())
			return fmt.Errorf("node status: the node made no block (or is still catching up) within %v; see the warnings above and its log", wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	if err != nil {
		return err
	}
	if c.Bool("json") {
		b, err := jsonout.MarshalIndent(info, "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, string(b))
		return nil
	}
	printNodeStatus(c.App.Writer, info, time.Now())
	return nil
}

// readNodeStatus asks the node at url what node status prints.
func readNodeStatus(ctx context.Context, url string) (nodeStatusInfo, error) {
	cl, _, err := dialNode(ctx, url)
	if err != nil {
		return nodeStatusInfo{}, err
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return nodeStatusInfo{}, err
	}
	gen, err := cl.Genesis(ctx)
	if err != nil {
		return nodeStatusInfo{}, fmt.Errorf("node status: genesis: %w", err)
	}
	fp, err := record.GenesisFingerprint(gen.Genesis)
	if err != nil {
		return nodeStatusInfo{}, err
	}
	info := nodeStatusInfo{ChainID: st.NodeInfo.Network, Moniker: st.NodeInfo.Moniker, NodeID: string(st.NodeInfo.DefaultNodeID),
		Height: st.SyncInfo.LatestBlockHeight, BlockTime: st.SyncInfo.LatestBlockTime, CatchingUp: st.SyncInfo.CatchingUp,
		GenesisSHA256: fp, OwnPower: st.ValidatorInfo.VotingPower}
	for _, v := range gen.Genesis.Validators {
		info.Validators++
		info.TotalPower += v.Power
	}
	if ni, err := cl.NetInfo(ctx); err == nil {
		info.Peers = []string{}
		for _, p := range ni.Peers {
			info.Peers = append(info.Peers, fmt.Sprintf("%s (%s)", p.NodeInfo.Moniker, p.NodeInfo.DefaultNodeID))
		}
	}
	if cs, err := cl.ConsensusState(ctx); err == nil {
		info.Votes, _ = readVotesSeen(cs.RoundState)
	}
	return info, nil
}

func printNodeStatus(w io.Writer, s nodeStatusInfo, now time.Time) {
	fmt.Fprintf(w, "chain:            %s\n", s.ChainID)
	fmt.Fprintf(w, "node:             %s (%s)\n", s.Moniker, s.NodeID)
	fmt.Fprintf(w, "genesis SHA-256:  %s\n", s.GenesisSHA256)
	age := "no block yet"
	if s.Height > 0 {
		age = fmt.Sprintf("%s ago", now.Sub(s.BlockTime).Round(time.Second))
	}
	fmt.Fprintf(w, "latest block:     %d (%s)%s\n", s.Height, age, map[bool]string{true: ", catching up"}[s.CatchingUp])
	fmt.Fprintf(w, "validators:       %d, total voting power %d; this node's power %d\n", s.Validators, s.TotalPower, s.OwnPower)
	switch {
	case s.Peers == nil:
		fmt.Fprintln(w, "peers:            not named through this address (use the node's RPC address)")
	case len(s.Peers) == 0:
		fmt.Fprintln(w, "peers:            none connected")
	default:
		fmt.Fprintf(w, "peers:            %d connected: %s\n", len(s.Peers), strings.Join(s.Peers, ", "))
	}
	if v := s.Votes; v != nil {
		need := v.Total*2/3 + 1
		fmt.Fprintf(w, "votes seen:       height %d round %d: prevotes of power %d, precommits of power %d, of %d (a block needs more than 2/3: %d)\n",
			v.Height, v.Round, v.Prevotes, v.Precommits, v.Total, need)
		if v.Round > 0 && v.Prevotes < need {
			fmt.Fprintf(w, "warning:          round %d without enough votes: this node hears too few validators (only power %d of %d); check that the others run and that this node reaches them\n", v.Round, v.Prevotes, v.Total)
		}
	}
	if s.Validators > 1 && s.Peers != nil && len(s.Peers) == 0 {
		fmt.Fprintln(w, "warning:          no peer connected: this node alone cannot make blocks (see its /healthz and log for why)")
	}
}
