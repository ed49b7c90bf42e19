// Package protocol is the language of an authority node's public API
// (docs/api.md): the websocket messages and their types, subscription
// topics, close codes, and the receipt a voter gets for a committed ballot
// with its verification. The node's server (package web) and the Go client
// (package web/client) both import it; the client does not import the
// server.
package protocol

import (
	"encoding/json"
	"time"

	"github.com/evote/evote/wire"
)

// Message types of the websocket protocol (docs/api.md).
const (
	// Client to server.
	TypeCast      = "cast"
	TypeAudit     = "audit"
	TypeReceipt   = "receipt" // also the server's answer
	TypeSubscribe = "subscribe"
	// TypePing is a heartbeat for clients that cannot send websocket ping
	// frames (browsers): the node answers TypePong with the same id at once,
	// whatever else is in flight, so silence means the node is stuck.
	TypePing = "ping"

	// Server to client.
	TypeAck        = "ack"
	TypePong       = "pong"
	TypeRejected   = "rejected"
	TypeCommitted  = "committed"
	TypePending    = "pending"
	TypeThrottled  = "throttled"
	TypeSubscribed = "subscribed"
	TypeError      = "error"
	TypeBlock      = "block"
	TypeBallot     = "ballot"
	TypeAudited    = "audited"
	// TypeElection is an event of the election itself on the ballots topic:
	// Action is "defined", "keyed", "open", "closed", "totals", "share"
	// (Trustee set) or "result".
	TypeElection = "election"
)

// Topics of subscriptions: TopicBlocks, or TopicBallots followed by an
// election id.
const (
	TopicBlocks  = "blocks"
	TopicBallots = "ballots:"
)

// Close codes the server uses (RFC 6455, section 7.4.1).
const (
	CloseGoingAway      = 1001 // the server shuts down
	CloseUnsupported    = 1003 // a binary frame
	CloseInvalidPayload = 1007 // not UTF-8, not JSON, bad base64
	ClosePolicy         = 1008 // unknown type, missing field, rate limit, slow subscriber
	CloseTooBig         = 1009 // a message over the size limit
	CloseInternal       = 1011 // a bug on the server
)

// Message is one websocket message in either direction; Type says which
// fields are set. Clients must ignore fields they do not know.
type Message struct {
	Type string `json:"type"`
	// ID is chosen by the client and echoed in every answer to the request.
	ID string `json:"id,omitempty"`

	// Requests.
	Election     string          `json:"election,omitempty"`
	Cast         string          `json:"cast,omitempty"`  // cast: base64 of the ballot.Cast encoding
	Audit        json.RawMessage `json:"audit,omitempty"` // audit: the audited-ballot JSON object
	TrackingCode string          `json:"tracking_code,omitempty"`
	Topics       []string        `json:"topics,omitempty"`

	// Answers.
	TxHash       string    `json:"tx_hash,omitempty"` // hex, lower case
	Code         wire.Code `json:"code,omitempty"`    // rejected: the chain's rejection code
	Reason       string    `json:"reason,omitempty"`
	CloseCode    int       `json:"close_code,omitempty"` // error: the close code that follows
	RetryAfterMS int64     `json:"retry_after_ms,omitempty"`
	Receipt      *Receipt  `json:"receipt,omitempty"`
	Audited      bool      `json:"audited,omitempty"` // receipt: the ballot was audited, not cast

	// Events.
	Height   int64      `json:"height,omitempty"`
	Hash     string     `json:"hash,omitempty"` // block: block id hash, hex
	Time     *time.Time `json:"time,omitempty"`
	Txs      []string   `json:"txs,omitempty"`      // block: transaction hashes, hex
	Replaces string     `json:"replaces,omitempty"` // ballot: tracking code of the ballot it replaces
	Action   string     `json:"action,omitempty"`   // election events
	Trustee  string     `json:"trustee,omitempty"`  // election "share" events
}
