package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/evote/evote/chain/node"
)

// TestPublicHostFlags: `evote node start --public-host` (repeatable) and
// public_hosts of evote.toml reach the web server's configuration, and an
// invalid name stops the HTTP server with an error naming it.
func TestPublicHostFlags(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "config"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := node.WriteEvoteConfig(home, node.EvoteConfig{HTTPAddr: "127.0.0.1:8080", PublicHosts: []string{"from-toml.example.org"}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	app := &cli.App{Name: "t", Flags: append([]cli.Flag{homeFlag}, webLimitFlags...), Action: func(c *cli.Context) error {
		got = webLimitsFromFlags(c).PublicHosts
		return nil
	}}
	if err := app.Run([]string{"t", "--home", home, "--public-host", "vote.example.org", "--public-host", "node2.example.org"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"vote.example.org", "node2.example.org", "from-toml.example.org"}; !slices.Equal(got, want) {
		t.Fatalf("public hosts %v, want %v", got, want)
	}

	saved := webLimits
	defer func() { webLimits = saved }()
	webLimits.PublicHosts = []string{"vote example.org"}
	err := serveHTTP(context.Background(), "127.0.0.1:0", nil, nil)
	if err == nil || !strings.Contains(err.Error(), `public host "vote example.org"`) {
		t.Fatalf("serveHTTP with an invalid public host: %v", err)
	}
}
