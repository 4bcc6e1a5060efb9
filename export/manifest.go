package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/shiplog/shiplog/internal/version"
)

// ManifestName is the manifest's file name in the export folder. The
// leading underscore makes Spark, Hive and Trino skip it when they list the
// folder for data files.
const ManifestName = "_manifest.json"

// ManifestFormat is the version of the manifest's own layout; it changes
// only when a loader would have to read it differently.
const ManifestFormat = 1

// Manifest describes one complete export: a loader reads it to know which
// files make up each table and to check it received all of them.
type Manifest struct {
	ManifestFormat int `json:"manifest_format"`
	// ExportID is the export run (export_runs.id in the warehouse).
	ExportID int64 `json:"export_id"`
	// Since is the export this one was incremental to, if any.
	Since      *int64    `json:"since"`
	ExportedAt time.Time `json:"exported_at"`
	// Shiplog is the build that wrote the export.
	Shiplog version.Info `json:"shiplog"`
	// SchemaVersion is the warehouse's migration version.
	SchemaVersion int `json:"schema_version"`
	// Format is parquet or csv; Compression is zstd for Parquet, none for CSV.
	Format      string `json:"format"`
	Compression string `json:"compression"`
	// Partitioning says how fact tables are split: Hive-style directories
	// named after the UTC month of each table's partition column.
	Partitioning Partitioning `json:"partitioning"`
	// DataRange spans the partition columns of every partitioned table.
	DataRange *Range       `json:"data_range"`
	Tables    []TableEntry `json:"tables"`
	// Rows and Bytes total the tables.
	Rows  int64 `json:"rows"`
	Bytes int64 `json:"bytes"`
}

// Partitioning describes the directory layout.
type Partitioning struct {
	Scheme   string `json:"scheme"`   // hive
	Unit     string `json:"unit"`     // month, as YYYY-MM
	TimeZone string `json:"timezone"` // UTC
	// Default is the directory value of rows whose partition column is NULL.
	Default string `json:"null_partition"`
}

// Range is the earliest and latest value of a time column (RFC 3339, UTC;
// YYYY-MM-DD for dates).
type Range struct {
	Min string `json:"min"`
	Max string `json:"max"`
}

// TableEntry is one table of the export.
type TableEntry struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Path is the table's folder, relative to the export folder.
	Path    string   `json:"path"`
	Rows    int64    `json:"rows"`
	Bytes   int64    `json:"bytes"`
	Columns []Column `json:"columns"`
	// CSVJSONColumns names the columns written as JSON text in a CSV export
	// (lists, structs, maps), which CSV cannot hold otherwise.
	CSVJSONColumns []string `json:"csv_json_columns,omitempty"`
	// PartitionColumn and PartitionKey are empty for a table written whole.
	PartitionColumn string `json:"partition_column,omitempty"`
	PartitionKey    string `json:"partition_key,omitempty"`
	// DataRange is the range of the partition column.
	DataRange  *Range      `json:"data_range,omitempty"`
	SchemaHash string      `json:"schema_hash"`
	Partitions []Partition `json:"partitions"`
}

// Partition is one month of a table (or the whole of an unpartitioned one).
type Partition struct {
	// Value is the month (YYYY-MM), DefaultPartition, or "" for a table
	// written whole.
	Value string `json:"value"`
	// Path is the partition's folder, relative to the export folder.
	Path string `json:"path"`
	Rows int64  `json:"rows"`
	// ContentHash identifies the partition's rows (an order-independent
	// sum of DuckDB row hashes; see docs/export.md). Equal hashes under the
	// same DuckDB version and schema hash mean the same rows.
	ContentHash string     `json:"content_hash"`
	DataRange   *Range     `json:"data_range,omitempty"`
	Files       []FileInfo `json:"files"`
	// WrittenBy is the export run that wrote the files: this run, or an
	// earlier one whose files were kept because the rows had not changed.
	WrittenBy int64 `json:"written_by"`
}

// FileInfo is one data file.
type FileInfo struct {
	Path   string `json:"path"` // relative to the export folder, with /
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// ReadManifest reads the manifest of the export in dir; it returns an error
// wrapping os.ErrNotExist when dir holds none.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
	}
	if m.ManifestFormat != ManifestFormat {
		return nil, fmt.Errorf("%s: manifest format %d, this shiplog reads %d", filepath.Join(dir, ManifestName), m.ManifestFormat, ManifestFormat)
	}
	return &m, nil
}

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

// writeManifest writes m into dir and syncs it.
func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileSync(filepath.Join(dir, ManifestName), append(b, '\n'))
}
