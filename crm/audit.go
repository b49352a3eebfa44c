package crm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AuditEntry is one line of the accountability log: who read or changed what, and when.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  *StaffRef
	Action string // view, list, search, export, sign_in, staff_add, token_create, erase, ... (AuditActions)
	// Reference is the one enquiry concerned, if any.
	Reference string
	// References are further enquiries concerned: those a list, board or search showed.
	References []string
	Detail     string
	// Hash is the entry's link in the chain (set by the store): see ChainHash.
	Hash string
}

// Refs is every reference the entry concerns, Reference first.
func (e AuditEntry) Refs() []string {
	if e.Reference == "" {
		return e.References
	}
	return append([]string{e.Reference}, e.References...)
}

// AuditActions are the actions the audit log records, with the label the audit page shows for each.
var AuditActions = []struct{ Action, Label string }{
	{"view", "Enquiry viewed"},
	{AuditScreeningView, "Viewed screening answers"},
	{"list", "List or board viewed"},
	{"search", "Search"},
	{"export", "Export"},
	{"subject_access", "Subject access request"},
	{"erase", "Erasure"},
	{"retention", "Retention run"},
	{"sign_in", "Signed in"},
	{"sign_in_failed", "Sign-in failed"},
	{"sign_out", "Signed out"},
	{"2fa_enrol", "Second factor enrolled"},
	{"2fa_reset", "Second factor reset"},
	{"recovery_code_used", "Recovery code used"},
	{"recovery_codes_new", "Recovery codes replaced"},
	{"password_change", "Password changed"},
	{"password_reset_request", "Password reset requested"},
	{"password_reset", "Password reset"},
	{"session_end", "Session ended"},
	{"staff_add", "Account added"},
	{"staff_update", "Account changed"},
	{"token_create", "API token created"},
	{"token_revoke", "API token revoked"},
	{"outbox_retry", "Email queued again"},
	{"undo_move", "Move undone"},
}

// AuditActionLabel is the readable name of an action (the action itself when it has none).
func AuditActionLabel(action string) string {
	for _, a := range AuditActions {
		if a.Action == action {
			return a.Label
		}
	}
	return action
}

// ChainHash is the hash that seals entry e after the entry whose hash is prev ("" for the first entry): the
// hex SHA-256 of prev and of e's ID, time, actor, action, references and detail. Changing any of them, or
// removing an entry, breaks the chain from there on; VerifyAudit finds where.
func ChainHash(prev string, e AuditEntry) string {
	var actor int64
	if e.Actor != nil {
		actor = e.Actor.ID
	}
	h := sha256.New()
	for _, part := range []string{
		"frontdesk-audit-v1", prev, strconv.FormatInt(e.ID, 10), strconv.FormatInt(e.At.UnixMilli(), 10),
		strconv.FormatInt(actor, 10), e.Action, strings.Join(e.Refs(), " "), e.Detail,
	} {
		// Each part is length-prefixed, so no two different entries hash the same text.
		fmt.Fprintf(h, "%d:%s\n", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	ActorID   int64
	Reference string
	Action    string
	Cursor    string
	Limit     int
}

// AuditStore keeps the accountability log.
type AuditStore interface {
	// RecordAudit appends an entry, sealed into the hash chain, in a write transaction of its own. Changes
	// that are audited write their entry in their own transaction instead (the stores do it).
	RecordAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns one page of entries, newest first, and the cursor of the next page; a malformed
	// cursor is an InputError naming "cursor".
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, string, error)
	// WalkAudit calls fn with every entry, oldest first, with Hash as stored, until fn returns an error
	// (which WalkAudit returns).
	WalkAudit(ctx context.Context, fn func(AuditEntry) error) error
}

// AuditBrokenError says where the audit chain was found broken: the first entry changed, or the entry after
// a removed one.
type AuditBrokenError struct {
	ID     int64
	Reason string
}

func (e *AuditBrokenError) Error() string {
	return fmt.Sprintf("audit entry %d: %s", e.ID, e.Reason)
}

// VerifyAudit walks the whole audit log and checks every link of the chain. It returns how many entries it
// checked, and an *AuditBrokenError naming the first entry that was changed (or that follows a removed
// one) when the chain is broken.
func VerifyAudit(ctx context.Context, store AuditStore) (int, error) {
	chain, err := VerifyAuditChain(ctx, store)
	return chain.Entries, err
}

// AuditChain is what a verification found: how many entries are intact, and the last one's ID and hash.
// Kept off the server, the last hash proves later that no entry was removed from the end of the log: the chain
// alone cannot show that (see docs/security.md).
type AuditChain struct {
	Entries  int
	LastID   int64
	LastHash string
	// seen are the hashes asked for that the walk met.
	seen map[string]bool
}

// Includes reports whether the walk met an entry with that hash (one of those given to VerifyAuditChain).
func (c AuditChain) Includes(hash string) bool { return c.seen[hash] }

// VerifyAuditChain is VerifyAudit, returning the chain's head too, and noting which of the hashes in want it
// met on the way (AuditChain.Includes).
func VerifyAuditChain(ctx context.Context, store AuditStore, want ...string) (AuditChain, error) {
	chain := AuditChain{seen: map[string]bool{}}
	wanted := map[string]bool{}
	for _, h := range want {
		wanted[strings.ToLower(strings.TrimSpace(h))] = true
	}
	n, prev, prevID := 0, "", int64(0)
	err := store.WalkAudit(ctx, func(e AuditEntry) error {
		switch {
		case n > 0 && e.ID != prevID+1:
			return &AuditBrokenError{ID: e.ID, Reason: fmt.Sprintf("entries %d to %d were removed", prevID+1, e.ID-1)}
		case n == 0 && e.ID != 1:
			return &AuditBrokenError{ID: e.ID, Reason: fmt.Sprintf("entries 1 to %d were removed", e.ID-1)}
		case e.Hash != ChainHash(prev, e):
			return &AuditBrokenError{ID: e.ID, Reason: "changed after it was written (its hash does not match its content)"}
		}
		n++
		prev, prevID = e.Hash, e.ID
		if wanted[e.Hash] {
			chain.seen[e.Hash] = true
		}
		return nil
	})
	chain.Entries, chain.LastID, chain.LastHash = n, prevID, prev
	return chain, err
}
