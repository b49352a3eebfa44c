package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// litestreamBinary is the Litestream that make test builds at the version docs/litestream.yml names
// (FRONTDESK_TEST_LITESTREAM), or one on PATH. Without either the test is skipped on a laptop and fails in CI.
func litestreamBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FRONTDESK_TEST_LITESTREAM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("FRONTDESK_TEST_LITESTREAM: %v", err)
		}
		return p
	}
	if p, err := exec.LookPath("litestream"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no litestream binary: make test builds one and names it in FRONTDESK_TEST_LITESTREAM")
	}
	t.Skip("no litestream binary: make test builds one")
	return ""
}

// TestLitestreamRecipe: docs/litestream.yml as the README has a clinic use it, with a real Litestream beside a
// real serve. Enquiries arrive while Litestream replicates; one is erased with `frontdesk erase`, which must
// finish (through the control socket the recipe opens, FRONTDESK_LITESTREAM_SOCKET) and leave no byte of the
// patient in the database or its WAL; more enquiries arrive after it, so replication must have resumed. Then
// the server is lost, `litestream restore` (the README's command) rebuilds the file from the replica, and a fresh
// serve on it answers every reference, with nothing of the erased patient in the restored file.
func TestLitestreamRecipe(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := litestreamBinary(t)
	dir := t.TempDir()
	live := filepath.Join(dir, "live", "frontdesk.db")
	socket := filepath.Join(dir, "litestream.sock")
	recipe, err := os.ReadFile(filepath.Join("..", "..", "docs", "litestream.yml"))
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{"/var/lib/frontdesk/frontdesk.db": live,
		"/var/backups/frontdesk/litestream": filepath.Join(dir, "replica"), "/run/litestream/litestream.sock": socket}
	cfgText := string(recipe)
	for from, to := range paths {
		if !strings.Contains(cfgText, from) {
			t.Fatalf("docs/litestream.yml no longer names %s", from)
		}
		cfgText = strings.ReplaceAll(cfgText, from, to)
	}
	cfg := filepath.Join(dir, "litestream.yml")
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}

	env := []string{"FRONTDESK_DB=" + live, "FRONTDESK_MAIL_DIR=" + filepath.Join(dir, "mail"), "FRONTDESK_LITESTREAM_SOCKET=" + socket}
	token := adminToken(t, env, "litestream test")

	srv := startServer(t, env...)
	var lsLog bytes.Buffer
	ls := exec.Command(bin, "replicate", "-config", cfg)
	ls.Stdout, ls.Stderr = &lsLog, &lsLog
	if err := ls.Start(); err != nil {
		t.Fatal(err)
	}
	lsDone := make(chan error, 1)
	go func() { lsDone <- ls.Wait() }()
	t.Cleanup(func() {
		ls.Process.Kill()
		<-lsDone
		if t.Failed() {
			t.Logf("litestream:\n%s", lsLog.String())
		}
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("litestream opened no control socket:\n%s", lsLog.String())
		}
	}

	names := map[string]string{}
	enquire := func(name, email string) string {
		t.Helper()
		body := fmt.Sprintf(`{"name":%q,"email":%q,"treatment":"depression","consent":true}`, name, email)
		resp, err := http.Post(srv.url("/api/v1/enquiries"), "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("enquiry from %s: %v %v", name, resp, err)
		}
		defer resp.Body.Close()
		var v struct{ Reference string }
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Reference == "" {
			t.Fatalf("enquiry from %s: %v", name, err)
		}
		names[v.Reference] = name
		return v.Reference
	}
	for i := range 6 {
		enquire(fmt.Sprintf("Patient %c Before", 'A'+i), fmt.Sprintf("before%d@patient.example", i))
	}
	erased := enquire("Zebedee Quillfeather", "zebedee.quillfeather@patient.example")
	time.Sleep(1500 * time.Millisecond) // a sync or so: the patient reaches the replica's history, as in life

	start := time.Now()
	if code, out, stderr := runCLI(t, "", env, "erase", "--ref", erased); code != 0 {
		t.Fatalf("erase while Litestream replicates: exit %d after %v\n%s%s", code, time.Since(start), out, stderr)
	}
	t.Logf("erase took %v", time.Since(start).Round(time.Millisecond))
	names[erased] = "(erased)"
	for i := range 4 {
		enquire(fmt.Sprintf("Patient %c After", 'A'+i), fmt.Sprintf("after%d@patient.example", i))
	}
	for _, needle := range []string{"Quillfeather", "zebedee.quillfeather@patient.example"} {
		if hits := filesHolding(t, needle, live, live+"-wal"); len(hits) > 0 {
			t.Errorf("after the erasure %q is still in %v", needle, hits)
		}
	}

	// Replication goes on after the erasure: within seconds the replica holds the enquiries made since.
	restore := func(to string) {
		t.Helper()
		if out, err := exec.Command(bin, "restore", "-config", cfg, "-o", to, live).CombinedOutput(); err != nil {
			t.Fatalf("litestream restore: %v\n%s", err, out)
		}
	}
	for deadline, i := time.Now().Add(30*time.Second), 0; ; i++ {
		probe := filepath.Join(dir, fmt.Sprintf("probe%d.db", i))
		restore(probe)
		if n := countIn(t, probe, `SELECT count(*) FROM enquiries`); n == len(names) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("30 s after the erasure the replica holds %d enquiries of %d: replication did not resume\n%s",
				n, len(names), lsLog.String())
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The server is lost: serve and Litestream stop, the folder goes.
	srv.stop(t, syscall.SIGTERM, 25*time.Second)
	ls.Process.Kill()
	if err := os.RemoveAll(filepath.Dir(live)); err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(dir, "restored", "frontdesk.db")
	if err := os.Mkdir(filepath.Dir(restored), 0o700); err != nil {
		t.Fatal(err)
	}
	restore(restored)
	for _, needle := range []string{"Quillfeather", "zebedee.quillfeather@patient.example"} {
		if hits := filesHolding(t, needle, restored); len(hits) > 0 {
			t.Errorf("the restored database holds the erased %q", needle)
		}
	}
	back := startServer(t, "FRONTDESK_DB="+restored, "FRONTDESK_MAIL_DIR="+filepath.Join(dir, "mail2"))
	for ref, name := range names {
		e := apiGet(t, back.url(""), token, "/api/v1/enquiries/"+ref).(map[string]any)
		if e["reference"] != ref || e["name"] != name {
			t.Errorf("restored %s: %v, want %s", ref, e, name)
		}
	}
	list := apiGet(t, back.url(""), token, "/api/v1/enquiries?limit=100").(map[string]any)
	if n := len(list["items"].([]any)); n != len(names) {
		t.Errorf("the restored database lists %d enquiries, want %d", n, len(names))
	}
}

// TestLitestreamSocketSetting: FRONTDESK_LITESTREAM_SOCKET is an absolute path (Litestream need not listen yet: it
// may start after Frontdesk), and only with a SQLite database; anything else stops the command with status 2 and
// one line naming the setting.
func TestLitestreamSocketSetting(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, _, err := loadConfig(fs, nil, func(k string) string {
		return map[string]string{"FRONTDESK_LITESTREAM_SOCKET": " /run/litestream/litestream.sock "}[k]
	}, true)
	if err != nil || c.LitestreamSocket != "/run/litestream/litestream.sock" {
		t.Fatalf("%+v %v", c, err)
	}
	for _, tc := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"serve"}, map[string]string{"FRONTDESK_LITESTREAM_SOCKET": "litestream.sock"}, "FRONTDESK_LITESTREAM_SOCKET"},
		{[]string{"erase", "--ref", "ABCD-EFGH"}, map[string]string{"FRONTDESK_LITESTREAM_SOCKET": "run/litestream.sock"}, "FRONTDESK_LITESTREAM_SOCKET"},
		{[]string{"serve", "--litestream-socket", "./litestream.sock"}, nil, "--litestream-socket"},
		{[]string{"serve"}, map[string]string{"FRONTDESK_LITESTREAM_SOCKET": "/run/litestream/litestream.sock",
			"FRONTDESK_DB": "postgres://frontdesk@localhost/frontdesk"}, "FRONTDESK_LITESTREAM_SOCKET"},
	} {
		code, _, stderr := runInProcess(tc.args, tc.vars)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v %v: exit %d, stderr %q; want 2 and one line naming %s", tc.args, tc.vars, code, stderr, tc.want)
		}
	}
}
