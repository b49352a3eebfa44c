package crm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db"
	"github.com/frontdesk/frontdesk/intake"
)

// world is a clinic on a real database: three accounts of each kind and enquiries owned by each.
type world struct {
	t        *testing.T
	db       *db.DB
	ws       *crm.Workspace
	accounts *crm.Accounts
	intake   *crm.IntakeService
	admin    crm.Actor
	coord    crm.Actor
	clin     crm.Actor // the clinician under test
	other    crm.Actor // another clinician
	now      time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	d, err := db.Open(filepath.Join(t.TempDir(), "f.db"), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &world{t: t, db: d, now: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	w.accounts = crm.NewAccounts(d, d, log)
	w.ws = crm.NewWorkspace(d, d, d, crm.WorkspaceConfig{FirstContact: 24 * time.Hour, IntakeInbox: "intake@clinic.example", Location: time.UTC}, log)
	w.intake = crm.NewIntakeService(d, intake.NewValidator(nil, time.UTC), "intake@clinic.example", log)
	mk := func(email string, role crm.Role, treatments ...string) crm.Actor {
		s, err := w.accounts.Create(context.Background(), crm.System, crm.NewStaff{Email: email, Name: strings.Split(email, "@")[0],
			Role: role, Treatments: treatments, Password: "correct horse battery staple"})
		if err != nil {
			t.Fatal(err)
		}
		return crm.Actor{ID: s.ID, Email: s.Email, Name: s.Name, Role: s.Role}
	}
	w.admin = mk("admin@clinic.example", crm.RoleAdmin)
	w.coord = mk("coord@clinic.example", crm.RoleCoordinator)
	w.clin = mk("clin@clinic.example", crm.RoleClinician)
	w.other = mk("other@clinic.example", crm.RoleClinician)
	return w
}

// enquiry submits an enquiry and gives it to assignee (nil: unassigned), returning its reference.
func (w *world) enquiry(assignee *crm.Actor) string {
	w.t.Helper()
	rec, err := w.intake.Submit(context.Background(), intake.Submission{Name: "Pat Example", Email: fmt.Sprintf("pat%d@example.org", time.Now().UnixNano()),
		Treatment: "other", Consent: true}, "")
	if err != nil {
		w.t.Fatal(err)
	}
	if assignee != nil {
		if _, err := w.ws.Assign(context.Background(), w.admin, rec.Reference, assignee.Email, 0); err != nil {
			w.t.Fatal(err)
		}
	}
	return rec.Reference
}

// outcome classifies an error as the HTTP layer would answer it.
func outcome(err error) string {
	var ie crm.InputError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, crm.ErrNotFound):
		return "404"
	case errors.Is(err, crm.ErrForbidden):
		return "403"
	case errors.Is(err, crm.ErrTransitionNotAllowed):
		return "409"
	case errors.As(err, &ie):
		return "422"
	}
	return "error: " + err.Error()
}

// TestRoleMatrix checks each role × each action × whose enquiry, against the roles the README gives.
func TestRoleMatrix(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	type action struct {
		name string
		do   func(a crm.Actor, ref string) error
	}
	actions := []action{
		{"view", func(a crm.Actor, ref string) error { _, err := w.ws.Get(ctx, a, ref); return err }},
		{"detail", func(a crm.Actor, ref string) error { _, err := w.ws.Detail(ctx, a, ref); return err }},
		{"timeline", func(a crm.Actor, ref string) error { _, err := w.ws.Timeline(ctx, a, ref); return err }},
		{"move", func(a crm.Actor, ref string) error {
			_, err := w.ws.Transition(ctx, a, ref, crm.StatusContacted, "", 0)
			return err
		}},
		{"note", func(a crm.Actor, ref string) error {
			_, err := w.ws.AddNote(ctx, a, ref, "Called, left a message.")
			return err
		}},
		{"priority", func(a crm.Actor, ref string) error { _, err := w.ws.SetPriority(ctx, a, ref, "high", 0); return err }},
		{"take for self", func(a crm.Actor, ref string) error { _, err := w.ws.Assign(ctx, a, ref, a.Email, 0); return err }},
		{"assign another", func(a crm.Actor, ref string) error {
			_, err := w.ws.Assign(ctx, a, ref, "coord@clinic.example", 0)
			return err
		}},
		{"unassign", func(a crm.Actor, ref string) error { _, err := w.ws.Assign(ctx, a, ref, "", 0); return err }},
	}
	// want[role][whose] is the outcome of every action, except where overridden by name.
	type expect struct {
		all       string
		overrides map[string]string
	}
	cases := []struct {
		actorName string
		actor     crm.Actor
		whose     string
		want      expect
	}{
		{"admin", w.admin, "own clinician's", expect{all: "ok"}},
		{"admin", w.admin, "unassigned", expect{all: "ok"}},
		{"coordinator", w.coord, "a clinician's", expect{all: "ok"}},
		{"coordinator", w.coord, "unassigned", expect{all: "ok"}},
		{"clinician", w.clin, "their own", expect{all: "ok", overrides: map[string]string{"assign another": "403", "unassign": "403"}}},
		{"clinician", w.clin, "unassigned", expect{all: "ok", overrides: map[string]string{"assign another": "403", "unassign": "403"}}},
		{"clinician", w.clin, "another clinician's", expect{all: "404"}},
	}
	for _, tc := range cases {
		for _, act := range actions {
			var ref string
			switch tc.whose {
			case "their own", "own clinician's", "a clinician's":
				ref = w.enquiry(&w.clin)
			case "another clinician's":
				ref = w.enquiry(&w.other)
			default:
				ref = w.enquiry(nil)
			}
			want := tc.want.all
			if o, ok := tc.want.overrides[act.name]; ok {
				want = o
			}
			if got := outcome(act.do(tc.actor, ref)); got != want {
				t.Errorf("%s × %s × %s enquiry: got %s, want %s", tc.actorName, act.name, tc.whose, got, want)
			}
		}
	}
}

func TestRoleMatrixForAdministration(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, tc := range []struct {
		actor crm.Actor
		want  string
	}{{w.admin, "ok"}, {w.coord, "403"}, {w.clin, "403"}} {
		_, err := w.accounts.List(ctx, tc.actor)
		if got := outcome(err); got != tc.want {
			t.Errorf("%s lists accounts: %s, want %s", tc.actor.Role, got, tc.want)
		}
		_, err = w.accounts.Create(ctx, tc.actor, crm.NewStaff{Email: fmt.Sprintf("new-%s@clinic.example", tc.actor.Role),
			Name: "New Person", Role: crm.RoleClinician, Password: "a long enough password"})
		if got := outcome(err); got != tc.want {
			t.Errorf("%s creates an account: %s, want %s", tc.actor.Role, got, tc.want)
		}
		_, _, err = w.ws.Audit(ctx, tc.actor, crm.AuditQuery{})
		if got := outcome(err); got != tc.want {
			t.Errorf("%s reads the audit log: %s, want %s", tc.actor.Role, got, tc.want)
		}
	}
}

func TestClinicianListSeesOwnAndUnassignedOnly(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	own, unassigned, others := w.enquiry(&w.clin), w.enquiry(nil), w.enquiry(&w.other)
	page, err := w.ws.List(ctx, w.clin, crm.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range page.Items {
		got[e.Reference] = true
	}
	if !got[own] || !got[unassigned] || got[others] || len(got) != 2 {
		t.Errorf("clinician sees %v; want only %s and %s", got, own, unassigned)
	}
	// Asking for the other clinician's enquiries by filter does not widen what they see.
	page, err = w.ws.List(ctx, w.clin, crm.ListFilter{Assignee: "other@clinic.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 0 {
		t.Errorf("filtering by another clinician shows %d enquiries", len(page.Items))
	}
	all, _ := w.ws.List(ctx, w.coord, crm.ListFilter{})
	if len(all.Items) != 3 {
		t.Errorf("coordinator sees %d enquiries, want 3", len(all.Items))
	}
}

func TestTransitionsThroughTheWorkspace(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ref := w.enquiry(nil)
	steps := []struct {
		to     crm.Status
		reason string
		want   string
	}{
		{"screening", "", "ok"},  // new → a later active status, skipping contacted
		{"contacted", "", "409"}, // backwards
		{"bogus", "", "422"},     // unknown status
		{"lost", "", "422"},      // closing needs a reason
		{"lost", "No answer after 3 calls", "ok"},
		{"screening", "", "409"}, // closed → only contacted
		{"contacted", "", "ok"},  // reopen
		{"in_treatment", "", "ok"},
		{"new", "", "409"},
	}
	for _, s := range steps {
		_, err := w.ws.Transition(ctx, w.coord, ref, s.to, s.reason, 0)
		if got := outcome(err); got != s.want {
			t.Errorf("to %s (%q): %s, want %s", s.to, s.reason, got, s.want)
		}
	}
	e, err := w.ws.Get(ctx, w.coord, ref)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != crm.StatusInTreatment || e.FirstContactedAt == nil {
		t.Errorf("status %s, first contacted %v", e.Status, e.FirstContactedAt)
	}
	events, _ := w.ws.Timeline(ctx, w.coord, ref)
	var moves []string
	for _, ev := range events {
		if ev.Kind == "status" {
			if ev.Actor == nil || ev.Actor.ID != w.coord.ID {
				t.Errorf("status event without its actor: %+v", ev)
			}
			moves = append(moves, fmt.Sprintf("%s>%s", ev.From, ev.To))
		}
	}
	if got := strings.Join(moves, " "); got != "new>screening screening>lost lost>contacted contacted>in_treatment" {
		t.Errorf("timeline moves: %s", got)
	}
}

func TestEveryViewIsAudited(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ref := w.enquiry(nil)
	if _, err := w.ws.Get(ctx, w.coord, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ws.Detail(ctx, w.clin, ref); err != nil {
		t.Fatal(err)
	}
	entries, _, err := w.ws.Audit(ctx, w.admin, crm.AuditQuery{Reference: ref, Action: "view"})
	if err != nil {
		t.Fatal(err)
	}
	who := map[int64]bool{}
	for _, e := range entries {
		if e.Actor != nil && e.Reference == ref && !e.At.IsZero() {
			who[e.Actor.ID] = true
		}
	}
	if !who[w.coord.ID] || !who[w.clin.ID] {
		t.Errorf("views recorded for %v, want coordinator %d and clinician %d", who, w.coord.ID, w.clin.ID)
	}
}

func TestListsBoardsAndSearchesRecordWhoTheyShowed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	mine, unassigned, others := w.enquiry(&w.clin), w.enquiry(nil), w.enquiry(&w.other)
	shownTo := func(actor crm.Actor, action, ref string) bool {
		t.Helper()
		entries, _, err := w.ws.Audit(ctx, w.admin, crm.AuditQuery{ActorID: actor.ID, Action: action, Reference: ref})
		if err != nil {
			t.Fatal(err)
		}
		return len(entries) > 0
	}
	// The clinician's list shows their own and the unassigned enquiry, never another clinician's.
	if _, err := w.ws.List(ctx, w.clin, crm.ListFilter{}); err != nil {
		t.Fatal(err)
	}
	if !shownTo(w.clin, "list", mine) || !shownTo(w.clin, "list", unassigned) || shownTo(w.clin, "list", others) {
		t.Error("the list's audit entry does not name exactly the references it showed")
	}
	if _, err := w.ws.Board(ctx, w.coord, crm.ListFilter{}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{mine, unassigned, others} {
		if !shownTo(w.coord, "list", ref) {
			t.Errorf("the board's audit entry lacks %s", ref)
		}
	}
	page, err := w.ws.List(ctx, w.coord, crm.ListFilter{Q: "Pat"})
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("search: %d, %v", len(page.Items), err)
	}
	entries, _, err := w.ws.Audit(ctx, w.admin, crm.AuditQuery{ActorID: w.coord.ID, Action: "search"})
	if err != nil || len(entries) != 1 || len(entries[0].Refs()) != 3 {
		t.Fatalf("search entries: %+v, %v", entries, err)
	}
	if strings.Contains(entries[0].Detail, "Pat") {
		t.Errorf("the search text, which may be a patient's name, is in the audit: %q", entries[0].Detail)
	}
	if n, err := crm.VerifyAudit(ctx, w.db); err != nil || n == 0 {
		t.Errorf("audit chain after reads: %d, %v", n, err)
	}
}

func TestOverdueAndReminders(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ref := w.enquiry(&w.clin)
	unassigned := w.enquiry(nil)
	w.ws.SetClock(func() time.Time { return time.Now().Add(25 * time.Hour) })
	e, _ := w.ws.Get(ctx, w.coord, ref)
	if !e.Overdue {
		t.Error("a new enquiry past its target is not overdue")
	}
	page, err := w.ws.List(ctx, w.coord, crm.ListFilter{Overdue: "true"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Errorf("overdue filter gives %d, want 2", len(page.Items))
	}
	n, err := w.ws.SendOverdueReminders(ctx)
	if err != nil || n != 2 {
		t.Fatalf("reminders: %d, %v; want 2", n, err)
	}
	if n, _ := w.ws.SendOverdueReminders(ctx); n != 0 {
		t.Errorf("reminded again: %d", n)
	}
	if _, err := w.ws.Transition(ctx, w.coord, unassigned, crm.StatusContacted, "", 0); err != nil {
		t.Fatal(err)
	}
	if e, _ := w.ws.Get(ctx, w.coord, unassigned); e.Overdue {
		t.Error("a contacted enquiry is still overdue")
	}
}

func TestSetupNeedsTheCode(t *testing.T) {
	d, err := db.Open(filepath.Join(t.TempDir(), "f.db"), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Migrate(context.Background())
	acc := crm.NewAccounts(d, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	code, err := acc.SetupCode(ctx)
	if err != nil || len(code) != 10 {
		t.Fatalf("setup code %q, %v", code, err)
	}
	admin := crm.NewStaff{Email: "Boss@Clinic.example", Name: "The Boss", Password: "a long enough password"}
	if _, err := acc.Setup(ctx, "WRONGCODE1", admin); outcome(err) != "422" {
		t.Errorf("wrong code: %v", err)
	}
	s, err := acc.Setup(ctx, strings.ToLower(code), admin)
	if err != nil {
		t.Fatal(err)
	}
	if s.Role != crm.RoleAdmin || s.Email != "boss@clinic.example" {
		t.Errorf("first account %+v", s)
	}
	if _, err := acc.Setup(ctx, code, crm.NewStaff{Email: "second@clinic.example", Name: "Second", Password: "a long enough password"}); !errors.Is(err, crm.ErrConflict) {
		t.Errorf("second setup: %v, want ErrConflict", err)
	}
	if c, _ := acc.SetupCode(ctx); c != "" {
		t.Errorf("setup code still offered: %q", c)
	}
	if _, err := acc.Authenticate(ctx, "boss@clinic.example", "a long enough password"); err != nil {
		t.Errorf("sign in: %v", err)
	}
	for _, bad := range [][2]string{{"boss@clinic.example", "wrong password!!"}, {"nobody@clinic.example", "a long enough password"}} {
		if _, err := acc.Authenticate(ctx, bad[0], bad[1]); !errors.Is(err, crm.ErrUnauthenticated) {
			t.Errorf("sign in %s: %v", bad[0], err)
		}
	}
}

func TestTokensAndRevocation(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	token, err := w.accounts.CreateToken(ctx, crm.System, "coord@clinic.example", "website")
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.accounts.ActorByToken(ctx, token)
	if err != nil || a.ID != w.coord.ID {
		t.Fatalf("token gives %+v, %v", a, err)
	}
	tokens, _ := w.accounts.Tokens(ctx, w.admin, w.coord.ID)
	if len(tokens) != 1 {
		t.Fatalf("%d tokens", len(tokens))
	}
	if err := w.accounts.RevokeToken(ctx, w.admin, w.coord.ID, tokens[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.accounts.ActorByToken(ctx, token); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Errorf("revoked token still works: %v", err)
	}
	// Disabling an account ends its tokens and sessions at once.
	token2, _ := w.accounts.CreateToken(ctx, crm.System, "clin@clinic.example", "script")
	disabled := true
	if _, err := w.accounts.Update(ctx, w.admin, "clin@clinic.example", crm.StaffUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.accounts.ActorByToken(ctx, token2); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Errorf("token of a disabled account works: %v", err)
	}
	if _, err := w.accounts.Actor(ctx, w.clin.ID); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Errorf("session of a disabled account works: %v", err)
	}
	if _, err := w.accounts.ActorByToken(ctx, "fd_nonsense"); !errors.Is(err, crm.ErrUnauthenticated) {
		t.Errorf("made-up token: %v", err)
	}
}

func TestAssignmentFairnessOverManyEnquiries(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var clins []crm.Actor
	for i := 0; i < 3; i++ {
		s, err := w.accounts.Create(ctx, crm.System, crm.NewStaff{Email: fmt.Sprintf("adhd%d@clinic.example", i), Name: fmt.Sprintf("ADHD %d", i),
			Role: crm.RoleClinician, Treatments: []string{"adhd"}, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		clins = append(clins, crm.Actor{ID: s.ID, Email: s.Email, Role: s.Role})
	}
	count := map[int64]int{}
	var refs []string
	for i := 0; i < 30; i++ {
		rec, err := w.intake.Submit(ctx, intake.Submission{Name: "Pat", Email: fmt.Sprintf("p%d@example.org", i), Treatment: "adhd", Consent: true}, "")
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, rec.Reference)
		e, _ := w.ws.Get(ctx, w.admin, rec.Reference)
		if e.Assignee == nil {
			t.Fatalf("%s unassigned although clinicians treat ADHD", rec.Reference)
		}
		count[e.Assignee.ID]++
	}
	for _, c := range clins {
		if count[c.ID] != 10 {
			t.Errorf("clinician %d got %d of 30, want 10: %v", c.ID, count[c.ID], count)
		}
	}
	// Closing some of one clinician's enquiries makes them the least loaded: the next ones go to them.
	closed := 0
	for _, ref := range refs {
		e, _ := w.ws.Get(ctx, w.admin, ref)
		if e.Assignee.ID == clins[0].ID && closed < 4 {
			if _, err := w.ws.Transition(ctx, w.admin, ref, crm.StatusLost, "No reply", 0); err != nil {
				t.Fatal(err)
			}
			closed++
		}
	}
	for i := 0; i < 4; i++ {
		rec, _ := w.intake.Submit(ctx, intake.Submission{Name: "Pat", Email: fmt.Sprintf("q%d@example.org", i), Treatment: "adhd", Consent: true}, "")
		e, _ := w.ws.Get(ctx, w.admin, rec.Reference)
		if e.Assignee.ID != clins[0].ID {
			t.Errorf("enquiry %d after closing went to %d, want the least loaded %d", i, e.Assignee.ID, clins[0].ID)
		}
	}
}
