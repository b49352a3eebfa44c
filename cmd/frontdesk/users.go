package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/frontdesk/frontdesk/crm"
	"github.com/frontdesk/frontdesk/db"
)

// services are what the administration commands need: the database and the account services over it.
type services struct {
	db       *db.DB
	accounts *crm.Accounts
	ws       *crm.Workspace
}

// openServices opens and migrates the database and builds the services a command uses.
func openServices(ctx context.Context, c *config, e env) (*services, error) {
	d, err := openDB(ctx, c)
	if err != nil {
		return nil, err
	}
	log := newLogger(e.stderr)
	accounts, err := newAccounts(c, d, log)
	if err != nil {
		d.Close()
		return nil, err
	}
	return &services{
		db:       d,
		accounts: accounts,
		ws: crm.NewWorkspace(d.EnquiryStore, d.StaffStore, d.AuditStore, crm.WorkspaceConfig{
			FirstContact: hours(c.FirstContactHours), UrgentContact: hours(c.UrgentContactHours),
			IntakeInbox: c.IntakeInbox, Location: c.Timezone,
		}, log),
	}, nil
}

// newAccounts returns the accounts service over d, with the configured token lifetime.
func newAccounts(c *config, d *db.DB, log *slog.Logger) (*crm.Accounts, error) {
	a := crm.NewAccounts(d.StaffStore, d.AuditStore, log)
	a.SetClinic(c.ClinicName)
	if err := a.SetTokenDays(c.TokenDays); err != nil {
		return nil, usagef("invalid FRONTDESK_TOKEN_DAYS: must be from %d to %d", crm.MinTokenDays, crm.MaxTokenDays)
	}
	return a, nil
}

// inputErrorAsUsage turns a crm.InputError from command-line values into a one-line usage error naming the
// flag.
func inputErrorAsUsage(err error, flagOf map[string]string) error {
	var ie crm.InputError
	if !errors.As(err, &ie) {
		return err
	}
	for _, field := range []string{"email", "name", "role", "treatments", "password", "label"} {
		if msg, ok := ie[field]; ok {
			name := flagOf[field]
			if name == "" {
				name = field
			}
			return usagef("invalid %s: %s", name, msg)
		}
	}
	for field, msg := range ie {
		return usagef("invalid %s: %s", field, msg)
	}
	return err
}

// cmdUser is `frontdesk user add|list|disable|reset-2fa`.
func cmdUser(args []string, e env) error {
	if len(args) == 0 {
		return usagef("user needs a subcommand: add, list, disable or reset-2fa")
	}
	switch args[0] {
	case "add":
		return cmdUserAdd(args[1:], e)
	case "list":
		return cmdUserList(args[1:], e)
	case "disable":
		return cmdUserDisable(args[1:], e)
	case "reset-2fa":
		return cmdUserReset2FA(args[1:], e)
	}
	return usagef("unknown user subcommand %q (add, list, disable or reset-2fa)", args[0])
}

// readPassword reads one line from stdin: the password, never a flag (it would show in the process list).
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("no password on stdin: give it as one line, e.g. printf '%%s\\n' \"$PASSWORD\" | frontdesk user add ...")
	}
	return line, nil
}

func cmdUserAdd(args []string, e env) error {
	var email, name, role, treatments string
	c, rest, err := configure("user add", args, e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the account's email address (required)")
		fs.StringVar(&name, "name", "", "the person's name (required)")
		fs.StringVar(&role, "role", "", "admin, coordinator or clinician (required)")
		fs.StringVar(&treatments, "treatments", "", "comma-separated treatments a clinician takes, e.g. adhd,ptsd")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("user add takes no arguments, got %q", rest[0])
	}
	for flagName, v := range map[string]string{"--email": email, "--name": name, "--role": role} {
		if strings.TrimSpace(v) == "" {
			return usagef("missing %s", flagName)
		}
	}
	if !crm.Role(role).Valid() {
		return usagef("invalid --role %q: use admin, coordinator or clinician", role)
	}
	if _, err := crm.ParseTreatments([]string{treatments}); err != nil {
		return usagef("invalid --treatments: %v", err)
	}
	password, err := readPassword(e.stdin)
	if err != nil {
		return err
	}
	ctx := context.Background()
	svc, err := openServices(ctx, c, e)
	if err != nil {
		return err
	}
	defer svc.db.Close()
	s, err := svc.accounts.Create(ctx, crm.System, crm.NewStaff{
		Email: email, Name: name, Role: crm.Role(role), Treatments: []string{treatments}, Password: password,
	})
	if err != nil {
		return inputErrorAsUsage(err, map[string]string{"email": "--email", "name": "--name", "role": "--role",
			"treatments": "--treatments", "password": "password (stdin)"})
	}
	fmt.Fprintf(e.stdout, "created %s (%s) as %s\n", s.Email, s.Name, s.Role)
	return nil
}

func cmdUserList(args []string, e env) error {
	c, rest, err := configure("user list", args, e, false, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("user list takes no arguments, got %q", rest[0])
	}
	ctx := context.Background()
	svc, err := openServices(ctx, c, e)
	if err != nil {
		return err
	}
	defer svc.db.Close()
	staff, err := svc.accounts.List(ctx, crm.System)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tTREATMENTS\tOPEN\tSTATE")
	for _, s := range staff {
		state := "active"
		if s.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", s.Email, s.Name, s.Role, strings.Join(s.Treatments, ","), s.OpenEnquiries, state)
	}
	return tw.Flush()
}

func cmdUserDisable(args []string, e env) error {
	var email string
	c, rest, err := configure("user disable", args, e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the account to disable (required)")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("user disable takes no arguments, got %q", rest[0])
	}
	if strings.TrimSpace(email) == "" {
		return usagef("missing --email")
	}
	ctx := context.Background()
	svc, err := openServices(ctx, c, e)
	if err != nil {
		return err
	}
	defer svc.db.Close()
	yes := true
	s, err := svc.accounts.Update(ctx, crm.System, email, crm.StaffUpdate{Disabled: &yes})
	var ie crm.InputError
	if errors.As(err, &ie) {
		return fmt.Errorf("%s", ie["email"])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "disabled %s: every session of the account was ended and every API token revoked\n", s.Email)
	return nil
}

// cmdUserReset2FA is `frontdesk user reset-2fa --email E`: removes the account's second factor and recovery
// codes (audited), for someone who lost their phone and their codes; they enrol again at their next sign-in.
func cmdUserReset2FA(args []string, e env) error {
	var email string
	c, rest, err := configure("user reset-2fa", args, e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the account whose second factor to remove (required)")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("user reset-2fa takes no arguments, got %q", rest[0])
	}
	if strings.TrimSpace(email) == "" {
		return usagef("missing --email")
	}
	ctx := context.Background()
	svc, err := openServices(ctx, c, e)
	if err != nil {
		return err
	}
	defer svc.db.Close()
	had, err := svc.accounts.ResetSecondFactor(ctx, crm.System, email)
	var ie crm.InputError
	if errors.As(err, &ie) {
		return fmt.Errorf("%s", ie["email"])
	}
	if err != nil {
		return err
	}
	address := strings.ToLower(strings.TrimSpace(email))
	if !had {
		fmt.Fprintf(e.stdout, "%s has no second factor: nothing to reset\n", address)
		return nil
	}
	fmt.Fprintf(e.stdout, "removed the second factor and recovery codes of %s: they set up a new one at their next sign-in\n", address)
	return nil
}

// hours is a whole number of hours as a duration.
func hours(h int) time.Duration { return time.Duration(h) * time.Hour }
