// Package canonical describes the canonical event format: the kinds of record
// shiplog accepts from files, the push API and its own sources, their fields,
// which are required, which values an enumerated field takes, and which
// columns make a record's natural key.
//
// It is the single Go description of the tables that migration 0001 creates;
// a test in internal/warehouse checks the two agree column by column.
package canonical

import (
	"fmt"
	"sort"
)

// Type is the warehouse type of a field.
type Type int

// Field types. Times are stored as TIMESTAMPTZ in UTC; lists as DuckDB lists.
const (
	Text Type = iota
	Int
	Float
	Bool
	Time
	Date
	TextList
	JSON
)

// SQL returns the DuckDB column type.
func (t Type) SQL() string {
	switch t {
	case Text:
		return "VARCHAR"
	case Int:
		return "BIGINT"
	case Float:
		return "DOUBLE"
	case Bool:
		return "BOOLEAN"
	case Time:
		return "TIMESTAMPTZ"
	case Date:
		return "DATE"
	case TextList:
		return "VARCHAR[]"
	case JSON:
		return "JSON"
	}
	panic(fmt.Sprintf("canonical: unknown type %d", int(t)))
}

func (t Type) String() string {
	switch t {
	case Text:
		return "text"
	case Int:
		return "integer"
	case Float:
		return "number"
	case Bool:
		return "boolean"
	case Time:
		return "RFC 3339 time"
	case Date:
		return "date (YYYY-MM-DD)"
	case TextList:
		return "list of text"
	case JSON:
		return "JSON"
	}
	return "unknown"
}

// Field is one column of a kind.
type Field struct {
	Name     string
	Type     Type
	Required bool
	// Enum, when set, lists the only accepted values.
	Enum []string
	// OneOf names another field of which at least one must be present
	// (test_run: commit_sha or version).
	OneOf string
}

// Kind is one record kind and its canonical table.
type Kind struct {
	Name   string // the value of the "kind" field: "deployment"
	Table  string // the canonical table: "deployments"
	Fields []Field
	// Key lists the fields that, with source, identify a record. Ingesting a
	// record whose key already exists replaces it.
	Key []string
	// Order lists pairs of time fields whose order is certain: a record
	// with both set and the second before the first is impossible (an
	// incident resolved before it opened) and refused.
	Order []Order
}

// Order says that time field Later cannot be before time field Earlier.
// A violation is reported on Later.
type Order struct {
	Earlier, Later string
}

// Field returns the named field.
func (k *Kind) Field(name string) (Field, bool) {
	for _, f := range k.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Columns returns every column of the canonical table in order: the kind's
// fields, then extra and source.
func (k *Kind) Columns() []string {
	cols := make([]string, 0, len(k.Fields)+3)
	for _, f := range k.Fields {
		cols = append(cols, f.Name)
	}
	return append(cols, SystemColumns...)
}

// SystemColumns are the columns every canonical table has after its fields:
// unknown input fields as a JSON object, and the source that wrote the row.
// There is deliberately no load timestamp: ingesting the same data twice must
// leave every table identical (ingest_runs records when loads happened).
var SystemColumns = []string{"extra", "source"}

var (
	deploymentStatus = []string{"success", "failure", "cancelled"}
	severities       = []string{"sev1", "sev2", "sev3", "sev4"}
	risks            = []string{"standard", "normal", "emergency"}
	crStatus         = []string{"draft", "submitted", "approved", "rejected", "implemented", "cancelled"}
	decisions        = []string{"approved", "rejected"}
)

// Kinds lists every kind in load order: referenced kinds first.
var Kinds = []Kind{
	{Name: "team", Table: "teams", Key: []string{"id"}, Fields: []Field{
		{Name: "id", Type: Text, Required: true},
		{Name: "name", Type: Text},
		{Name: "department", Type: Text},
	}},
	{Name: "service", Table: "services", Key: []string{"id"}, Fields: []Field{
		{Name: "id", Type: Text, Required: true},
		{Name: "name", Type: Text},
		{Name: "team", Type: Text, Required: true},
		{Name: "tier", Type: Int},
		{Name: "repo", Type: Text},
		{Name: "paths", Type: TextList},
		{Name: "depends_on", Type: TextList},
		{Name: "release_managers", Type: TextList},
		{Name: "rollback_authority", Type: TextList},
		{Name: "allowed_deployers", Type: TextList},
	}},
	{Name: "deployment", Table: "deployments", Key: []string{"id"}, Order: []Order{{"started_at", "finished_at"}}, Fields: []Field{
		{Name: "id", Type: Text, Required: true},
		{Name: "service", Type: Text, Required: true},
		{Name: "environment", Type: Text, Required: true},
		{Name: "finished_at", Type: Time, Required: true},
		{Name: "started_at", Type: Time},
		{Name: "status", Type: Text, Required: true, Enum: deploymentStatus},
		{Name: "version", Type: Text},
		{Name: "commit_sha", Type: Text},
		{Name: "previous_commit_sha", Type: Text},
		{Name: "changes", Type: TextList},
		{Name: "triggered_by", Type: Text},
		{Name: "is_rollback", Type: Bool},
		{Name: "rollback_of", Type: Text},
		{Name: "is_hotfix", Type: Bool},
		{Name: "hotfix_of", Type: Text},
		{Name: "change_request", Type: Text},
		{Name: "url", Type: Text},
	}},
	// A change's commits may be older than the pull request (first_commit_at
	// before opened_at is normal); reviews, approval and merge cannot be.
	{Name: "change", Table: "changes", Key: []string{"id"}, Order: []Order{
		{"opened_at", "first_review_at"}, {"opened_at", "approved_at"}, {"opened_at", "merged_at"},
	}, Fields: []Field{
		{Name: "id", Type: Text, Required: true},
		{Name: "service", Type: Text, Required: true},
		{Name: "repo", Type: Text},
		{Name: "title", Type: Text},
		{Name: "author", Type: Text},
		{Name: "commit_shas", Type: TextList},
		{Name: "merge_commit_sha", Type: Text},
		{Name: "first_commit_at", Type: Time, Required: true},
		{Name: "opened_at", Type: Time},
		{Name: "first_review_at", Type: Time},
		{Name: "approved_at", Type: Time},
		{Name: "merged_at", Type: Time},
		{Name: "reviewers", Type: TextList},
		{Name: "approvals", Type: Int},
		{Name: "is_revert", Type: Bool},
		{Name: "labels", Type: TextList},
	}},
	{Name: "commit", Table: "commits", Key: []string{"repo", "sha"}, Fields: []Field{
		{Name: "sha", Type: Text, Required: true},
		{Name: "repo", Type: Text, Required: true},
		{Name: "parents", Type: TextList},
		{Name: "authored_at", Type: Time, Required: true},
		{Name: "committed_at", Type: Time},
		{Name: "author", Type: Text},
	}},
	{Name: "incident", Table: "incidents", Key: []string{"id"}, Order: []Order{
		{"opened_at", "acknowledged_at"}, {"opened_at", "resolved_at"},
	}, Fields: []Field{
		{Name: "id", Type: Text, Required: true},
		{Name: "service", Type: Text, Required: true},
		{Name: "severity", Type: Text, Required: true, Enum: severities},
		{Name: "title", Type: Text},
		{Name: "opened_at", Type: Time, Required: true},
		{Name: "acknowledged_at", Type: Time},
		{Name: "resolved_at", Type: Time},
		{Name: "caused_by_deployment", Type: Text},
		{Name: "root_cause_sha", Type: Text},
		{Name: "is_false_positive", Type: Bool},
		{Name: "postmortem_url", Type: Text},
		{Name: "customer_impact", Type: Text},
	}},
	// A change request may be written after the change it covers (an
	// emergency change recorded afterwards): only its planned window is
	// ordered.
	{Name: "change_request", Table: "change_requests", Key: []string{"id"}, Order: []Order{{"planned_start", "planned_end"}}, Fields: []Field{
		{Name: "id", Type: Text, Required: true},
		{Name: "services", Type: TextList, Required: true},
		{Name: "title", Type: Text},
		{Name: "risk", Type: Text, Required: true, Enum: risks},
		{Name: "requested_by", Type: Text, Required: true},
		{Name: "created_at", Type: Time, Required: true},
		{Name: "planned_start", Type: Time},
		{Name: "planned_end", Type: Time},
		{Name: "status", Type: Text, Required: true, Enum: crStatus},
		{Name: "implemented_at", Type: Time},
		{Name: "reviewed_after_at", Type: Time},
	}},
	{Name: "approval", Table: "approvals", Key: []string{"change_request", "approver", "decided_at"}, Fields: []Field{
		{Name: "change_request", Type: Text, Required: true},
		{Name: "approver", Type: Text, Required: true},
		{Name: "role", Type: Text},
		{Name: "decision", Type: Text, Required: true, Enum: decisions},
		{Name: "decided_at", Type: Time, Required: true},
	}},
	{Name: "support_ticket", Table: "support_tickets", Key: []string{"id"}, Order: []Order{{"created_at", "resolved_at"}}, Fields: []Field{
		{Name: "id", Type: Text, Required: true},
		{Name: "service", Type: Text, Required: true},
		{Name: "created_at", Type: Time, Required: true},
		{Name: "resolved_at", Type: Time},
		{Name: "priority", Type: Text},
		{Name: "category", Type: Text},
		{Name: "version", Type: Text},
		{Name: "incident", Type: Text},
	}},
	{Name: "test_run", Table: "test_runs", Key: []string{"id"}, Fields: []Field{
		{Name: "id", Type: Text, Required: true},
		{Name: "service", Type: Text, Required: true},
		{Name: "commit_sha", Type: Text, OneOf: "version"},
		{Name: "version", Type: Text, OneOf: "commit_sha"},
		{Name: "framework", Type: Text},
		{Name: "suite", Type: Text},
		{Name: "started_at", Type: Time, Required: true},
		{Name: "tests", Type: Int, Required: true},
		{Name: "passed", Type: Int, Required: true},
		{Name: "failed", Type: Int, Required: true},
		{Name: "skipped", Type: Int},
		{Name: "duration_s", Type: Float},
		{Name: "required", Type: Bool},
	}},
	{Name: "adoption", Table: "adoption", Key: []string{"service", "feature", "day"}, Fields: []Field{
		{Name: "service", Type: Text, Required: true},
		{Name: "feature", Type: Text, Required: true},
		{Name: "day", Type: Date, Required: true},
		{Name: "active_users", Type: Int, Required: true},
		{Name: "eligible_users", Type: Int},
		{Name: "version", Type: Text},
	}},
	{Name: "release_plan", Table: "release_plans", Key: []string{"id"}, Order: []Order{{"window_start", "window_end"}}, Fields: []Field{
		{Name: "id", Type: Text, Required: true},
		{Name: "service", Type: Text, Required: true},
		{Name: "version", Type: Text, Required: true},
		{Name: "planned_at", Type: Time, Required: true},
		{Name: "window_start", Type: Time},
		{Name: "window_end", Type: Time},
		{Name: "environment", Type: Text},
	}},
}

var byName = func() map[string]*Kind {
	m := make(map[string]*Kind, len(Kinds))
	for i := range Kinds {
		m[Kinds[i].Name] = &Kinds[i]
	}
	return m
}()

// Lookup returns the kind with the given name, or false.
func Lookup(name string) (*Kind, bool) {
	k, ok := byName[name]
	return k, ok
}

// LookupTable returns the kind whose canonical table (or, for file names,
// kind name) matches, so that "deployments.csv" and "deployment.csv" both
// resolve.
func LookupTable(name string) (*Kind, bool) {
	if k, ok := byName[name]; ok {
		return k, true
	}
	for i := range Kinds {
		if Kinds[i].Table == name {
			return &Kinds[i], true
		}
	}
	return nil, false
}

// Names returns the kind names, sorted.
func Names() []string {
	names := make([]string, 0, len(Kinds))
	for _, k := range Kinds {
		names = append(names, k.Name)
	}
	sort.Strings(names)
	return names
}
