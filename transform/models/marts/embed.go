// Package marts embeds the marts layer of the transform models (one model per
// .sql file).
package marts

import "embed"

// FS holds the layer's .sql files.
//
//go:embed *.sql
var FS embed.FS
