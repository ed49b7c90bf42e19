package web

// SetHealth makes /healthz answer 503 with f's error whenever f returns one:
// the node's own view of its progress (chain/node.Node.Health: a consensus
// failure, a halted application, no new block while peers advance). Call it
// before serving.
func (s *Server) SetHealth(f func() error) { s.health = f }

// unhealthy returns the node's health error, or nil.
func (s *Server) unhealthy() error {
	if s.health == nil {
		return nil
	}
	return s.health()
}
