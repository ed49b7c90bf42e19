package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestVotesSeen reads the votes of the current round from a consensus
// state as CometBFT v1 gives it, says when a node stalls for want of
// votes, and refuses what it cannot read.
func TestVotesSeen(t *testing.T) {
	raw := []byte(`{"height/round/step":"12/3/6","start_time":"2026-12-02T10:00:00Z","proposal_block_hash":"",
	"height_vote_set":[{"round":0,"prevotes":["nil-Vote"],"prevotes_bit_array":"BA{4:x___} 10/40 = 0.25","precommits":[],"precommits_bit_array":"BA{4:____} 0/40 = 0.00"},
	{"round":3,"prevotes":[],"prevotes_bit_array":"BA{4:x___} 10/40 = 0.25","precommits":[],"precommits_bit_array":"BA{4:____} 0/40 = 0.00"},
	{"round":4,"prevotes":[],"prevotes_bit_array":"BA{4:____} 0/40 = 0.00","precommits":[],"precommits_bit_array":"BA{4:____} 0/40 = 0.00"}],"proposer":{}}`)
	v, err := readVotesSeen(raw)
	if err != nil || *v != (votesSeen{Height: 12, Round: 3, Prevotes: 10, Precommits: 0, Total: 40}) {
		t.Fatalf("readVotesSeen = %+v, %v", v, err)
	}
	var out bytes.Buffer
	printNodeStatus(&out, nodeStatusInfo{ChainID: "c", Validators: 4, TotalPower: 40, Peers: []string{}, Votes: v}, time.Now())
	for _, want := range []string{
		"votes seen:       height 12 round 3: prevotes of power 10, precommits of power 0, of 40 (a block needs more than 2/3: 27)",
		"warning:          round 3 without enough votes: this node hears too few validators (only power 10 of 40)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	for _, bad := range []string{``, `{}`, `[]`, `{"height/round/step":"x/y/z"}`, `{"height/round/step":"1/0/1","height_vote_set":[]}`,
		`{"height/round/step":"1/0/1","height_vote_set":[{"round":0,"prevotes_bit_array":"<script>&\"'","precommits_bit_array":""}]}`} {
		if v, err := readVotesSeen([]byte(bad)); err == nil {
			t.Errorf("readVotesSeen(%q) = %+v", bad, v)
		}
	}
}
