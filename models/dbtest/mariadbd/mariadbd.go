// Package mariadbd starts a private MariaDB server for one test, so a test
// can stop, restart or kill the database under a running service (outage
// tests) or run several servers side by side (replication tests) without
// touching the shared server on 127.0.0.1:3306.
//
// API:
//
//	srv := mariadbd.New(t, mariadbd.Options{})      // installed, started, answering
//	srv.CreateDatabase("chime")                      // error
//	srv.DSN("chime")                                 // "root@tcp(127.0.0.1:PORT)/chime"
//	srv.Addr()                                       // "127.0.0.1:PORT"
//	srv.Stop()                                       // clean shutdown; returns when the port is closed
//	srv.Start()                                      // same datadir and port; returns when it answers a ping
//	srv.Kill()                                       // SIGKILL (crash); returns when the process is gone
//	srv.Running()                                    // whether the process is up
//	srv.Dir(), srv.LogPath()                         // the test directory (data/ inside), the error log
//
// Options{ServerID: 1, LogBin: true} gives a replication primary (binary log
// in ROW format, GTIDs); Options{ServerID: 2} a replica. Args adds raw
// mariadbd options.
//
// The server runs as root (--user=root when the test runs as root) with
// root@127.0.0.1 and root@localhost without a password, listens on a free
// port of 127.0.0.1 only and uses a 16 MiB buffer pool. Commits reach the
// OS, not the disk (innodb_flush_log_at_trx_commit=2, sync_binlog=0): data
// survives Stop and Kill, not a machine crash. Its error log goes to
// LogPath(); a failure to start reports the log's tail. t.Cleanup kills it,
// whatever state the test left it in.
//
// The system tables come from mariadb-install-db (or mysql_install_db),
// bootstrapped once per mariadbd version into a template directory under
// os.TempDir() and copied for each server, so a server starts in about a
// second after the first.
//
// Like models/dbtest, a machine without /usr/sbin/mariadbd skips the test
// with a message, and CI (CI=true) fails it instead: a suite that cannot run
// there must not pass silently.
package mariadbd

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Binary is the server executable.
const Binary = "/usr/sbin/mariadbd"

// Options configure one server.
type Options struct {
	// ServerID sets server_id (0 = 1).
	ServerID int
	// LogBin turns on the binary log (ROW format) for a replication primary.
	LogBin bool
	// Args are extra mariadbd options, e.g. "--max-statement-time=1".
	Args []string
}

// Server is one private MariaDB server.
type Server struct {
	dir, data, sock, logPath string
	port                     int
	args                     []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// startTimeout bounds one start (the machines are small and shared).
const startTimeout = 90 * time.Second

// New installs, starts and returns a server, skipping (or, in CI, failing)
// the test when MariaDB is not installed.
func New(t testing.TB, opt Options) *Server {
	t.Helper()
	install, err := installer()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mariadbd: %v (CI=true: this test must run)", err)
		}
		t.Skipf("mariadbd: %v", err)
	}
	tmpl, err := template(install)
	if err != nil {
		t.Fatalf("mariadbd: %v", err)
	}
	dir := t.TempDir()
	// The socket path must stay under 108 bytes; test names make TempDir long.
	sockDir, err := os.MkdirTemp("", "mdb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	s := &Server{
		dir:     dir,
		data:    filepath.Join(dir, "data"),
		sock:    filepath.Join(sockDir, "s"),
		logPath: filepath.Join(dir, "error.log"),
	}
	if err := os.CopyFS(s.data, os.DirFS(tmpl)); err != nil {
		t.Fatalf("mariadbd: copy template: %v", err)
	}
	t.Cleanup(func() { s.Kill() })
	id := opt.ServerID
	if id == 0 {
		id = 1
	}
	// A free port can be taken between the probe and the bind: retry.
	for attempt := 0; ; attempt++ {
		s.port, err = freePort()
		if err != nil {
			t.Fatal(err)
		}
		s.args = s.serverArgs(id, opt)
		err = s.Start()
		if err == nil {
			return s
		}
		if attempt == 2 || !strings.Contains(s.logTail(), "Address already in use") {
			t.Fatalf("mariadbd: %v", err)
		}
	}
}

func (s *Server) serverArgs(id int, opt Options) []string {
	a := []string{
		"--no-defaults",
		"--datadir=" + s.data,
		"--socket=" + s.sock,
		"--pid-file=" + filepath.Join(s.dir, "mariadbd.pid"),
		"--tmpdir=" + s.dir,
		"--log-error=" + s.logPath,
		"--bind-address=127.0.0.1",
		"--port=" + strconv.Itoa(s.port),
		"--skip-name-resolve",
		"--innodb-buffer-pool-size=16M",
		"--innodb-log-file-size=8M",
		"--innodb-flush-log-at-trx-commit=2",
		"--innodb-doublewrite=0",
		"--innodb-fast-shutdown=1",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_unicode_ci",
		"--max-connections=200",
		"--server-id=" + strconv.Itoa(id),
	}
	if opt.LogBin {
		a = append(a, "--log-bin="+filepath.Join(s.data, "binlog"), "--binlog-format=ROW", "--sync-binlog=0")
	}
	if os.Geteuid() == 0 {
		a = append(a, "--user=root")
	}
	return append(a, opt.Args...)
}

// Addr is "127.0.0.1:PORT".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the TCP port, the same across Stop and Start.
func (s *Server) Port() int { return s.port }

// DSN is the go-sql-driver address of database db as root ("" = none).
func (s *Server) DSN(db string) string { return "root@tcp(" + s.Addr() + ")/" + db }

// Dir is the test's directory holding data/ and error.log.
func (s *Server) Dir() string { return s.dir }

// LogPath is the server's error log.
func (s *Server) LogPath() string { return s.logPath }

// CreateDatabase creates database name (utf8mb4) if it does not exist.
func (s *Server) CreateDatabase(name string) error {
	db, err := sql.Open("mysql", s.DSN(""))
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+strings.ReplaceAll(name, "`", "``")+
		"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	return err
}

// Running reports whether the server process is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runningLocked()
}

func (s *Server) runningLocked() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Start starts the server on its datadir and port and returns once it
// answers a ping. Starting a running server is an error.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runningLocked() {
		return errors.New("already running")
	}
	cmd := exec.Command(Binary, s.args...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("mariadbd exited during startup (%v); log:\n%s", cmd.ProcessState, s.logTail())
		default:
		}
		if err := ping(s.Addr()); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("mariadbd did not answer within %v: %v; log:\n%s", startTimeout, err, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down cleanly (SIGTERM) and returns once the process
// has exited and the port refuses connections. Stopping a stopped server is
// a no-op.
func (s *Server) Stop() error { return s.halt(syscall.SIGTERM) }

// Kill ends the server with SIGKILL, as a crash would, and returns once the
// process has exited. Killing a stopped server is a no-op.
func (s *Server) Kill() error { return s.halt(syscall.SIGKILL) }

func (s *Server) halt(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return nil
	}
	if err := s.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.done:
	case <-time.After(startTimeout):
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("mariadbd did not stop within %v; killed; log:\n%s", startTimeout, s.logTail())
	}
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err != nil {
			return nil
		}
		c.Close()
		if i == 100 {
			return fmt.Errorf("port %d still accepts connections after mariadbd exited", s.port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ping(addr string) error {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "tcp"
	cfg.Addr = addr
	cfg.Timeout = 2 * time.Second
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// installer finds mariadbd and its install script.
func installer() (string, error) {
	if _, err := os.Stat(Binary); err != nil {
		return "", fmt.Errorf("%s not installed (apt-get install mariadb-server)", Binary)
	}
	for _, name := range []string{"mariadb-install-db", "mysql_install_db"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("neither mariadb-install-db nor mysql_install_db is on PATH")
}

var templateOnce struct {
	sync.Once
	dir string
	err error
}

// template returns a bootstrapped datadir for this mariadbd version, making
// it on first use. Concurrent test processes may race: each installs into
// its own directory and the first rename wins.
func template(install string) (string, error) {
	templateOnce.Do(func() {
		templateOnce.dir, templateOnce.err = makeTemplate(install)
	})
	return templateOnce.dir, templateOnce.err
}

func makeTemplate(install string) (string, error) {
	ver, err := exec.Command(Binary, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %v", Binary, err)
	}
	sum := sha256.Sum256(append(ver, []byte(strconv.Itoa(os.Geteuid()))...))
	final := filepath.Join(os.TempDir(), "chime-mariadbd-"+hex.EncodeToString(sum[:6]))
	// The rename below is atomic: a directory under the final name is whole.
	if fi, err := os.Stat(final); err == nil && fi.IsDir() {
		return final, nil
	}
	work, err := os.MkdirTemp(os.TempDir(), "chime-mariadbd-install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	data := filepath.Join(work, "data")
	args := []string{
		"--no-defaults",
		"--datadir=" + data,
		"--auth-root-authentication-method=normal",
		"--skip-test-db",
		"--innodb-buffer-pool-size=16M",
		"--innodb-log-file-size=8M",
		"--innodb-flush-log-at-trx-commit=2",
		"--innodb-doublewrite=0",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(install, args...)
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: %v\n%s", filepath.Base(install), err, out)
	}
	// Nothing of a server's run belongs in the template.
	for _, name := range []string{"aria_log_control.lock", "mysql.sock", "ib_buffer_pool"} {
		os.Remove(filepath.Join(data, name))
	}
	if err := os.Rename(data, final); err != nil {
		if _, serr := os.Stat(final); serr == nil {
			return final, nil // another process won the race
		}
		return "", err
	}
	return final, nil
}
