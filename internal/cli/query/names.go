package query

import (
	"context"
	"fmt"

	"github.com/shiplog/shiplog/internal/catalog"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/suggest"
	"github.com/shiplog/shiplog/queries"
)

// nameParams are the parameters of named queries whose values are names
// the warehouse knows; a value nobody has is an error with the closest
// known names, not an empty result.
var nameParams = []string{"service", "team", "department"}

// checkNames checks the values of q's name parameters in params against
// the catalog read through run, and puts them in the warehouse's spelling.
// An empty value means "all" and is left alone.
func checkNames(ctx context.Context, run output.QueryFunc, q queries.Query, params map[string]string) error {
	var cat *catalog.Catalog
	for _, name := range nameParams {
		v, ok := params[name]
		if _, declared := q.Param(name); !ok || !declared || v == "" {
			continue
		}
		if cat == nil {
			var err error
			if cat, err = catalog.Load(ctx, run); err != nil {
				return err
			}
		}
		known, err := cat.Check(name, v)
		if err != nil {
			return fmt.Errorf("--param %s: %w", name, err)
		}
		params[name] = known
	}
	return nil
}

// unknownQuery is the error for a --name nobody has.
func unknownQuery(name string) error {
	var names []string
	for _, q := range queries.List() {
		names = append(names, q.Name)
	}
	_, err := suggest.Check("query", name, names)
	if ue, ok := err.(*suggest.UnknownError); ok {
		ue.Hint = "shiplog query --list shows them"
	}
	return err
}
