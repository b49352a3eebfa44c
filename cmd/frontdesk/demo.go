package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/crm/demo"
	"github.com/frontdesk/frontdesk/intake"
)

// demoStaff are the demo's accounts.
var demoStaff = []crm.NewStaff{
	{Email: "sam.coordinator@frontdesk.example", Name: "Sam Okafor", Role: crm.RoleCoordinator},
	{Email: "priya.shah@frontdesk.example", Name: "Dr Priya Shah", Role: crm.RoleClinician, Treatments: []string{"adhd", "depression"}},
	{Email: "tom.evans@frontdesk.example", Name: "Dr Tom Evans", Role: crm.RoleClinician, Treatments: []string{"ptsd", "addiction", "anxiety"}},
	{Email: "alice.morgan@frontdesk.example", Name: "Dr Alice Morgan", Role: crm.RoleClinician, Treatments: []string{"chronic_pain", "depression", "other"}},
}

// demoEnquiries is how many enquiries the demo makes, spread over demoDays.
const (
	demoEnquiries = 80
	demoDays      = 45
)

// cmdDemo is `frontdesk demo`: demo staff and realistic enquiries in a database that has no enquiries yet.
func cmdDemo(args []string, e env) error {
	c, rest, err := configure("demo", args, e, false, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("demo takes no arguments, got %q", rest[0])
	}
	ctx := context.Background()
	svc, err := openServices(ctx, c, e)
	if err != nil {
		return err
	}
	defer svc.db.Close()
	if n, err := svc.db.CountEnquiries(ctx, crm.ListQuery{IncludeSpam: true}, 1); err != nil {
		return err
	} else if n > 0 {
		return fmt.Errorf("demo fills only a database without enquiries, and %s has some; use a new FRONTDESK_DB", redactDB(c.DB))
	}
	password := demoPassword()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var staff []crm.Staff
	for _, n := range demoStaff {
		n.Password = password
		s, err := svc.accounts.Create(ctx, crm.System, n)
		if err != nil {
			return fmt.Errorf("demo account %s: %w", n.Email, err)
		}
		staff = append(staff, s)
	}
	now := time.Now().UTC()
	in := crm.NewIntakeService(svc.db.EnquiryStore, intake.NewValidator(nil, c.Timezone), c.IntakeInbox, quiet)
	ws := crm.NewWorkspace(svc.db.EnquiryStore, svc.db.StaffStore, svc.db.AuditStore, crm.WorkspaceConfig{
		FirstContact: hours(c.FirstContactHours), UrgentContact: hours(c.UrgentContactHours),
		IntakeInbox: c.IntakeInbox, Location: c.Timezone,
	}, quiet)
	made, err := fillDemo(ctx, in, ws, staff[0], now)
	if err != nil {
		return err
	}
	// The demo's patients are fictional: nothing queued for them is sent.
	if _, err := svc.db.DiscardQueuedMail(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Added %d demo enquiries from the last %d days and %d demo staff accounts to %s.\n\n", made, demoDays, len(staff), redactDB(c.DB))
	fmt.Fprintf(e.stdout, "Sign in at %s/login with the password %s and one of:\n", c.BaseURL, password)
	for _, s := range staff {
		extra := ""
		if len(s.Treatments) > 0 {
			extra = " (" + strings.Join(s.Treatments, ", ") + ")"
		}
		fmt.Fprintf(e.stdout, "  %-12s %s%s\n", s.Role, s.Email, extra)
	}
	fmt.Fprint(e.stdout, demoTwoFactorNote(c.Require2FA))
	return nil
}

// demoTwoFactorNote tells how the demo accounts meet the second-factor policy serve will apply.
func demoTwoFactorNote(p crm.TwoFactorPolicy) string {
	if p == crm.TwoFactorOff {
		return "\nTwo-factor sign-in is off (FRONTDESK_REQUIRE_2FA=off): the password is enough.\n"
	}
	who := "Each account"
	if p == crm.TwoFactorAdmins {
		who = "An administrator account"
	}
	return "\nTwo-factor sign-in: " + who + " sets it up at its first sign-in — scan the QR code shown with any\n" +
		"authenticator app (Google Authenticator, Microsoft Authenticator, 2FAS, Aegis…) and enter its code.\n" +
		"To try the demo without it, start the server with FRONTDESK_REQUIRE_2FA=off, e.g.\n" +
		"  FRONTDESK_REQUIRE_2FA=off make run\n"
}

// demoPassword is a fresh random password for the demo accounts, printed once.
func demoPassword() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return "demo-" + s[:4] + "-" + s[4:8] + "-" + s[8:12]
}

// fillDemo makes the enquiries, oldest first, and works them the way a clinic would have: the older an
// enquiry, the further along the pipeline it tends to be, with notes and a few closed ones.
func fillDemo(ctx context.Context, in *crm.IntakeService, ws *crm.Workspace, coordinator crm.Staff, now time.Time) (int, error) {
	g := demo.New(uint64(now.UnixNano()))
	ages := make([]time.Duration, demoEnquiries)
	for i := range ages {
		ages[i] = time.Duration(g.Intn(demoDays*24*60)) * time.Minute
	}
	// A few fresh ones, and a few just past the first-contact target, so the board has something to do.
	copy(ages, []time.Duration{20 * time.Minute, 2 * time.Hour, 5 * time.Hour, 9 * time.Hour, 27 * time.Hour, 31 * time.Hour})
	slices.SortFunc(ages, func(a, b time.Duration) int { return int(b - a) })
	coord := crm.Actor{ID: coordinator.ID, Email: coordinator.Email, Name: coordinator.Name, Role: coordinator.Role}
	made := 0
	for i, age := range ages {
		created := now.Add(-age)
		in.SetClock(func() time.Time { return created })
		sub := g.Submission(i)
		sub.Screening = demo.Screening(i, sub.Treatment)
		if i == len(ages)-2 {
			// One of the freshest enquiries asks for help in words the risk list knows: the board shows it first.
			sub.Message = "I have been feeling suicidal on and off since the spring."
		}
		if i%37 == 5 {
			sub.Website = "http://cheap-pills.example" // a bot caught by the honeypot
		}
		rec, err := in.Submit(ctx, sub, "")
		if err != nil {
			return made, fmt.Errorf("demo enquiry %d: %w", i, err)
		}
		made++
		if sub.Website != "" || age < 12*time.Hour || (age > 24*time.Hour && age < 36*time.Hour) {
			continue // spam, and the newest and the overdue ones, stay as they came in
		}
		at := created
		step := func(d time.Duration) time.Time {
			at = at.Add(d)
			if at.After(now) {
				at = now
			}
			t := at
			ws.SetClock(func() time.Time { return t })
			return t
		}
		// How far along: older enquiries further, with some left at each stage.
		stages := []crm.Status{crm.StatusContacted, crm.StatusScreening, crm.StatusAssessmentBooked,
			crm.StatusTreatmentOffered, crm.StatusInTreatment}
		reach := min(len(stages), int(age/(9*24*time.Hour))+g.Intn(2))
		step(time.Duration(1+g.Intn(20)) * time.Hour)
		if reach == 0 {
			reach = 1
		}
		for _, st := range stages[:reach] {
			if _, err := ws.Transition(ctx, coord, rec.Reference, st, "", 0); err != nil {
				return made, fmt.Errorf("demo enquiry %s to %s: %w", rec.Reference, st, err)
			}
			if g.Intn(2) == 0 {
				step(time.Duration(10+g.Intn(50)) * time.Minute)
				if _, err := ws.AddNote(ctx, coord, rec.Reference, g.Note()); err != nil {
					return made, err
				}
			}
			step(time.Duration(1+g.Intn(72)) * time.Hour)
		}
		if g.Intn(6) == 0 && reach < len(stages) {
			closing := []crm.Status{crm.StatusNotSuitable, crm.StatusLost, crm.StatusReferred}[g.Intn(3)]
			if _, err := ws.Transition(ctx, coord, rec.Reference, closing, g.CloseReason(string(closing)), 0); err != nil {
				return made, err
			}
		}
	}
	return made, nil
}
