package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestBackupIsServedWithEveryEnquiry: the restore the README describes. Enquiries arrive through a running
// serve, `frontdesk backup` copies the live database meanwhile, and a fresh serve on the backup file (as if
// the server had been lost) answers every reference through the staff API with the token made before.
func TestBackupIsServedWithEveryEnquiry(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	dir := t.TempDir()
	env := []string{"FRONTDESK_DB=" + filepath.Join(dir, "live", "frontdesk.db"), "FRONTDESK_MAIL_DIR=" + filepath.Join(dir, "mail")}
	token := adminToken(t, env, "restore test")

	live := startServer(t, env...)
	var refs []string
	for i := range 12 {
		body := fmt.Sprintf(`{"name":"Patient %c Example","email":"p%d@patient.example","treatment":"anxiety","consent":true}`, 'A'+i, i)
		resp, err := http.Post(live.url("/api/v1/enquiries"), "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("enquiry %d: %v %v", i, resp, err)
		}
		var v struct{ Reference string }
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err != nil || v.Reference == "" {
			t.Fatalf("enquiry %d: %v", i, err)
		}
		refs = append(refs, v.Reference)
	}
	backup := filepath.Join(dir, "restored", "frontdesk.db")
	if err := os.Mkdir(filepath.Dir(backup), 0o700); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "", env, "backup", "--out", backup); code != 0 {
		t.Fatalf("backup while serving: %d %s", code, stderr)
	}
	live.stop(t, syscall.SIGTERM, 25*time.Second)
	if err := os.RemoveAll(filepath.Join(dir, "live")); err != nil { // the server is lost
		t.Fatal(err)
	}

	restored := startServer(t, "FRONTDESK_DB="+backup, "FRONTDESK_MAIL_DIR="+filepath.Join(dir, "mail2"))
	for _, ref := range refs {
		e := apiGet(t, restored.url(""), token, "/api/v1/enquiries/"+ref).(map[string]any)
		if e["reference"] != ref || e["status"] != "new" {
			t.Errorf("restored %s: %v", ref, e)
		}
	}
	list := apiGet(t, restored.url(""), token, "/api/v1/enquiries?limit=100").(map[string]any)
	if n := len(list["items"].([]any)); n != len(refs) {
		t.Errorf("the restored database lists %d enquiries, want %d", n, len(refs))
	}
}

// TestDeploymentRecipes: the files in docs/ that the README shows. litestream.yml parses and replicates the
// database file the README and the systemd unit name, through the socket Frontdesk is told of (Litestream itself
// runs it in TestLitestreamRecipe); the unit has its dedicated user, environment file, restart rule and hardening, and systemd accepts
// it when systemd-analyze is there; the Caddyfile proxies to Frontdesk's default address.
func TestDeploymentRecipes(t *testing.T) {
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", path))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	readme, unit, caddy := read("README.md"), read("docs/deploy/frontdesk.service"), read("docs/deploy/Caddyfile")
	const dbPath = "/var/lib/frontdesk/frontdesk.db"

	var ls struct {
		Socket struct {
			Enabled bool
			Path    string
		}
		Snapshot struct{ Retention string }
		DBs      []struct {
			Path    string
			Replica map[string]any
		}
	}
	raw := read("docs/litestream.yml")
	if err := yaml.Unmarshal([]byte(raw), &ls); err != nil {
		t.Fatalf("litestream.yml: %v", err)
	}
	if len(ls.DBs) != 1 || ls.DBs[0].Path != dbPath || ls.DBs[0].Replica["type"] != "file" {
		t.Errorf("litestream.yml: %+v, want %s replicated to a folder", ls, dbPath)
	}
	if !strings.Contains(raw, "# type: s3") {
		t.Error("litestream.yml lacks the S3-compatible variant")
	}
	if ls.Snapshot.Retention == "" {
		t.Error("litestream.yml leaves the replica's history to Litestream's default retention")
	}
	// Erasures pause Litestream through its socket: the recipe opens it where the override makes a folder for
	// it, and the README sets FRONTDESK_LITESTREAM_SOCKET to it.
	override := read("docs/deploy/litestream-override.conf")
	if !ls.Socket.Enabled || ls.Socket.Path != "/run/litestream/litestream.sock" ||
		!strings.Contains(override, "\nRuntimeDirectory=litestream\n") || !strings.Contains(override, "\nUser=frontdesk\n") {
		t.Errorf("litestream.yml's socket %+v is not in the folder docs/deploy/litestream-override.conf makes, or Litestream would not run as frontdesk", ls.Socket)
	}
	for _, want := range []string{"FRONTDESK_DB=" + dbPath, "docs/litestream.yml", "docs/deploy/litestream-override.conf",
		"FRONTDESK_LITESTREAM_SOCKET=" + ls.Socket.Path} {
		if !strings.Contains(readme, want) {
			t.Errorf("the README does not say %s", want)
		}
	}

	for _, line := range []string{"User=frontdesk", "EnvironmentFile=/etc/frontdesk/frontdesk.env",
		"ExecStart=/usr/local/bin/frontdesk serve", "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"PrivateTmp=yes", "ProtectHome=yes", "StateDirectory=frontdesk", "UMask=0077"} {
		if !strings.Contains(unit, "\n"+line+"\n") {
			t.Errorf("frontdesk.service lacks %s", line)
		}
	}
	if !strings.Contains(readme, "EnvironmentFile=/etc/frontdesk/frontdesk.env") || !strings.Contains(readme, "docs/deploy/frontdesk.service") {
		t.Error("the README does not show the unit's environment file or point to docs/deploy/frontdesk.service")
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		dir := t.TempDir()
		f := filepath.Join(dir, "frontdesk.service")
		os.WriteFile(f, []byte(strings.Replace(unit, "/usr/local/bin/frontdesk serve", frontdeskBinary(t)+" serve", 1)), 0o600)
		if out, err := exec.Command(sa, "verify", f).CombinedOutput(); err != nil || strings.Contains(string(out), "frontdesk.service:") {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	}

	if !strings.Contains(caddy, "reverse_proxy 127.0.0.1:8080") || !strings.Contains(readme, "docs/deploy/Caddyfile") {
		t.Error("the Caddyfile does not proxy to 127.0.0.1:8080, or the README does not point to it")
	}
	// The README shows the Caddyfile as it is, comments left out (TestCaddyfileProxiesToFrontdesk runs it).
	var shown []string
	for _, line := range strings.Split(caddy, "\n") {
		if trimmed := strings.TrimSpace(line); trimmed != "" && !strings.HasPrefix(trimmed, "#") {
			shown = append(shown, "  "+line)
		}
	}
	if block := "  ```caddyfile\n" + strings.Join(shown, "\n") + "\n  ```\n"; !strings.Contains(readme, block) {
		t.Errorf("the README's Caddyfile is not docs/deploy/Caddyfile without its comments:\n%s", block)
	}
}
