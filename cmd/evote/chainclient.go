package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"strings"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/urfave/cli/v2"

	"github.com/evote/evote/ballot"
	"github.com/evote/evote/internal/keyfile"
)

// nodeFlag is the address of an authority node's CometBFT RPC endpoint, used
// by officials' and trustees' commands that act on the chain.
var nodeFlag = &cli.StringFlag{Name: "node", Usage: "an authority node's RPC `URL`, e.g. http://127.0.0.1:26657", EnvVars: []string{"EVOTE_NODE"}}

// dialNode connects to a node's RPC endpoint and returns the client and the
// chain id.
func dialNode(ctx context.Context, url string) (*rpchttp.HTTP, string, error) {
	if url == "" {
		return nil, "", &exitError{2, "no node: give --node URL (or set EVOTE_NODE)"}
	}
	c, err := rpchttp.New(url)
	if err != nil {
		return nil, "", fmt.Errorf("node %s: %w", url, err)
	}
	st, err := c.Status(ctx)
	if err != nil && !strings.HasSuffix(strings.TrimRight(url, "/"), "/rpc") {
		// Not a CometBFT RPC address: perhaps the node's public web URL,
		// which serves the read-only RPC an observer needs at /rpc
		// (web/publicrpc.go).
		pub, perr := rpchttp.New(strings.TrimRight(url, "/") + "/rpc")
		if perr == nil {
			if pst, serr := pub.Status(ctx); serr == nil {
				return pub, pst.NodeInfo.Network, nil
			}
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("node %s is not reachable: %w", url, err)
	}
	return c, st.NodeInfo.Network, nil
}

// commandContext bounds a chain command's run time.
func commandContext(c *cli.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Context, 2*time.Minute)
}

// officialKeyFormat is the format name of an official's key file.
const officialKeyFormat = "evote/v1/official-key"

type officialPublic struct {
	Name string `json:"name"`
	Key  string `json:"key"` // "ed25519:<base64>"
}

// loadOfficialKey decrypts an official's key file.
func loadOfficialKey(path string) (ed25519.PrivateKey, officialPublic, error) {
	pass, err := keyfile.ReadPassphrase(envPassphrase, envPassphraseFile)
	if err != nil {
		return nil, officialPublic{}, &exitError{2, err.Error()}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, officialPublic{}, err
	}
	var pub officialPublic
	seed, err := keyfile.Open(data, officialKeyFormat, pass, &pub)
	if err != nil {
		return nil, pub, fmt.Errorf("official key %s: %w", path, err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, pub, fmt.Errorf("official key %s: secret is %d bytes", path, len(seed))
	}
	k := ed25519.NewKeyFromSeed(seed)
	if ballot.FormatEd25519Key(k.Public().(ed25519.PublicKey)) != pub.Key {
		return nil, pub, fmt.Errorf("official key %s: public key does not match the secret key", path)
	}
	return k, pub, nil
}
