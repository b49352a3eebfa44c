package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// frontdeskBinary builds bin/frontdesk once per test run, as `make build` does, for tests that need a real
// process (signals, kill -9, exit statuses).
func frontdeskBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "frontdesk-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtPath = filepath.Join(dir, "frontdesk")
		cmd := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", builtPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtPath
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// server is a `frontdesk serve` subprocess.
type server struct {
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs `frontdesk serve` with env (FRONTDESK_* settings) and waits until /healthz answers.
func startServer(t testing.TB, env ...string) *server {
	t.Helper()
	s := &server{addr: freeAddr(t), logs: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(frontdeskBinary(t), "serve")
	s.cmd.Env = append(os.Environ(), "FRONTDESK_ADDR="+s.addr, "FRONTDESK_INTAKE_PER_MINUTE=0")
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.kill() })
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("serve exited early:\n%s", s.logs.String())
		default:
		}
		if resp, err := http.Get(s.url("/healthz")); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve did not become healthy:\n%s", s.logs.String())
	return nil
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// kill stops the process with SIGKILL, as a power cut or the OOM killer would.
func (s *server) kill() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
	<-s.done
}

// stop asks the process to stop with sig and waits for it, returning its exit status.
func (s *server) stop(t testing.TB, sig os.Signal, within time.Duration) int {
	t.Helper()
	s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(within):
		t.Fatalf("serve did not stop within %v after %v:\n%s", within, sig, s.logs.String())
	}
	return s.cmd.ProcessState.ExitCode()
}

// runCLI runs a frontdesk command as a process and returns its exit status, stdout and stderr.
func runCLI(t testing.TB, stdin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, frontdeskBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, out.String(), errb.String()
}

// firstLine returns the first line of s.
func firstLine(s string) string {
	line, _, _ := bufio.NewReader(strings.NewReader(s)).ReadLine()
	return string(line)
}
