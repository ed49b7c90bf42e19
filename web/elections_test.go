package web_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/web"
	"github.com/evote/evote/web/webtest"
	"github.com/evote/evote/wire"
)

// TestElectionsList: /api/elections lists every election of the chain,
// most recent first, each with its title, phase and voting window.
func TestElectionsList(t *testing.T) {
	env := webtest.Start(t, 2, 0)
	now := time.Now().UTC().Truncate(time.Second)
	later := env.AddElection(t, "later-2027", 2, now.Add(48*time.Hour), now.Add(72*time.Hour), false)
	_, ts := startServer(t, env, web.Config{})
	resp, err := http.Get(ts.URL + "/api/elections")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Elections []web.ElectionSummary }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	first := env.Election.Manifest
	want := []web.ElectionSummary{
		{Election: "later-2027", Title: later.Manifest.Title, Phase: wire.PhaseReady, Start: ballot.FormatTime(now.Add(48 * time.Hour)), End: ballot.FormatTime(now.Add(72 * time.Hour))},
		{Election: webtest.ElectionID, Title: first.Title, Phase: wire.PhaseOpen, Start: ballot.FormatTime(first.Start), End: ballot.FormatTime(first.End)},
	}
	if len(got.Elections) != len(want) {
		t.Fatalf("/api/elections: %+v", got.Elections)
	}
	for i, w := range want {
		g := got.Elections[i]
		w.DefinedHeight = g.DefinedHeight
		if g != w || g.DefinedHeight <= 0 {
			t.Errorf("election %d: %+v, want %+v", i, g, w)
		}
	}
	if got.Elections[0].DefinedHeight <= got.Elections[1].DefinedHeight {
		t.Errorf("not most recent first: %+v", got.Elections)
	}
}
