package cluster

import (
	"fmt"
	"time"

	"github.com/evote/evote/chain/node"
	"github.com/evote/evote/internal/netdelay"
)

// Relays are the delaying relays in front of a testnet's p2p ports.
type Relays []*netdelay.Relay

// Close stops every relay and the connections it carries.
func (rs Relays) Close() {
	for _, r := range rs {
		r.Close()
	}
}

// DelayP2P makes the links between the nodes of a local testnet, not yet
// started, as slow as links between distant organisations. A relay on
// 127.0.0.1 (internal/netdelay) in front of each node's p2p port delays
// every byte by d each way; every other node's persistent peers name the
// relay instead of the node, whichever of two nodes dials the other; and
// every node gets the consensus timeouts of a deployment and no peer
// exchange (node.SetWANTiming), so that no node learns another's own port.
// The RPC and HTTP ports are not delayed. The relays run in this process:
// the caller closes them once the nodes have stopped.
func DelayP2P(nodes []node.NodeInfo, d time.Duration) (Relays, error) {
	var rs Relays
	ids := make([]node.Identity, len(nodes))
	for i, n := range nodes {
		r, err := netdelay.Listen("127.0.0.1:0", n.P2PAddr, d)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("%s's relay: %w", n.Name, err)
		}
		rs = append(rs, r)
		ids[i] = node.Identity{Moniker: n.Name, NodeID: n.NodeID, PeerAddress: n.NodeID + "@" + r.Addr()}
	}
	for _, n := range nodes {
		if _, err := node.SetPeers(n.Home, ids); err != nil {
			rs.Close()
			return nil, fmt.Errorf("%s: %w", n.Name, err)
		}
		if err := node.SetWANTiming(n.Home); err != nil {
			rs.Close()
			return nil, fmt.Errorf("%s: %w", n.Name, err)
		}
	}
	return rs, nil
}
