package mailstack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// ports are the loopback TCP ports of one stack. Dead has nothing
// listening on it: mail routed there is deferred (Start holds it bound,
// see deadPort).
type ports struct {
	IMAP, IMAPS, LMTP, SMTP, Dead int
}

// pickPorts reserves five distinct free loopback ports by listening on
// 127.0.0.1:0 and closing the listeners again. Another process can take a
// port before the daemons bind it; Start retries on that.
func pickPorts() (ports, error) {
	var nums [5]int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			// A listener that fails to close leaves its port busy, which
			// the start retry handles.
			_ = ln.Close()
		}
	}()
	for i := range nums {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return ports{}, fmt.Errorf("reserve port: %w", err)
		}
		lns = append(lns, ln)
		nums[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports{IMAP: nums[0], IMAPS: nums[1], LMTP: nums[2], SMTP: nums[3], Dead: nums[4]}, nil
}

// configData feeds the templates below.
type configData struct {
	Dir    string
	Domain string
	Slow   string
	Ports  ports
	Queue  QueueTimes
	Secs   func(time.Duration) string
	// Clients, when positive, sizes Dovecot for that many IMAP
	// connections (WithIMAPClients).
	Clients, IMAPProcesses, ClientLimit int
}

// Comments stay on lines of their own: in main.cf a trailing "# ..." would
// become part of the value.
var dovecotConf = template.Must(template.New("dovecot.conf").Parse(`# written by mailstack for one test run
instance_name = mailstack
base_dir = {{.Dir}}/run
state_dir = {{.Dir}}/state
log_path = {{.Dir}}/log/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <{{.Dir}}/dovecot/cert.pem
ssl_key = <{{.Dir}}/dovecot/key.pem
mail_location = maildir:~/Maildir
mail_fsync = never
# IDLE hears of new mail through inotify, whose instances are limited per
# user (fs.inotify.max_user_instances, 128 by default) and shared by every
# Dovecot on the machine that runs mail as nobody. Past the limit Dovecot
# logs "Inotify instance limit ... exceeded, disabling" and IDLE only checks
# the mailbox every mailbox_idle_check_interval: 30 secs by default
# (conf.d/10-mail.conf), longer than tests wait.
mailbox_idle_check_interval = 1 secs
# special-use folders as Outlook names them, so clients must find Sent by
# its \Sent attribute rather than by name
namespace inbox {
  inbox = yes
  separator = /
  mailbox "Sent Items" {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Receipts {
    auto = no
  }
}
# %n strips the domain: LMTP looks up "alice@{{.Domain}}"
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {{.Dir}}/dovecot/users
}
# uid 0 is refused for mail; nobody needs no useradd
userdb {
  driver = static
  args = uid=nobody gid=nogroup home={{.Dir}}/mail/%n
}
# the default of 10 connections per user and IP is too low for parallel tests
protocol imap {
  mail_max_userip_connections = 100
}
{{if .Clients}}# sized for {{.Clients}} IMAP connections: 50 to an imap process, and every
# service accepts them all
default_client_limit = {{.ClientLimit}}
default_process_limit = {{.IMAPProcesses}}
service imap {
  service_count = 0
  client_limit = 50
  process_limit = {{.IMAPProcesses}}
}
{{end}}service imap-login {
{{- if .Clients}}
  # high-performance mode: long-lived login processes, not one per connection
  service_count = 0
  process_min_avail = 2
{{- end}}
  inet_listener imap {
    port = {{.Ports.IMAP}}
  }
  inet_listener imaps {
    port = {{.Ports.IMAPS}}
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = {{.Ports.LMTP}}
  }
}
`))

var postfixMainCf = template.Must(template.New("main.cf").Parse(`# written by mailstack for one test run
compatibility_level = 3.6
queue_directory = {{.Dir}}/pf/spool
# must be owned by postfix, or master.lock fails
data_directory = {{.Dir}}/pf/data
maillog_file = {{.Dir}}/log/postfix.log
maillog_file_prefixes = {{.Dir}}
myhostname = mx.{{.Domain}}
mydomain = {{.Domain}}
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
# unknown users are accepted, then bounced after Dovecot's LMTP 550
virtual_mailbox_domains = {{.Domain}}
virtual_transport = lmtp:inet:127.0.0.1:{{.Ports.LMTP}}
# mail to the slow domain goes to a dead port and is deferred
transport_maps = inline:{ {{.Slow}}=smtp:[127.0.0.1]:{{.Ports.Dead}} }
smtp_dns_support_level = disabled
delay_warning_time = {{call .Secs .Queue.DelayWarning}}
queue_run_delay = {{call .Secs .Queue.MinBackoff}}
minimal_backoff_time = {{call .Secs .Queue.MinBackoff}}
maximal_backoff_time = {{call .Secs .Queue.MaxBackoff}}
maximal_queue_lifetime = {{call .Secs .Queue.Lifetime}}
bounce_queue_lifetime = {{call .Secs .Queue.Lifetime}}
# without these, bulk sends are throttled
in_flow_delay = 0
smtpd_error_sleep_time = 0
`))

// flags=X on lmtp makes delivery final, so success DSNs say "Action:
// delivered" rather than "relayed" (Dovecot's LMTP does not announce DSN).
var postfixMasterCf = template.Must(template.New("master.cf").Parse(`# written by mailstack for one test run
127.0.0.1:{{.Ports.SMTP}} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
lmtp unix - - n - - lmtp flags=X
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
`))

// postfixSeconds formats d for a Postfix time parameter, rounded up to
// whole seconds.
func postfixSeconds(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(math.Ceil(d.Seconds())))
}

// writeConfigs writes the Dovecot and Postfix configurations for p.
func (s *Stack) writeConfigs(p ports) error {
	data := configData{
		Dir:    s.dir,
		Domain: domain,
		Slow:   slowDomain,
		Ports:  p,
		Queue:  s.cfg.queue,
		Secs:   postfixSeconds,
	}
	if n := s.cfg.clients; n > 0 {
		data.Clients, data.IMAPProcesses, data.ClientLimit = n, n/50+100, 2*n+1000
	}
	files := []struct {
		tmpl *template.Template
		path string
	}{
		{dovecotConf, s.dovecotConf()},
		{postfixMainCf, filepath.Join(s.postfixConfDir(), "main.cf")},
		{postfixMasterCf, filepath.Join(s.postfixConfDir(), "master.cf")},
	}
	// Postfix re-reads a config file whose mtime is "now" for up to 2 s
	// before it starts; an older mtime makes it start at once.
	old := time.Now().Add(-time.Minute)
	for _, f := range files {
		var b strings.Builder
		if err := f.tmpl.Execute(&b, data); err != nil {
			return fmt.Errorf("render %s: %w", f.tmpl.Name(), err)
		}
		if err := os.WriteFile(f.path, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.tmpl.Name(), err)
		}
		if err := os.Chtimes(f.path, old, old); err != nil {
			return fmt.Errorf("backdate %s: %w", f.tmpl.Name(), err)
		}
	}
	return nil
}

// writeUsers writes Dovecot's passwd-file with one PLAIN password per user.
func (s *Stack) writeUsers() error {
	var b strings.Builder
	for _, u := range s.cfg.users {
		fmt.Fprintf(&b, "%s:{PLAIN}%s\n", u, s.cfg.password)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "dovecot", "users"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write users: %w", err)
	}
	return nil
}

// newCert makes a self-signed ECDSA P-256 certificate for localhost and
// 127.0.0.1 and returns the certificate and the PKCS #8 key, both PEM.
func newCert(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, nil, fmt.Errorf("generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"mailstack"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}
