package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// cmdToken is `frontdesk token create|list|revoke`.
func cmdToken(args []string, e env) error {
	if len(args) == 0 {
		return usagef("token needs a subcommand: create, list or revoke")
	}
	switch args[0] {
	case "create":
		return cmdTokenCreate(args[1:], e)
	case "list":
		return cmdTokenList(args[1:], e)
	case "revoke":
		return cmdTokenRevoke(args[1:], e)
	}
	return usagef("unknown token subcommand %q (create, list or revoke)", args[0])
}

// cmdTokenCreate is `token create --email E --label L [--days N]`: prints the new token alone on stdout.
func cmdTokenCreate(args []string, e env) error {
	var email, label string
	var days int
	daysGiven := false // not given: FRONTDESK_TOKEN_DAYS
	c, rest, err := configure("token create", args, e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the account the token acts as (required)")
		fs.StringVar(&label, "label", "", "what the token is for, e.g. \"clinic website\" (required)")
		fs.Func("days", "days until the token expires, 1 to 3650 (default $FRONTDESK_TOKEN_DAYS, 90)", func(s string) error {
			n, err := strconv.Atoi(s)
			if err != nil {
				return errors.New("not a whole number")
			}
			days, daysGiven = n, true
			return nil
		})
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("token create takes no arguments, got %q", rest[0])
	}
	if strings.TrimSpace(email) == "" {
		return usagef("missing --email")
	}
	if strings.TrimSpace(label) == "" {
		return usagef("missing --label")
	}
	if !daysGiven {
		days = c.TokenDays
	}
	if days < crm.MinTokenDays || days > crm.MaxTokenDays {
		return usagef("invalid --days %d: use %d to %d", days, crm.MinTokenDays, crm.MaxTokenDays)
	}
	ctx := context.Background()
	svc, err := openServices(ctx, c, e)
	if err != nil {
		return err
	}
	defer svc.db.Close()
	token, _, err := svc.accounts.IssueToken(ctx, crm.System, email, label, days)
	var ie crm.InputError
	if errors.As(err, &ie) {
		if msg, ok := ie["label"]; ok {
			return usagef("invalid --label: %s", msg)
		}
		return fmt.Errorf("%s", ie["email"])
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, token)
	return nil
}

// cmdTokenList is `token list [--email E]`: every token (or one account's), never the token or its hash.
func cmdTokenList(args []string, e env) error {
	var email string
	c, rest, err := configure("token list", args, e, false, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "only this account's tokens")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("token list takes no arguments, got %q", rest[0])
	}
	ctx := context.Background()
	svc, err := openServices(ctx, c, e)
	if err != nil {
		return err
	}
	defer svc.db.Close()
	var staffID int64
	if strings.TrimSpace(email) != "" {
		s, _, err := svc.db.StaffByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
		if errors.Is(err, crm.ErrNotFound) {
			return fmt.Errorf("no account has the email %q", email)
		}
		if err != nil {
			return err
		}
		staffID = s.ID
	}
	tokens, err := svc.accounts.Tokens(ctx, crm.System, staffID)
	if err != nil {
		return err
	}
	when := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.In(c.Timezone).Format("2006-01-02 15:04")
	}
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOWNER\tLABEL\tCREATED\tLAST USED\tEXPIRES\tREVOKED")
	for _, t := range tokens {
		expires := when(&t.ExpiresAt)
		if t.RevokedAt == nil && !now.Before(t.ExpiresAt) {
			expires += " (expired)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.StaffEmail, t.Label, when(&t.CreatedAt),
			when(t.LastUsedAt), expires, when(t.RevokedAt))
	}
	return tw.Flush()
}

// cmdTokenRevoke is `token revoke --id N`: the token stops working at once.
func cmdTokenRevoke(args []string, e env) error {
	var id int64
	c, rest, err := configure("token revoke", args, e, false, func(fs *flag.FlagSet) {
		fs.Int64Var(&id, "id", 0, "the token's ID, from token list (required)")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("token revoke takes no arguments, got %q", rest[0])
	}
	if id <= 0 {
		return usagef("missing or invalid --id: give a token's ID from frontdesk token list")
	}
	ctx := context.Background()
	svc, err := openServices(ctx, c, e)
	if err != nil {
		return err
	}
	defer svc.db.Close()
	t, err := svc.accounts.RevokeTokenByID(ctx, crm.System, id)
	if errors.Is(err, crm.ErrNotFound) {
		return fmt.Errorf("no token has the ID %d (see frontdesk token list)", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revoked token %d (%s) of %s: it no longer opens the API\n", t.ID, t.Label, t.StaffEmail)
	return nil
}
