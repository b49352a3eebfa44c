package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// PocketBase is the second ceiling of the intake figure: the Go and SQLite backend small teams pick for form
// submissions, serving a public collection with the enquiry's fields. The bench builds its example binary from
// the Go module proxy (the newest version that builds with the installed Go: v0.40 needs Go 1.27) and makes the
// collection through its API at the start of the run. PocketBase keeps SQLite at synchronous=NORMAL and writes a
// record without a timeline, outbox or search index: a ceiling for the HTTP and storage stack, not a clinic's
// intake.
const pocketbaseModule = "github.com/pocketbase/pocketbase/examples/base@v0.36.8"

// pocketbasePath is where a record of the collection is created; PocketBase answers 200.
const pocketbasePath = "/api/collections/enquiries/records"

// buildPocketBase installs PocketBase's example server into out/bin and returns its path.
func buildPocketBase(out string) (string, error) {
	bin, err := filepath.Abs(filepath.Join(out, "bin"))
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "install", pocketbaseModule)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build PocketBase (%s): %v\n%s", pocketbaseModule, err, msg)
	}
	return filepath.Join(bin, "base"), nil
}

// pocketbaseFields are the collection's fields: every field of a Frontdesk enquiry body, so that PocketBase
// stores what Frontdesk stores. A text field holds up to 5,000 characters by default, as a message may.
var pocketbaseFields = []map[string]any{
	{"name": "name", "type": "text", "required": true},
	{"name": "email", "type": "email", "required": true},
	{"name": "phone", "type": "text"},
	{"name": "preferred_contact", "type": "text"},
	{"name": "treatment", "type": "text", "required": true},
	{"name": "message", "type": "text"},
	{"name": "date_of_birth", "type": "text"},
	{"name": "referral_source", "type": "text"},
	{"name": "consent", "type": "bool"},
	{"name": "website", "type": "text"},
	{"name": "utm_source", "type": "text"},
	{"name": "utm_medium", "type": "text"},
	{"name": "utm_campaign", "type": "text"},
}

// pbCall posts body as JSON to base+path with token (when set) and decodes the answer into out.
func pbCall(base, path, token string, body, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var msg bytes.Buffer
		_, _ = msg.ReadFrom(resp.Body)
		return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, msg.String())
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// pocketbaseIntake starts PocketBase on a new data folder, makes the public enquiries collection, runs the same
// intake load as Frontdesk's against it and stops it.
func pocketbaseIntake(o options, bin string, bodies [][]byte) (intakeResult, error) {
	dir := filepath.Join(o.out, "pb_data")
	// examples/base writes a migration for every collection made through the API beside its data folder
	// (pb_migrations) and applies it at the next start; both go, so each run starts empty.
	migrations := filepath.Join(o.out, "pb_migrations")
	_ = os.RemoveAll(dir)
	_ = os.RemoveAll(migrations)
	defer os.RemoveAll(migrations)
	const email, password = "bench@bench.example", "bench-password-1"
	if msg, err := exec.Command(bin, "superuser", "upsert", email, password, "--dir", dir).CombinedOutput(); err != nil {
		return intakeResult{}, fmt.Errorf("PocketBase superuser: %v\n%s", err, msg)
	}
	addr, err := freeAddr()
	if err != nil {
		return intakeResult{}, err
	}
	p, err := startProc("PocketBase", bin, []string{"serve", "--http", addr, "--dir", dir,
		"--migrationsDir", migrations, "--automigrate=false"}, nil, addr)
	if err != nil {
		return intakeResult{}, err
	}
	defer p.stop(30 * time.Second)
	if _, err := p.waitReady("/api/health", 30*time.Second); err != nil {
		return intakeResult{}, err
	}
	var auth struct{ Token string }
	if err := pbCall(p.base, "/api/collections/_superusers/auth-with-password", "",
		map[string]string{"identity": email, "password": password}, &auth); err != nil {
		return intakeResult{}, err
	}
	// createRule "" lets anyone create a record, as a public enquiry form does; nobody may read them back.
	if err := pbCall(p.base, "/api/collections", auth.Token, map[string]any{
		"name": "enquiries", "type": "base", "createRule": "", "fields": pocketbaseFields}, nil); err != nil {
		return intakeResult{}, err
	}
	r := loadServer(p, pocketbasePath, http.StatusOK, bodies, o)
	_ = os.RemoveAll(dir)
	return r, nil
}
