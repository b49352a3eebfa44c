package web_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

func tokenID(t *testing.T, h *harness, label string) int64 {
	t.Helper()
	var id int64
	if err := h.raw.QueryRow(`SELECT id FROM api_tokens WHERE label = ?`, label).Scan(&id); err != nil {
		t.Fatalf("token %q: %v", label, err)
	}
	return id
}

func issue(t *testing.T, h *harness, email, label string, days int) string {
	t.Helper()
	tok, _, err := h.accounts.IssueToken(t.Context(), crm.System, email, label, days)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokensAPIListsAndRevokes(t *testing.T) {
	t.Parallel() // its own database, server (and browser): independent of the other tests
	h := newHarness(t, nil)
	h.addStaff("admin@clinic.example", crm.RoleAdmin)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	h.addStaff("clin@clinic.example", crm.RoleClinician)
	script := issue(t, h, "coord@clinic.example", "script", 0)
	laptop := issue(t, h, "coord@clinic.example", "laptop", 7)
	clin := issue(t, h, "clin@clinic.example", "clin-tool", 0)
	admin := issue(t, h, "admin@clinic.example", "admin-tool", 0)

	resp := h.apiCall(http.MethodGet, "/api/v1/tokens", script, "")
	raw := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/tokens: %d %s", resp.StatusCode, raw)
	}
	if strings.Contains(raw, script) || strings.Contains(raw, laptop) || strings.Contains(raw, crm.TokenHash(script)) {
		t.Error("the token list shows a token or its hash")
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 2 || list.Items[0]["label"] != "laptop" || list.Items[1]["label"] != "script" {
		t.Fatalf("own tokens: %s", raw)
	}
	for _, key := range []string{"id", "label", "created_at", "last_used_at", "expires_at", "revoked_at"} {
		if _, ok := list.Items[0][key]; !ok {
			t.Errorf("a token has no %q: %s", key, raw)
		}
	}
	if list.Items[0]["revoked_at"] != nil || list.Items[0]["expires_at"] == "" {
		t.Errorf("laptop token: %v", list.Items[0])
	}

	del := func(token string, id any) int {
		t.Helper()
		return h.apiCall(http.MethodDelete, "/api/v1/tokens/"+toString(id), token, "").StatusCode
	}
	laptopID, clinID, adminID := tokenID(t, h, "laptop"), tokenID(t, h, "clin-tool"), tokenID(t, h, "admin-tool")
	// Someone else's token, for anyone but an administrator, is as if it did not exist; unknown is 404 too.
	if code := del(clin, laptopID); code != http.StatusNotFound {
		t.Errorf("a clinician revoking a coordinator's token: %d, want 404", code)
	}
	if code := del(script, adminID); code != http.StatusNotFound {
		t.Errorf("a coordinator revoking an administrator's token: %d, want 404", code)
	}
	if code := del(script, 99999); code != http.StatusNotFound {
		t.Errorf("unknown token: %d, want 404", code)
	}
	if code := del(script, "abc"); code != http.StatusBadRequest {
		t.Errorf("malformed ID: %d, want 400", code)
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", laptop, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("a refused revocation revoked the token: %d", resp.StatusCode)
	}
	// Own token: 204, and it stops working at once.
	if code := del(script, laptopID); code != http.StatusNoContent {
		t.Errorf("revoking own token: %d, want 204", code)
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", laptop, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", resp.StatusCode)
	}
	// An administrator may revoke anyone's.
	if code := del(admin, clinID); code != http.StatusNoContent {
		t.Errorf("an administrator revoking a clinician's token: %d, want 204", code)
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", clin, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token revoked by an administrator: %d, want 401", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'token_revoke'`); n != 2 {
		t.Errorf("%d token_revoke audit entries, want 2", n)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'token_create'`); n != 4 {
		t.Errorf("%d token_create audit entries, want 4", n)
	}
}

func toString(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	}
	return v.(string)
}

func TestAnExpiredTokenIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	h.addStaff("coord@clinic.example", crm.RoleCoordinator)
	token := issue(t, h, "coord@clinic.example", "short-lived", 1)
	if n := h.count(`SELECT count(*) FROM api_tokens WHERE expires_at - created_at = 86400000`); n != 1 {
		t.Fatal("a token made for 1 day does not expire a day after it was made")
	}
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", token, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh token: %d", resp.StatusCode)
	}
	h.exec(`UPDATE api_tokens SET expires_at = created_at - 1`)
	if resp := h.apiCall(http.MethodGet, "/api/v1/enquiries", token, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired token: %d, want 401", resp.StatusCode)
	}
}
