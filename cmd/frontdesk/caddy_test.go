package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCaddyfileProxiesToFrontdesk: docs/deploy/Caddyfile, run by a real Caddy in front of a real serve. Caddy
// accepts the file as it is; then, on a loopback address instead of the clinic's name (no certificate to
// fetch), pages come through with Frontdesk's own security headers and without Caddy's name, a body over 64 KiB
// is answered 413 by Caddy every time, and an X-Forwarded-For a client makes up does not reach Frontdesk: with
// FRONTDESK_TRUSTED_PROXIES=127.0.0.1 as the README sets it, three enquiries claiming three addresses still
// count against one client's limit. Caddy comes from Debian's package (.ci/run installs it); without it the
// test is skipped on a laptop and fails in CI.
func TestCaddyfileProxiesToFrontdesk(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	caddy, err := exec.LookPath("caddy")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no caddy binary: .ci/run installs Debian's caddy package")
		}
		t.Skip("no caddy binary (apt-get install caddy)")
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "deploy", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Caddy keeps its state (certificates, autosaved configuration) under XDG_DATA_HOME and XDG_CONFIG_HOME.
	caddyEnv := append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	check := exec.Command(caddy, "adapt", "--config", filepath.Join("..", "..", "docs", "deploy", "Caddyfile"), "--adapter", "caddyfile", "--validate")
	check.Env = caddyEnv
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("caddy adapt --validate docs/deploy/Caddyfile: %v\n%s", err, out)
	}

	srv := startServer(t, "FRONTDESK_DB="+filepath.Join(dir, "frontdesk.db"), "FRONTDESK_MAIL_DIR="+filepath.Join(dir, "mail"),
		"FRONTDESK_TRUSTED_PROXIES=127.0.0.1", "FRONTDESK_INTAKE_PER_MINUTE=3") // the 422 below counts as one
	front := freeAddr(t)
	text := string(raw)
	for from, to := range map[string]string{"enquiries.clinic.example {": "{\n\tadmin off\n}\n\nhttp://" + front + " {",
		"reverse_proxy 127.0.0.1:8080": "reverse_proxy " + srv.addr} {
		if !strings.Contains(text, from) {
			t.Fatalf("docs/deploy/Caddyfile no longer has %q", from)
		}
		text = strings.Replace(text, from, to, 1)
	}
	cfg := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	run := exec.Command(caddy, "run", "--config", cfg, "--adapter", "caddyfile")
	run.Env, run.Stdout, run.Stderr = caddyEnv, logs, logs
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { run.Wait(); close(done) }()
	t.Cleanup(func() {
		run.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("caddy:\n%s", logs.String())
		}
	})
	base := "http://" + front
	var page *http.Response
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if page, err = http.Get(base + "/enquire"); err == nil {
			break
		}
		select {
		case <-done:
			t.Fatalf("caddy exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("caddy does not answer on %s: %v", front, err)
		}
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="email"`) {
		t.Errorf("GET /enquire through Caddy: %d\n%.300s", page.StatusCode, body)
	}
	if h := page.Header; h.Get("Server") != "" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors") ||
		h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers through Caddy: Server %q, CSP %q, nosniff %q", h.Get("Server"), h.Get("Content-Security-Policy"),
			h.Get("X-Content-Type-Options"))
	}

	// Over the limit: answered by Caddy (serve never sees it), as Frontdesk would, every time. A proxied early
	// 413 would race the rest of the body and come back as a 502 now and then.
	big := fmt.Sprintf(`{"name":"Big Body","email":"big@patient.example","treatment":"anxiety","consent":true,"message":%q}`,
		strings.Repeat("x", 80<<10))
	for range 10 {
		resp, err := http.Post(base+"/api/v1/enquiries", "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(answer), "64 KiB") || resp.Header.Get("Server") != "" {
			t.Fatalf("an 80 KiB body through Caddy: %d %q (Server %q), want 413 saying the limit", resp.StatusCode, answer, resp.Header.Get("Server"))
		}
	}
	if strings.Contains(srv.logs.String(), "status=413") {
		t.Error("a body over the limit reached Frontdesk through Caddy")
	}
	// At the limit exactly it goes through, and Frontdesk judges the message.
	atLimit := fmt.Sprintf(`{"name":"Long Body","email":"long@patient.example","treatment":"anxiety","consent":true,"message":%q}`,
		strings.Repeat("x", 60000))
	atLimit += strings.Repeat(" ", 64<<10-len(atLimit))
	resp, err := http.Post(base+"/api/v1/enquiries", "application/json", strings.NewReader(atLimit))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a 64 KiB body with a message too long, through Caddy: %d, want Frontdesk's 422", resp.StatusCode)
	}

	var codes []int
	for i, claimed := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/enquiries", strings.NewReader(fmt.Sprintf(
			`{"name":"Patient %c Proxy","email":"proxy%d@patient.example","treatment":"anxiety","consent":true}`, 'A'+i, i)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", claimed)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != http.StatusCreated || codes[1] != http.StatusCreated || codes[2] != http.StatusTooManyRequests {
		t.Errorf("three enquiries through Caddy from one client claiming three addresses: %v, want 201 201 429", codes)
	}
}
