package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Shutdown stops accepting connections, closes those waiting for a
// command and waits until the others have finished the message in hand.
// When ctx ends first, it closes every connection, aborts upstream
// transactions and registrations, waits for the connections' goroutines
// and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	done := make(chan error, 1)
	go func() { done <- s.smtp.Shutdown(ctx) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s.closeIdle()
		select {
		case err := <-done:
			s.abort()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				return fmt.Errorf("relay: shutdown: %w", err)
			}
			return nil
		case <-tick.C:
		}
	}
}

// Close closes the listeners and every connection at once, aborts
// upstream transactions and registrations, and waits for the connections'
// goroutines; messages in hand are not accepted.
func (s *Server) Close() error {
	s.draining.Store(true)
	err := s.smtp.Close()
	s.abort()
	if err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		return fmt.Errorf("relay: close: %w", err)
	}
	return nil
}

// abort accepts no more connections, closes the open ones, cancels
// upstream transactions and registrations, and waits until go-smtp has
// closed every connection.
func (s *Server) abort() {
	s.mu.Lock()
	s.stopped = true
	for c := range s.conns {
		// The connection is being torn down; its error says nothing new.
		_ = c.Conn.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// closeIdle closes the connections that wait for the client.
func (s *Server) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.closeIfIdle()
	}
}

// trackingListener registers every accepted connection with the server.
type trackingListener struct {
	net.Listener
	s *Server
}

func (l *trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc, err := l.track(c)
		if tc != nil || err != nil {
			return tc, err
		}
		refuse(c)
	}
}

// track registers c, or turns it away when the server is full (nil, nil).
func (l *trackingListener) track(c net.Conn) (*trackedConn, error) {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		// Accepted while the server was being closed: the listener is
		// closed by now, so Serve ends on this error.
		return nil, errors.Join(net.ErrClosed, c.Close())
	}
	if len(s.conns) >= s.opts.MaxConnections {
		s.log.Warn("connection refused: too many connections", "remote", c.RemoteAddr().String(), "max", s.opts.MaxConnections)
		return nil, nil
	}
	tc := &trackedConn{Conn: c, s: s}
	s.conns[tc] = struct{}{}
	s.wg.Add(1)
	return tc, nil
}

// refuse greets a connection over the cap with 421 (RFC 5321 §3.1) and
// closes it. Writing the short reply does not wait for the client: it
// fits the socket buffer, and the deadline bounds it anyway.
func refuse(c net.Conn) {
	// Errors mean the client is gone; the connection is closed either way.
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = fmt.Fprintf(c, "%d %d.%d.%d %s\r\n", errTooManyConns.Code, errTooManyConns.EnhancedCode[0],
		errTooManyConns.EnhancedCode[1], errTooManyConns.EnhancedCode[2], errTooManyConns.Message)
	_ = c.Close()
}

// trackedConn knows whether the server is waiting for the client. go-smtp
// answers each command before it reads the next, so while a Read is
// pending every reply has been written, and closing the connection cannot
// lose an answer the client is owed.
type trackedConn struct {
	net.Conn
	s      *Server
	closed sync.Once

	mu      sync.Mutex // guards reading and drained
	reading bool
	drained bool
}

func (c *trackedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.drained {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	c.reading = true
	c.mu.Unlock()
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.reading = false
	drained := c.drained
	c.mu.Unlock()
	if drained {
		// Whatever arrived after the connection was drained is dropped, so
		// that no command is handled that could not be answered.
		return 0, net.ErrClosed
	}
	return n, err
}

// closeIfIdle closes the connection if a Read is pending.
func (c *trackedConn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reading && !c.drained {
		c.drained = true
		// The pending Read returns with this error; nothing else to do.
		_ = c.Conn.Close()
	}
}

// Close is called by go-smtp when it is done with the connection.
func (c *trackedConn) Close() error {
	c.closed.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
		c.s.wg.Done()
	})
	return c.Conn.Close()
}
