// Package staging embeds the staging layer of the transform models (one model per
// .sql file).
package staging

import "embed"

// FS holds the layer's .sql files.
//
//go:embed *.sql
var FS embed.FS
