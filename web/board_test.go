package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/ballot/ballottest"
	"github.com/evote/evote/web"
	"github.com/evote/evote/web/webtest"
	"github.com/evote/evote/wire"
)

// TestBoardEndpoint: the ballot board lists every ballot with its status,
// pages by tracking code, searches by its start, and refuses hostile
// parameters with a specific error; /api/blocks names each transaction's
// kind and a ballot's tracking code.
func TestBoardEndpoint(t *testing.T) {
	env := webtest.Start(t, 4, 100*time.Millisecond)
	_, ts := startServer(t, env, web.Config{})
	m := env.Election.Manifest
	first := ballottest.FirstChoices(m, ballot.DefaultStyleID)
	c0, b0 := env.Election.Cast(t, env.Ballot, 0, first)
	c1, _ := env.Election.Cast(t, env.Ballot, 1, first)
	env.Commit(t, c0, c1)
	again, b0again := env.Election.Cast(t, env.Ballot, 0, first)
	file, auditCode := env.Audit(t, 2)
	env.Commit(t, again, wire.Encode(&wire.Audit{ElectionID: webtest.ElectionID, File: file}))
	get := func(q string) (int, web.BoardAnswer, string) {
		t.Helper()
		res, err := http.Get(ts.URL + "/api/elections/" + webtest.ElectionID + "/board" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var a web.BoardAnswer
		json.Unmarshal(raw, &a)
		return res.StatusCode, a, string(raw)
	}
	code, all, raw := get("")
	if code != 200 || len(all.Ballots()) != 4 {
		t.Fatalf("board: HTTP %d %s", code, raw)
	}
	status := map[string]string{}
	for _, e := range all.Ballots() {
		status[e.TrackingCode] = e.Status
		if e.Status == "replaced" && e.ReplacedBy != b0again.TrackingCode() {
			t.Errorf("%s replaced by %q, want %s", e.TrackingCode, e.ReplacedBy, b0again.TrackingCode())
		}
	}
	if status[b0.TrackingCode()] != "replaced" || status[b0again.TrackingCode()] != "counted" || status[auditCode] != "audited" {
		t.Fatalf("statuses %v", status)
	}
	// Pages of one ballot, each after the one before.
	var seen []string
	after := ""
	for range 6 {
		code, p, raw := get("?limit=1&after=" + url.QueryEscape(after))
		if code != 200 {
			t.Fatalf("page after %q: HTTP %d %s", after, code, raw)
		}
		for _, e := range p.Ballots() {
			seen = append(seen, e.TrackingCode)
		}
		if after = p.Next; after == "" {
			break
		}
	}
	if len(seen) != 4 || seen[3] != all.Ballots()[3].TrackingCode {
		t.Fatalf("paged: %v", seen)
	}
	// A search by the start of a code, typed in lower case with a space.
	c := b0.TrackingCode()
	q := strings.ToLower(c[:4] + " " + c[5:7])
	if code, p, raw := get("?q=" + url.QueryEscape(q)); code != 200 || len(p.Ballots()) < 1 || !strings.HasPrefix(p.Ballots()[0].TrackingCode, c[:7]) {
		t.Fatalf("search %q: HTTP %d %s", q, code, raw)
	}
	for _, tc := range []struct{ q, want string }{
		{"?q=" + url.QueryEscape(`<b>&"'\`), "is not a tracking-code character"},
		{"?q=" + url.QueryEscape("Ωμέγα"), "is not a tracking-code character"},
		{"?q=" + strings.Repeat("A", 5000), "far more than 16 characters"},
		{"?after=ABCD", "after: "},
		{"?limit=0", "a page holds 1 to 500 ballots"},
		{"?limit=501", "a page holds 1 to 500 ballots"},
		{"?limit=x", "a page holds 1 to 500 ballots"},
	} {
		code, _, raw := get(tc.q)
		if code != 400 || !strings.Contains(raw, tc.want) || !strings.Contains(raw, `"code":1`) {
			t.Errorf("%.60s: HTTP %d %s, want 400 %q", tc.q, code, raw, tc.want)
		}
	}
	res, err := http.Get(ts.URL + "/api/elections/nope/board")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("unknown election: HTTP %d", res.StatusCode)
	}

	// The block of the first two ballots names them.
	rec, _, err := env.App.BallotByTrackingCode(t.Context(), webtest.ElectionID, b0.TrackingCode())
	if err != nil {
		t.Fatal(err)
	}
	res, err = http.Get(fmt.Sprintf("%s/api/blocks/%d", ts.URL, rec.Height))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(body, new(map[string]any)); err != nil || !strings.Contains(string(body), `"kind":"ballot"`) || !strings.Contains(string(body), `"tracking_code":"`+b0.TrackingCode()+`"`) {
		t.Fatalf("block %d: %v %s", rec.Height, err, body)
	}
}
