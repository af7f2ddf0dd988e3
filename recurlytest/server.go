package recurlytest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/loopback"
)

// Server is a Site served over real HTTP on a loopback port.
type Server struct {
	URL  string // base URL, e.g. http://127.0.0.1:41234
	Site *Site

	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	once sync.Once
}

// NewServer builds a site from cfg and serves it on 127.0.0.1 at a free
// port. Close it when done.
func NewServer(cfg Config) (*Server, error) {
	return Listen("127.0.0.1:0", cfg)
}

// Listen is NewServer on a given loopback address (host must be a loopback
// IP or "localhost"; port 0 picks a free one).
func Listen(addr string, cfg Config) (*Server, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	site, err := NewSite(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL:  "http://" + ln.Addr().String(),
		Site: site,
		srv:  &http.Server{Handler: site, ReadHeaderTimeout: 10 * time.Second},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// CheckLoopback rejects listen addresses that are not on the loopback
// interface: the simulated site holds no real data but must not be exposed.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if !loopback.Host(host) {
		return errors.New("recurlytest: refusing to listen on non-loopback address " + addr)
	}
	return nil
}

// Close stops the server, dropping open connections. It is safe to call
// more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		<-s.done
	})
}
