// Package intermediate embeds the intermediate layer of the transform models (one model per
// .sql file).
package intermediate

import "embed"

// FS holds the layer's .sql files.
//
//go:embed *.sql
var FS embed.FS
