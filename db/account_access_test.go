package db

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// signedIn records a live session of the account under key, with its session data saved as Fiber would.
func signedIn(t *testing.T, d *DB, staffID int64, key string, at time.Time) int64 {
	t.Helper()
	id, err := d.StartStaffSession(context.Background(), crm.StaffSession{StaffID: staffID, Key: key, CreatedAt: at,
		LastSeenAt: at, ClientIP: "192.0.2.1", UserAgent: "Firefox"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sessions().Set(key, []byte("data of "+key), time.Hour); err != nil {
		t.Fatal(err)
	}
	return id
}

func audited(t *testing.T, d *DB, action string) int {
	t.Helper()
	return count(t, d, `SELECT count(*) FROM audit_log WHERE action = ?`, action)
}

func TestDisablingEndsEverySessionAndTokenInTheSameTransaction(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	now := time.Now()
	a := addStaff(t, d, "a@clinic.example", crm.RoleClinician)
	b := addStaff(t, d, "b@clinic.example", crm.RoleClinician)
	signedIn(t, d, a.ID, "key-a1", now)
	signedIn(t, d, a.ID, "key-a2", now)
	signedIn(t, d, b.ID, "key-b1", now)
	for _, k := range []struct {
		staff int64
		hash  string
	}{{a.ID, "ha1"}, {a.ID, "ha2"}, {b.ID, "hb1"}} {
		if _, err := d.CreateToken(ctx, k.staff, "t", k.hash, now.Add(time.Hour), crm.StaffChange{At: now}); err != nil {
			t.Fatal(err)
		}
	}
	disable := func(role crm.Role) error {
		_, err := d.UpdateStaff(ctx, a.ID, func(s *crm.Staff) (crm.StaffChange, error) {
			s.Disabled, s.Role = true, role
			return crm.StaffChange{At: now, EndAccess: true,
				Audit: crm.AuditEntry{At: now, Action: "staff_update", Detail: "disabled"}}, nil
		})
		return err
	}

	// A change that fails (an unknown role breaks the table's CHECK) leaves everything as it was: no audit
	// entry, the sessions and tokens still work.
	if err := disable("owner"); err == nil {
		t.Fatal("an unknown role was stored")
	}
	if n := audited(t, d, "staff_update"); n != 0 {
		t.Errorf("%d audit entries for a change that failed", n)
	}
	if v, _ := d.Sessions().Get("key-a1"); v == nil {
		t.Error("a failed change ended a session")
	}
	if _, err := d.StaffByToken(ctx, "ha1", now); err != nil {
		t.Errorf("a failed change revoked a token: %v", err)
	}

	if err := disable(crm.RoleClinician); err != nil {
		t.Fatal(err)
	}
	if n := audited(t, d, "staff_update"); n != 1 {
		t.Errorf("%d audit entries, want 1", n)
	}
	for _, key := range []string{"key-a1", "key-a2"} {
		if v, _ := d.Sessions().Get(key); v != nil {
			t.Errorf("session %s still has its data", key)
		}
		if s, err := d.StaffSessionByKey(ctx, key, now); err != nil || s.EndedAt == nil {
			t.Errorf("session %s: %+v, %v; want ended", key, s, err)
		}
	}
	for _, h := range []string{"ha1", "ha2"} {
		if _, err := d.StaffByToken(ctx, h, now); !errors.Is(err, crm.ErrNotFound) {
			t.Errorf("token %s still works: %v", h, err)
		}
	}
	// The other account is untouched.
	if v, _ := d.Sessions().Get("key-b1"); v == nil {
		t.Error("another account's session was ended")
	}
	if _, err := d.StaffByToken(ctx, "hb1", now); err != nil {
		t.Errorf("another account's token: %v", err)
	}
	// Enabling again brings no token back.
	if _, err := d.UpdateStaff(ctx, a.ID, func(s *crm.Staff) (crm.StaffChange, error) {
		s.Disabled = false
		return crm.StaffChange{At: now}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.StaffByToken(ctx, "ha1", now); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("re-enabling brought a token back: %v", err)
	}
	if err := d.EndStaffAccess(ctx, 999, crm.StaffChange{At: now}); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("EndStaffAccess of nobody: %v", err)
	}
}

func TestStaffSessionsListAndEnd(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	now := time.Now()
	a := addStaff(t, d, "a@clinic.example", crm.RoleClinician)
	old := signedIn(t, d, a.ID, "key-old", now.Add(-13*time.Hour))
	one := signedIn(t, d, a.ID, "key-1", now.Add(-2*time.Hour))
	two := signedIn(t, d, a.ID, "key-2", now.Add(-time.Hour))
	three := signedIn(t, d, a.ID, "key-3", now)
	expired := signedIn(t, d, a.ID, "key-expired", now)
	if err := d.Sessions().Set("key-expired", []byte("x"), -time.Second); err != nil {
		t.Fatal(err)
	}
	list, err := d.ListStaffSessions(ctx, a.ID, now.Add(-12*time.Hour), now)
	if err != nil || len(list) != 3 || list[0].ID != three || list[1].ID != two || list[2].ID != one {
		t.Fatalf("live sessions: %+v, %v (old %d, expired %d)", list, err, old, expired)
	}
	if list[0].ClientIP != "192.0.2.1" || list[0].UserAgent != "Firefox" || list[0].Key != "key-3" {
		t.Errorf("session %+v", list[0])
	}

	// One by ID: only that one, audited.
	ch := crm.StaffChange{At: now, Audit: crm.AuditEntry{At: now, Action: "session_end"}}
	if n, err := d.EndStaffSessions(ctx, a.ID, crm.SessionFilter{ID: one}, ch); err != nil || n != 1 {
		t.Fatalf("end one: %d, %v", n, err)
	}
	if v, _ := d.Sessions().Get("key-1"); v != nil {
		t.Error("the ended session kept its data")
	}
	// Ending it again ends nothing and writes no audit entry.
	if n, err := d.EndStaffSessions(ctx, a.ID, crm.SessionFilter{ID: one}, ch); err != nil || n != 0 {
		t.Errorf("end again: %d, %v", n, err)
	}
	if n := audited(t, d, "session_end"); n != 1 {
		t.Errorf("%d session_end entries, want 1", n)
	}
	// Every other: key-3 stays.
	if n, err := d.EndStaffSessions(ctx, a.ID, crm.SessionFilter{ExceptKey: "key-3"}, ch); err != nil || n != 3 {
		t.Errorf("end others: %d, %v", n, err)
	}
	list, _ = d.ListStaffSessions(ctx, a.ID, now.Add(-12*time.Hour), now)
	if len(list) != 1 || list[0].ID != three {
		t.Errorf("after ending the others: %+v", list)
	}
	// By key (sign-out).
	if n, err := d.EndStaffSessions(ctx, a.ID, crm.SessionFilter{Key: "key-3"}, crm.StaffChange{At: now}); err != nil || n != 1 {
		t.Errorf("sign out: %d, %v", n, err)
	}

	// The records of sessions gone for a day are purged, fresh ones are kept.
	stale := signedIn(t, d, a.ID, "key-stale", now.Add(-25*time.Hour))
	if err := d.Sessions().Delete("key-stale"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.PurgeExpiredSessions(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, `SELECT count(*) FROM staff_sessions WHERE id = ?`, stale); n != 0 {
		t.Error("a stale session record was kept")
	}
	if n := count(t, d, `SELECT count(*) FROM staff_sessions WHERE id = ?`, three); n != 1 {
		t.Error("a recent session record was purged")
	}
}

func TestPasswordResetIsUsedOnce(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	now := time.Now()
	a := addStaff(t, d, "a@clinic.example", crm.RoleClinician)
	signedIn(t, d, a.ID, "key-a", now)
	if _, err := d.CreateToken(ctx, a.ID, "t", "ha", now.Add(time.Hour), crm.StaffChange{At: now}); err != nil {
		t.Fatal(err)
	}
	request := func(hash, token string, at time.Time) {
		t.Helper()
		r := crm.PasswordReset{StaffID: a.ID, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		err := d.CreatePasswordReset(ctx, r, hash, token, a.Email,
			crm.StaffChange{At: at, Audit: crm.AuditEntry{At: at, Action: "password_reset_request"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	request("hash-1", "token-1", now)
	request("hash-2", "token-2", now.Add(time.Second))
	request("hash-old", "token-old", now.Add(-2*time.Hour))
	if n := audited(t, d, "password_reset_request"); n != 3 {
		t.Errorf("%d requests audited", n)
	}
	if n, _ := d.CountPasswordResets(ctx, a.ID, now.Add(-time.Hour)); n != 2 {
		t.Errorf("CountPasswordResets = %d, want 2", n)
	}
	// The email carries the token; only the hash is in password_resets.
	msgs, err := d.ClaimDue(ctx, now.Add(time.Minute), time.Minute, 10)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("claim: %+v, %v", msgs, err)
	}
	if m := msgs[1]; m.Kind != crm.MailPasswordReset || m.LinkToken != "token-1" || m.Recipient != a.Email || m.Enquiry.Reference != "" {
		t.Errorf("claimed %+v", m)
	}
	if n := count(t, d, `SELECT count(*) FROM password_resets WHERE token_hash LIKE 'token%'`); n != 0 {
		t.Error("a token was stored in clear in password_resets")
	}
	if err := d.MarkSent(ctx, msgs[1].ID, now); err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, `SELECT count(*) FROM outbox WHERE id = ? AND link_token IS NULL`, msgs[1].ID); n != 1 {
		t.Error("the token was kept after the email was sent")
	}

	r, err := d.PasswordResetByHash(ctx, "hash-1")
	if err != nil || r.StaffID != a.ID || r.UsedAt != nil || !r.Usable(now) {
		t.Fatalf("PasswordResetByHash: %+v, %v", r, err)
	}
	use := func(id int64, at time.Time) error {
		return d.UsePasswordReset(ctx, id, "new-hash", crm.StaffChange{At: at, EndAccess: true,
			Audit: crm.AuditEntry{At: at, Action: "password_reset"}})
	}
	old, _ := d.PasswordResetByHash(ctx, "hash-old")
	if err := use(old.ID, now); !errors.Is(err, crm.ErrLinkExpired) {
		t.Errorf("expired link: %v", err)
	}
	if err := use(r.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, hash, _ := d.StaffByEmail(ctx, a.Email); hash != "new-hash" {
		t.Errorf("password hash %q", hash)
	}
	if v, _ := d.Sessions().Get("key-a"); v != nil {
		t.Error("the reset left a session signed in")
	}
	if _, err := d.StaffByToken(ctx, "ha", now); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("the reset left a token working: %v", err)
	}
	if n := audited(t, d, "password_reset"); n != 1 {
		t.Errorf("%d resets audited", n)
	}
	// Used once: neither it nor the other link of the account works any more, and the unsent email of the
	// other link forgets its token.
	if err := use(r.ID, now); !errors.Is(err, crm.ErrLinkExpired) {
		t.Errorf("second use: %v", err)
	}
	second, _ := d.PasswordResetByHash(ctx, "hash-2")
	if second.UsedAt == nil {
		t.Error("the other link of the account still works")
	}
	if n := count(t, d, `SELECT count(*) FROM outbox WHERE link_token IS NOT NULL`); n != 0 {
		t.Errorf("%d emails still carry a token", n)
	}
	if n := audited(t, d, "password_reset"); n != 1 {
		t.Errorf("refused uses were audited: %d entries", n)
	}
	if _, err := d.PasswordResetByHash(ctx, "hash-none"); !errors.Is(err, crm.ErrNotFound) {
		t.Errorf("unknown link: %v", err)
	}
}
