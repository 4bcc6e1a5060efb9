// Package metrics embeds the metrics layer of the transform models: table
// macros (one per .sql file) that compute the metrics from the marts for a
// window and scope given when they are called.
package metrics

import "embed"

// FS holds the layer's .sql files.
//
//go:embed *.sql
var FS embed.FS
