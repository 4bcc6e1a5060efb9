package queries

import "embed"

// builtinFS holds the named queries shipped with shiplog, one .sql file each,
// grouped in folders by audience (controls/, retro/, leadership/ …).
//
//go:embed */*.sql
var builtinFS embed.FS
