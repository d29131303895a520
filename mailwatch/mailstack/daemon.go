package mailstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// errPortBusy means a daemon could not bind one of its ports.
var errPortBusy = errors.New("port already in use")

const (
	// startTimeout bounds one run of "dovecot" or "postfix start"; both
	// return once their master has bound its listeners.
	startTimeout = 30 * time.Second
	// stopTimeout bounds waiting for a master to exit after SIGTERM.
	// Dovecot takes about 1.1 s.
	stopTimeout = 10 * time.Second
	// pollInterval is how often bounded waits check again.
	pollInterval = 20 * time.Millisecond
)

// daemon names a master process of the stack.
type daemon string

const (
	daemonDovecot daemon = "dovecot"
	daemonPostfix daemon = "postfix"
)

// pidFile returns where the master writes its PID, relative to the run
// directory.
func (d daemon) pidFile() string {
	if d == daemonDovecot {
		return "run/master.pid"
	}
	return "pf/spool/pid/master.pid"
}

// comm returns the master's /proc/PID/comm, checked before signalling so
// that a stale PID file never gets an unrelated process killed.
func (d daemon) comm() string {
	if d == daemonDovecot {
		return "dovecot"
	}
	return "master"
}

func (s *Stack) dovecotConf() string    { return filepath.Join(s.dir, "dovecot", "dovecot.conf") }
func (s *Stack) postfixConfDir() string { return filepath.Join(s.dir, "pf", "etc") }

// startDovecot runs dovecot, which returns after its master has bound the
// listeners and daemonized.
func (s *Stack) startDovecot() error {
	// Dovecot's master keeps fd 2 open: with a pipe as stderr (as in
	// CombinedOutput) the call would block until Dovecot exits. A file
	// does not.
	out, err := s.run(s.bin.dovecot, "dovecot.stderr", "-c", s.dovecotConf())
	if err == nil {
		return nil
	}
	if strings.Contains(out, "Failed to start listeners") {
		return fmt.Errorf("start dovecot: %w: %s", errPortBusy, out)
	}
	return fmt.Errorf("start dovecot: %w: %s", err, out)
}

// startPostfix runs "postfix start", which waits until master has
// initialized. Postfix reports errors only to a tty or syslog, so they are
// read from its log file.
func (s *Stack) startPostfix() error {
	logPath := filepath.Join(s.dir, "log", "postfix.log")
	offset := fileSize(logPath)
	out, err := s.run(s.bin.postfix, "postfix.stderr", "-c", s.postfixConfDir(), "start")
	if err == nil {
		return nil
	}
	out = strings.TrimSpace(out + "\n" + readFrom(logPath, offset))
	if strings.Contains(out, "Address already in use") {
		return fmt.Errorf("start postfix: %w: %s", errPortBusy, out)
	}
	return fmt.Errorf("start postfix: %w: %s", err, out)
}

// run runs a daemon's start command with stdout and stderr appended to
// log/<logName>, and returns what this run wrote there.
func (s *Stack) run(bin, logName string, args ...string) (string, error) {
	path := filepath.Join(s.dir, "log", logName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", logName, err)
	}
	defer f.Close()
	offset := fileSize(path)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout = f
	cmd.Stderr = f
	err = cmd.Run()
	return strings.TrimSpace(readFrom(path, offset)), err
}

// stop sends SIGTERM to the given masters and to every process in their
// sessions, then waits until all have exited; a zombie counts as exited,
// because PID 1 may reap orphans only about once a second. Both masters
// call setsid, so a session holds exactly one daemon's processes.
// Signalling the whole session matters for Dovecot: its imap processes
// outlive their master and would keep serving clients on old connections,
// which a real restart (systemd stops the whole cgroup) does not do.
func (s *Stack) stop(ds ...daemon) error {
	var errs []error
	var sids []int
	for _, d := range ds {
		pid, err := s.masterPID(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if pid != 0 {
			sids = append(sids, pid)
		}
	}
	if err := signalSessions(sids, syscall.SIGTERM); err != nil {
		errs = append(errs, err)
	}
	if err := waitSessionsExited(sids, time.Now().Add(stopTimeout)); err != nil {
		errs = append(errs, err)
		// A last resort after the bounded wait; errors mean gone already.
		_ = signalSessions(sids, syscall.SIGKILL)
		errs = append(errs, waitSessionsExited(sids, time.Now().Add(2*time.Second)))
	}
	for _, d := range ds {
		// Dovecot refuses to start over a master.pid naming a zombie.
		if err := os.Remove(filepath.Join(s.dir, d.pidFile())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s pid file: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// masterPID reads d's PID file. It returns 0 when there is no file or the
// PID no longer belongs to d's master.
func (s *Stack) masterPID(d daemon) (int, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, d.pidFile()))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s pid: %w", d, err)
	}
	// Postfix pads the PID with spaces.
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("parse %s pid %q: %w", d, b, err)
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != d.comm() {
		return 0, nil
	}
	return pid, nil
}

// signalSessions sends sig to each session leader first and then to the
// other live members of its session.
func signalSessions(sids []int, sig syscall.Signal) error {
	var errs []error
	for _, sid := range sids {
		if err := syscall.Kill(sid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("signal pid %d: %w", sid, err))
		}
		for _, pid := range liveSessionMembers(sid) {
			if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
				errs = append(errs, fmt.Errorf("signal pid %d: %w", pid, err))
			}
		}
	}
	return errors.Join(errs...)
}

// waitSessionsExited polls until no session has a live member left.
func waitSessionsExited(sids []int, deadline time.Time) error {
	return poll(deadline, func() error {
		for _, sid := range sids {
			if live := liveSessionMembers(sid); len(live) > 0 {
				return fmt.Errorf("processes %v of session %d still running", live, sid)
			}
		}
		return nil
	})
}

// liveSessionMembers returns the processes of session sid that are
// neither gone nor zombies, read from /proc/PID/stat:
// "pid (comm) state ppid pgrp session ...", where comm may contain ") ".
func liveSessionMembers(sid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 4 || f[0] == "Z" || f[0] == "X" || f[3] != strconv.Itoa(sid) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// poll calls f every pollInterval until it returns nil, a permanentError
// or the deadline passes, and then returns f's last error.
func poll(deadline time.Time, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		var perm permanentError
		if errors.As(err, &perm) {
			return perm.err
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(min(pollInterval, time.Until(deadline)+time.Millisecond))
	}
}

// waitReady waits until IMAP LOGIN works and SMTP greets with 220.
func (s *Stack) waitReady(deadline time.Time) error {
	if err := s.waitIMAP(deadline); err != nil {
		return err
	}
	if err := poll(deadline, func() error { return greets(s.SMTPAddr(), "220 ") }); err != nil {
		return fmt.Errorf("postfix not ready: %w", err)
	}
	return nil
}

// waitIMAP waits until the first user can log in over IMAP.
func (s *Stack) waitIMAP(deadline time.Time) error {
	u := s.cfg.users[0]
	err := poll(deadline, func() error {
		c, err := s.login(u, deadline)
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		return fmt.Errorf("dovecot not ready: %w", err)
	}
	return nil
}

// StopDovecot stops Dovecot, leaving Postfix running: mail sent meanwhile
// is deferred and delivered after StartDovecot.
func (s *Stack) StopDovecot(t testing.TB) {
	t.Helper()
	if err := s.stop(daemonDovecot); err != nil {
		t.Fatalf("mailstack: %v", err)
	}
}

// StartDovecot starts a stopped Dovecot on the same ports and mail
// directory and waits until IMAP LOGIN works.
func (s *Stack) StartDovecot(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	// A dying login process may hold a listener for a moment longer than
	// its master.
	err := poll(deadline, func() error {
		err := s.startDovecot()
		if err != nil && !errors.Is(err, errPortBusy) {
			return permanentError{err}
		}
		return err
	})
	if err == nil {
		err = s.waitIMAP(deadline)
	}
	if err != nil {
		t.Fatalf("mailstack: %v", err)
	}
}

// permanentError wraps an error that ends a poll at once.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Restart stops and starts Dovecot, as a server restart in the middle of a
// session does. Mailboxes, UIDs and UIDVALIDITY survive.
func (s *Stack) Restart(t testing.TB) {
	t.Helper()
	s.StopDovecot(t)
	s.StartDovecot(t)
}

// Logs returns the Dovecot and Postfix logs of the stack, each under a
// "== name ==" line.
func (s *Stack) Logs() string {
	return s.logTail(-1)
}

// logTail returns the last n lines of each log, or all when n < 0.
func (s *Stack) logTail(n int) string {
	var b strings.Builder
	for _, name := range [...]string{"dovecot.log", "dovecot.stderr", "postfix.log", "postfix.stderr"} {
		data, err := os.ReadFile(filepath.Join(s.dir, "log", name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		fmt.Fprintf(&b, "== %s ==\n", name)
		if err != nil {
			fmt.Fprintf(&b, "(%v)\n", err)
			continue
		}
		lines := strings.SplitAfter(strings.TrimRight(string(data), "\n"), "\n")
		if n >= 0 && len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		b.WriteString(strings.Join(lines, ""))
		b.WriteString("\n")
	}
	return b.String()
}

// removeAll removes the run directory. Children of a stopped master may
// still be writing into it for a moment, so it retries briefly.
func removeAll(dir string) error {
	err := poll(time.Now().Add(5*time.Second), func() error { return os.RemoveAll(dir) })
	if err != nil {
		return fmt.Errorf("remove run dir: %w", err)
	}
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns the contents of path from offset on, or "" if it
// cannot be read.
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return ""
	}
	return string(b)
}
