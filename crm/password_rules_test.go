package crm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/crm"
)

func TestPasswordRules(t *testing.T) {
	cases := []struct {
		password string
		related  []string
		want     string // a part of the message; "" when the password is accepted
	}{
		// Length: at least 12 characters (not bytes), at most 1024 bytes.
		{"short", nil, "at least 12 characters"},
		{"ÅÅÅÅÅÅ", nil, "at least 12 characters"},
		{strings.Repeat("é", 513), nil, "at most 1024 bytes"},
		// Common, breached or easy to guess.
		{"passwordpassword", nil, "too common or easy to guess"},
		{"123456789012", nil, "too common or easy to guess"},
		{"qwertyuiopasdf", nil, "too common or easy to guess"},
		{"password1234", nil, "too common or easy to guess"},
		{"Password1234!", nil, "too common or easy to guess"},
		{"iloveyou1234", nil, "too common or easy to guess"},
		{"aaaaaaaaaaaa", nil, "too common or easy to guess"},
		{"abcdefghijklmnop", nil, "too common or easy to guess"},
		// The account's own name and address count against it.
		{"harriet.jones1", []string{"harriet.jones@clinic.example", "Harriet Jones"}, "too common or easy to guess"},
		// So do the words of the product and its trade.
		{"ketamineclinic", nil, "too common or easy to guess"},
		{"frontdeskadmin12", nil, "too common or easy to guess"},
		{"Ketamine-Therapy-2026", nil, "too common or easy to guess"},
		{"harriet.jones@clinic.example!", []string{"harriet.jones@clinic.example", "Harriet Jones"}, "too common or easy to guess"},
		// Long repetitions are judged on their first characters, quickly.
		{strings.Repeat("ab", 512), nil, "too common or easy to guess"},
		// Accepted: any characters, no composition rules.
		{"correct horse battery staple", nil, ""},
		{"Tr0ub4dor&3xyz", nil, ""},
		{"ferns under the old viaduct", nil, ""},
		{"ℌ𝔢𝔩𝔩𝔬 🌊 wave at the pier", nil, ""},
		{strings.Repeat("the tide came in over the shingle at Aldeburgh, ", 21)[:1000], nil, ""},
	}
	for _, c := range cases {
		got := crm.PasswordProblem(c.password, c.related...)
		if c.want == "" && got != "" {
			t.Errorf("%.40q refused: %s", c.password, got)
		}
		if c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%.40q: %q, want a message saying %q", c.password, got, c.want)
		}
	}
}

// The clinic's own name counts against its staff's passwords (a documented context word, see docs/security.md).
func TestPasswordsBuiltOnTheClinicsNameAreRefused(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	n := crm.NewStaff{Email: "fourth@clinic.example", Name: "Dr New", Role: crm.RoleClinician, Password: "HarbourWellness2026"}
	if _, err := w.accounts.Create(ctx, crm.System, n); err != nil {
		t.Fatalf("another clinic's staff may use it: %v", err)
	}
	w.accounts.SetClinic("Harbour Wellness")
	n.Email = "third@clinic.example"
	_, err := w.accounts.Create(ctx, crm.System, n)
	var ie crm.InputError
	if !errors.As(err, &ie) || !strings.Contains(ie["password"], "too common or easy to guess") {
		t.Errorf("a password built on the clinic's name: %v", err)
	}
}
