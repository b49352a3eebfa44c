// Package pgtest gives tests a fresh, empty PostgreSQL database each, on the server named by the
// FRONTDESK_TEST_POSTGRES variable (a superuser's URL; `.ci/postgres-start` starts a throwaway cluster and prints
// it). Only tests import it, so it is never part of the frontdesk binary.
//
// Without FRONTDESK_TEST_POSTGRES a test that asks for a database is skipped with a message saying how to run it,
// except in CI (CI set, as CI sets it to true), where that is a failure: CI never skips PostgreSQL silently. See
// the README, "PostgreSQL".
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// EnvURL is the variable that names the PostgreSQL server the tests use.
const EnvURL = "FRONTDESK_TEST_POSTGRES"

// HowToRun is what a skipped test says: how to run the PostgreSQL tests on a laptop.
const HowToRun = "PostgreSQL tests need " + EnvURL + ": run `eval \"$(.ci/postgres-start)\"` and then `make test` " +
	"(or just `make test-postgres`); see the README, \"PostgreSQL\""

// DriverName is the database/sql driver the URLs are meant for (pgx's stdlib driver).
const DriverName = "pgx"

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
)

// inCI reports whether the tests run in CI (CI set, and not to false or 0), where a missing PostgreSQL is a
// failure.
func inCI() bool {
	v := strings.TrimSpace(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

// ServerURL returns the URL of the test server (FRONTDESK_TEST_POSTGRES). Without one it skips the test with
// HowToRun, or fails it in CI.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := strings.TrimSpace(os.Getenv(EnvURL))
	if u == "" {
		if inCI() {
			t.Fatalf("CI=true but %s is not set: CI must run the PostgreSQL tests (.ci/run starts a cluster with .ci/postgres-start)", EnvURL)
		}
		t.Skip(HowToRun)
	}
	return u
}

// URL returns the URL of a new, empty database on the test server, made for this test alone and dropped when
// the test and its cleanups end (connections still open to it are ended). Without a server it skips the test
// (fails in CI); a server that cannot be reached or refuses to create the database fails the test.
func URL(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	adminOnce.Do(func() {
		admin, adminErr = sql.Open(DriverName, server)
		if adminErr == nil {
			admin.SetMaxOpenConns(4)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			adminErr = admin.PingContext(ctx)
		}
	})
	if adminErr != nil {
		t.Fatalf("PostgreSQL test server (%s): %v", EnvURL, adminErr)
	}
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	quoted := pgx.Identifier{name}.Sanitize()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+quoted); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Open returns a database/sql handle on a new database from URL, closed at cleanup before the database is
// dropped.
func Open(t testing.TB) *sql.DB {
	t.Helper()
	conn, err := sql.Open(DriverName, URL(t))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// databaseName is a name no other test has: "frontdesk_test_", the test's name in lower case letters, digits
// and underscores (cut short), and 12 random hex digits, within PostgreSQL's 63 bytes.
func databaseName(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 30 {
			break
		}
	}
	var random [6]byte
	if _, err := rand.Read(random[:]); err != nil {
		panic(fmt.Sprintf("pgtest: no randomness: %v", err))
	}
	return "frontdesk_test_" + b.String() + "_" + hex.EncodeToString(random[:])
}
