package main

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/frontdesk/frontdesk"

// TestTheRoomsOnlyDependOneWay keeps the README's arrows between packages true — cmd → web, db, crm, intake; web → crm, intake;
// db → crm, intake; crm → intake — and each library in its room: only web imports Fiber, only db imports sqlx
// and go-sqlite3, only crm/mailer imports go-mail.
func TestTheRoomsOnlyDependOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "sqlite_fts5", "-f",
		"{{.ImportPath}}|{{join .Deps \" \"}}|{{join .Imports \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// Packages of this module each room may not depend on, directly or not.
	arrows := map[string][]string{
		"intake": {"crm", "db", "web"},
		"crm":    {"db", "web"},
		"web":    {"db"},
		"db":     {"web"},
	}
	// Libraries and the one room that may import each.
	owner := map[string]string{
		"github.com/gofiber/":         "web",
		"github.com/jmoiron/sqlx":     "db",
		"github.com/mattn/go-sqlite3": "db",
		"github.com/wneessen/go-mail": "crm/mailer",
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		pkg, deps, imports := parts[0], strings.Fields(parts[1]), strings.Fields(parts[2])
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		if strings.HasPrefix(rel, "bench") || strings.HasPrefix(rel, "cmd") {
			continue // the benchmarks' ceiling server is its own small stack; cmd wires everything
		}
		checked++
		room := strings.SplitN(rel, "/", 2)[0]
		for _, d := range deps {
			for _, bad := range arrows[room] {
				if d == module+"/"+bad || strings.HasPrefix(d, module+"/"+bad+"/") {
					t.Errorf("%s depends on %s: arrows must point %s → only crm and intake", rel, d, room)
				}
			}
		}
		for _, imp := range imports {
			for lib, may := range owner {
				if (imp == strings.TrimSuffix(lib, "/") || strings.HasPrefix(imp, lib)) && rel != may && !strings.HasPrefix(rel, may+"/") {
					t.Errorf("%s imports %s; only %s may", rel, imp, may)
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d packages checked: go list output not understood", checked)
	}
}
