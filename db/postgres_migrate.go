package db

import (
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// PostgreSQL's migrations live in their own folder: each schema change comes as one file per engine with the
// same version number, the first PostgreSQL one (00009) creating everything SQLite's 00001 to 00009 do. See
// docs/postgres.md.
//
//go:embed migrations/postgres/*.sql
var postgresMigrationFiles embed.FS

// postgresProvider returns goose's provider of the PostgreSQL migrations on conn, a database/sql handle on the
// pgx driver. Migrating holds a session advisory lock, so several processes starting together on one database
// apply each migration once; every migration runs in a transaction of its own.
func postgresProvider(conn *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(postgresMigrationFiles, "migrations/postgres")
	if err != nil {
		return nil, fmt.Errorf("postgres migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("postgres migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, conn, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("postgres migrations: %w", err)
	}
	return p, nil
}
