package drift

import (
	"context"
	"fmt"

	"github.com/shiplog/shiplog/internal/warehouse"
)

// Graph is a commit graph: each known commit's parents.
type Graph struct {
	parents map[string][]string
}

// LoadGraph reads the commits (dim_commits) of every repository that holds
// one of shas (commits of one sha from several sources count once).
func LoadGraph(ctx context.Context, db *warehouse.DB, shas []string) (*Graph, error) {
	g := &Graph{parents: map[string][]string{}}
	if len(shas) == 0 {
		return g, nil
	}
	sc := scripts["commit_graph"]
	vals, err := sc.Args(map[string]any{"shas": shas})
	if err != nil {
		return nil, fmt.Errorf("drift: commit graph: %w", err)
	}
	rows, err := sc.Query(ctx, db, vals)
	if err != nil {
		return nil, fmt.Errorf("drift: commit graph: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sha string
		var ps []any
		if err := rows.Scan(&sha, &ps); err != nil {
			return nil, err
		}
		list := make([]string, 0, len(ps))
		for _, p := range ps {
			if p != nil {
				list = append(list, fmt.Sprint(p))
			}
		}
		g.parents[sha] = list
	}
	return g, rows.Err()
}

// Has reports whether sha is a known commit.
func (g *Graph) Has(sha string) bool {
	_, ok := g.parents[sha]
	return sha != "" && ok
}

// ancestors returns sha and every commit reachable from it through known
// parents.
func (g *Graph) ancestors(sha string) map[string]bool {
	seen := map[string]bool{sha: true}
	stack := []string{sha}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range g.parents[c] {
			if !seen[p] {
				seen[p] = true
				stack = append(stack, p)
			}
		}
	}
	return seen
}

// Apart returns how many commits are reachable from a and not from b
// (ahead), and from b and not from a (behind), as `git rev-list --count
// b..a` and `a..b` would.
func (g *Graph) Apart(a, b string) (ahead, behind int) {
	if a == b {
		return 0, 0
	}
	ra, rb := g.ancestors(a), g.ancestors(b)
	for c := range ra {
		if !rb[c] {
			ahead++
		}
	}
	for c := range rb {
		if !ra[c] {
			behind++
		}
	}
	return ahead, behind
}
