package node

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/cometbft/cometbft/p2p"

	"github.com/evote/evote/internal/filekind"
)

// peerAddress is the NodeID@host:port the other nodes dial to reach the
// node of config c: its external address, or else its p2p listening
// address unless that is every interface (0.0.0.0, [::]), which names no
// host a peer could dial; then it is empty.
func peerAddress(id p2p.ID, external, listen string) string {
	hp := external
	if hp == "" {
		hp = strings.TrimPrefix(listen, "tcp://")
		host, _, err := net.SplitHostPort(hp)
		if err != nil {
			return ""
		}
		if a, err := netip.ParseAddr(host); host == "" || (err == nil && a.IsUnspecified()) {
			return ""
		}
	}
	return string(id) + "@" + strings.TrimPrefix(hp, "tcp://")
}

// CheckPeerAddress checks a persistent peer written as NodeID@host:port: a
// 40-hex-digit node id, a host and a port from 1 to 65535.
func CheckPeerAddress(s string) error {
	id, hp, ok := strings.Cut(s, "@")
	if !ok {
		return fmt.Errorf("peer %q: write NodeID@host:port", s)
	}
	if !isNodeID(id) {
		return fmt.Errorf("peer %q: the node id %q is not %d lowercase hex digits", s, id, 2*p2p.IDByteLength)
	}
	host, port, err := net.SplitHostPort(hp)
	if err != nil || host == "" {
		return fmt.Errorf("peer %q: %q is not host:port", s, hp)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("peer %q: port %q is not a number from 1 to 65535", s, port)
	}
	return nil
}

// SetPeers writes the persistent peers of the node in home (the [p2p]
// persistent_peers of config/config.toml) from the identities the other
// organisations sent: every identity but the node's own, by its peer
// address. It returns the peers written, in the identities' order.
func SetPeers(home string, ids []Identity) ([]string, error) {
	c, err := loadConfig(home)
	if err != nil {
		return nil, err
	}
	own, err := ReadIdentity(home)
	if err != nil {
		return nil, err
	}
	var peers []string
	seen := map[string]string{}
	for _, id := range ids {
		if id.NodeID == own.NodeID {
			continue
		}
		if prev, dup := seen[id.NodeID]; dup {
			return nil, fmt.Errorf("node: %s and %s have the same node id %s", prev, id.Moniker, id.NodeID)
		}
		seen[id.NodeID] = id.Moniker
		if id.PeerAddress == "" {
			return nil, fmt.Errorf("node: %s (%s) has no peer address: its operator runs evote node init with --external-address HOST:PORT, or a --p2p address naming a host", id.Moniker, id.NodeID)
		}
		if err := CheckPeerAddress(id.PeerAddress); err != nil {
			return nil, fmt.Errorf("node: %s: %w", id.Moniker, err)
		}
		if !strings.HasPrefix(id.PeerAddress, id.NodeID+"@") {
			return nil, fmt.Errorf("node: %s: peer address %s does not start with its node id %s", id.Moniker, id.PeerAddress, id.NodeID)
		}
		peers = append(peers, id.PeerAddress)
	}
	if len(peers) == 0 {
		return nil, fmt.Errorf("node: no identity of another node (only %s's own)", own.Moniker)
	}
	if slices.Equal(strings.Split(c.P2P.PersistentPeers, ","), peers) {
		return peers, nil
	}
	c.P2P.PersistentPeers = strings.Join(peers, ",")
	return peers, writeConfig(home, c)
}

// MaxIdentityFile bounds an identity file (`evote node show --json`).
const MaxIdentityFile = 16 << 10

// ReadIdentityFile reads the identity an organisation sent for the genesis
// and the peers' configs, the JSON of `evote node show --json`: a regular
// file of at most MaxIdentityFile bytes with a valid moniker, node id,
// validator key and, if present, peer address.
func ReadIdentityFile(path string) (Identity, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return Identity{}, fmt.Errorf("node: identity file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		kind, _ := filekind.Of(fi.Mode())
		return Identity{}, fmt.Errorf("node: identity file %s is %s, not a regular file", path, orDefault(kind, "not a regular file"))
	}
	if fi.Size() > MaxIdentityFile {
		return Identity{}, fmt.Errorf("node: identity file %s has %d bytes, more than %d: it is not the output of evote node show --json", path, fi.Size(), MaxIdentityFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Identity{}, fmt.Errorf("node: identity file: %w", err)
	}
	var f struct {
		Identity
		GenesisSHA256 string `json:"genesis_sha256"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return Identity{}, fmt.Errorf("node: identity file %s: %w (it should be the output of evote node show --json)", path, err)
	}
	if d.More() {
		return Identity{}, fmt.Errorf("node: identity file %s: more than one JSON value", path)
	}
	id := f.Identity
	switch {
	case !monikerRE.MatchString(id.Moniker):
		return Identity{}, fmt.Errorf("node: identity file %s: moniker %q: use 1 to 64 letters, digits, '.', '_' or '-'", path, id.Moniker)
	case !isNodeID(id.NodeID):
		return Identity{}, fmt.Errorf("node: identity file %s: node id %q is not %d lowercase hex digits", path, id.NodeID, 2*p2p.IDByteLength)
	}
	if k, err := base64.StdEncoding.Strict().DecodeString(id.ValidatorKey); err != nil || len(k) != 32 {
		return Identity{}, fmt.Errorf("node: identity file %s: validator key %q is not the base64 of 32 bytes", path, id.ValidatorKey)
	}
	if id.PeerAddress != "" {
		if err := CheckPeerAddress(id.PeerAddress); err != nil {
			return Identity{}, fmt.Errorf("node: identity file %s: %w", path, err)
		}
	}
	return id, nil
}

func isNodeID(id string) bool {
	b, err := hex.DecodeString(id)
	return err == nil && len(b) == p2p.IDByteLength && strings.ToLower(id) == id
}
