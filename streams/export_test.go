package streams

import "slices"

// Probe is a test's view of a listing, handed to a trace hook.
type Probe struct {
	s *Syncer
	l *listing
}

// Name is the listing's streams joined by "+".
func (p Probe) Name() string { return p.l.names() }

// Supplies reports whether the listing's records supply a parent feed.
func (p Probe) Supplies() bool { return p.l.supplies != nil }

// Remaining is the listing's count of windows not yet finished.
func (p Probe) Remaining() int {
	p.s.stateMu.Lock()
	defer p.s.stateMu.Unlock()
	return p.l.remaining
}

// Chains is each window's count of chains still reading it.
func (p Probe) Chains() []int {
	p.s.stateMu.Lock()
	defer p.s.stateMu.Unlock()
	var out []int
	for _, w := range p.l.windows {
		out = append(out, w.chains)
	}
	return slices.Clip(out)
}

// SetTrace makes f see the steps of each listing's end (see Syncer.trace).
func SetTrace(s *Syncer, f func(event string, p Probe)) {
	s.trace = func(event string, l *listing) { f(event, Probe{s: s, l: l}) }
}
