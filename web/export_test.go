package web

// Subscriptions returns the node-wide number of subscriptions (a
// connection and a topic) of s, for the tests.
func Subscriptions(s *Server) int {
	s.hubMu.Lock()
	h := s.hub
	s.hubMu.Unlock()
	if h == nil {
		return 0
	}
	return h.subscriptions()
}

// AddrKey is addrKey, for the tests.
var AddrKey = addrKey
