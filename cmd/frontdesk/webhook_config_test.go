package main

import (
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestWebhookSettings(t *testing.T) {
	const url, secret = "https://hooks.zapier.com/hooks/catch/123/abcdef/",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYq="
	load := func(vars map[string]string) (*config, error) {
		c, _, err := loadConfig(flag.NewFlagSet("t", flag.ContinueOnError), nil, func(k string) string { return vars[k] }, true)
		return c, err
	}
	c, err := load(nil)
	if err != nil || c.WebhookURL != "" || c.WebhookKey != nil {
		t.Fatalf("neither set: %+v, %v", c, err)
	}
	c, err = load(map[string]string{"FRONTDESK_WEBHOOK_URL": url, "FRONTDESK_WEBHOOK_SECRET": secret})
	if err != nil || c.WebhookURL != url || len(c.WebhookKey) != 32 {
		t.Fatalf("both set: %v", err)
	}
	for _, bad := range []struct {
		vars map[string]string
		name string
	}{
		{map[string]string{"FRONTDESK_WEBHOOK_URL": url}, "FRONTDESK_WEBHOOK_SECRET"},
		{map[string]string{"FRONTDESK_WEBHOOK_SECRET": secret}, "FRONTDESK_WEBHOOK_URL"},
		{map[string]string{"FRONTDESK_WEBHOOK_URL": "ftp://hooks.example/x", "FRONTDESK_WEBHOOK_SECRET": secret}, "FRONTDESK_WEBHOOK_URL"},
		{map[string]string{"FRONTDESK_WEBHOOK_URL": "hooks.example/x", "FRONTDESK_WEBHOOK_SECRET": secret}, "FRONTDESK_WEBHOOK_URL"},
		{map[string]string{"FRONTDESK_WEBHOOK_URL": url, "FRONTDESK_WEBHOOK_SECRET": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "FRONTDESK_WEBHOOK_SECRET"},
		{map[string]string{"FRONTDESK_WEBHOOK_URL": url, "FRONTDESK_WEBHOOK_SECRET": "whsec_%%%"}, "FRONTDESK_WEBHOOK_SECRET"},
	} {
		_, err := load(bad.vars)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "invalid "+bad.name+":") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want one line naming %s (exit 2)", bad.vars, err, bad.name)
		}
		if err != nil && (strings.Contains(err.Error(), "abcdef") || strings.Contains(err.Error(), "MfKQ9r8")) {
			t.Errorf("the error repeats the value: %v", err)
		}
	}
}
