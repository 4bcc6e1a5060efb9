// Package migrations embeds the warehouse schema migrations, one SQL file per
// version, named NNNN_description.sql. A migration, once released, never
// changes: a new schema is a new file.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
