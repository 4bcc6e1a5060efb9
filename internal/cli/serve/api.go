package serve

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shiplog/shiplog/internal/access"
	auditcmd "github.com/shiplog/shiplog/internal/cli/audit"
	explaincmd "github.com/shiplog/shiplog/internal/cli/explain"
	metricscmd "github.com/shiplog/shiplog/internal/cli/metrics"
	querycmd "github.com/shiplog/shiplog/internal/cli/query"
	"github.com/shiplog/shiplog/internal/cmdutil"
	"github.com/shiplog/shiplog/internal/config"
	"github.com/shiplog/shiplog/internal/coverage"
	"github.com/shiplog/shiplog/internal/format"
	"github.com/shiplog/shiplog/internal/output"
	"github.com/shiplog/shiplog/internal/server"
	"github.com/shiplog/shiplog/internal/suggest"
	"github.com/shiplog/shiplog/internal/warehouse"
	"github.com/shiplog/shiplog/metrics"
	"github.com/shiplog/shiplog/queries"
)

// ReadAPI answers the read API with the command line's own code paths
// (metricscmd.Compute, explaincmd.Compute, auditcmd.Compute,
// querycmd.Named, coverage.Load), so an answer is the document the same
// command prints with --format json.
func ReadAPI(db *warehouse.DB, cfg *config.Config, now func() time.Time) *server.ReadAPI {
	if now == nil {
		now = time.Now
	}
	limit := func(req *server.APIRequest) *metricscmd.Limit {
		if req.Limit == nil {
			return nil
		}
		return &metricscmd.Limit{Token: req.Limit.Token, Teams: req.Limit.Teams}
	}
	return &server.ReadAPI{
		ExplainMetrics: metrics.ExplainMetrics,
		Metrics: func(ctx context.Context, req *server.APIRequest) (map[string]any, error) {
			r, err := metricscmd.RequestFrom(req.Query, true)
			if err != nil {
				return nil, badRequest(err)
			}
			r.Limit = limit(req)
			a, err := metricscmd.Compute(ctx, db, cfg, now, r)
			if err != nil {
				return nil, nameError(err)
			}
			return output.JSONDocument(a.Table, forTeams(req, a.Extra)), nil
		},
		Explain: func(ctx context.Context, req *server.APIRequest) (map[string]any, error) {
			r, err := metricscmd.RequestFrom(req.Query, false)
			if err != nil {
				return nil, badRequest(err)
			}
			r.Limit = limit(req)
			a, err := explaincmd.Compute(ctx, db, cfg, now, req.Path["metric"], r)
			if err != nil {
				return nil, nameError(err)
			}
			return output.JSONDocument(a.Table, forTeams(req, a.Extra)), nil
		},
		Audit: func(ctx context.Context, req *server.APIRequest) (map[string]any, error) {
			var from, to time.Time
			var err error
			if from, err = metricscmd.ParseTime(req.Query.Get("from")); err != nil {
				return nil, badRequest(&metricscmd.ParamError{Param: "from", Err: err})
			}
			if to, err = metricscmd.ParseTime(req.Query.Get("to")); err != nil {
				return nil, badRequest(&metricscmd.ParamError{Param: "to", Err: err})
			}
			a, err := auditcmd.Compute(ctx, db, output.DB(db), nil, cfg, now, from, to, req.Query["control"])
			if err != nil {
				return nil, nameError(err)
			}
			return a.Document(), nil
		},
		Queries: func(ctx context.Context, req *server.APIRequest) (map[string]any, error) {
			return output.JSONDocument(querycmd.ListTable(queries.List()), nil), nil
		},
		Query: func(ctx context.Context, req *server.APIRequest) (map[string]any, error) {
			name := req.Path["name"]
			params := map[string]string{}
			for k, v := range req.Query {
				if len(v) > 1 {
					return nil, &server.APIError{Code: http.StatusBadRequest, Err: errors.New("parameter " + k + ": given more than once, takes one value")}
				}
				params[k] = v[0]
			}
			if req.Limit != nil {
				// A query answers for the teams its team parameter names;
				// one limited to some teams must name one of them.
				q, ok := queries.Get(name)
				if ok {
					if _, has := q.Param("team"); !has || params["team"] == "" {
						return nil, &access.Denied{Need: access.Read, Token: req.Limit.Token,
							Has: (access.Scope{Kind: access.Read, Teams: req.Limit.Teams}).String(),
							Why: "query " + name + " is limited to teams only through its team parameter, which must name one of them"}
					}
					if !slices.Contains(req.Limit.Teams, strings.ToLower(strings.TrimSpace(params["team"]))) {
						return nil, access.Within(req.Limit.Token, req.Limit.Teams, []string{params["team"]})
					}
				}
			}
			t, err := querycmd.Named(ctx, db, cfg, now, name, params)
			if err != nil {
				var ue *suggest.UnknownError
				if errors.As(err, &ue) {
					return nil, &server.APIError{Code: http.StatusNotFound, Err: err}
				}
				return nil, nameError(err)
			}
			return output.JSONDocument(t, nil), nil
		},
		Coverage: func(ctx context.Context, req *server.APIRequest) (map[string]any, error) {
			cov, err := coverage.Load(ctx, output.DB(db), now(), cfg.Reports.StaleAfter.D())
			if err != nil {
				return nil, err
			}
			return cov.Document(), nil
		},
	}
}

// teamHidden are the members of the coverage document that describe the
// whole warehouse: rows per source and kind, and every source's ingest
// runs.
var teamHidden = []string{"sources", "ingests"}

// forTeams returns the extra members of an answer for a request limited
// to some teams: the coverage keeps what qualifies the numbers (the data
// range, staleness, the last ingest) and drops what counts every team's
// data, which such a token may not see. Other requests get extra as it is.
func forTeams(req *server.APIRequest, extra map[string]any) map[string]any {
	cov, ok := extra["coverage"].(map[string]any)
	if req.Limit == nil || !ok {
		return extra
	}
	out := maps.Clone(extra)
	cov = maps.Clone(cov)
	for _, k := range teamHidden {
		delete(cov, k)
	}
	cov["limited_to_teams"] = req.Limit.Teams
	out["coverage"] = cov
	return out
}

// badRequest marks a parameter error as 400.
func badRequest(err error) error {
	return &server.APIError{Code: http.StatusBadRequest, Err: err}
}

// nameError makes the errors of a request's content 400: a name the
// warehouse does not know (with the closest known ones), a flag-like
// error; a refusal of scope passes as it is; anything else is the
// server's fault.
func nameError(err error) error {
	var ue *suggest.UnknownError
	var fe *cmdutil.FlagError
	var pe *metricscmd.ParamError
	if errors.As(err, &ue) || errors.As(err, &fe) || errors.As(err, &pe) {
		return badRequest(err)
	}
	return err
}

// DORAGauges computes, for /metrics, the five DORA metrics per team over
// the current calendar month so far (to now), with the metrics engine of
// `shiplog metrics --level team`.
func DORAGauges(db *warehouse.DB, cfg *config.Config, now func() time.Time) func(ctx context.Context) ([]server.TeamGauges, error) {
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context) ([]server.TeamGauges, error) {
		t := now().UTC()
		start := coverage.Start("month", t)
		end := t
		if !start.Before(end) {
			end = start.Add(time.Second)
		}
		a, err := metricscmd.Compute(ctx, db, cfg, func() time.Time { return t }, metricscmd.Request{
			// The month so far: a rate per day is over the days gone by.
			Filter: metrics.Filter{From: start, To: end, Level: "team"},
			View:   "dora",
		})
		if err != nil {
			return nil, err
		}
		ti := a.Table.Index("team")
		if ti < 0 {
			return nil, errors.New("dora gauges: the metrics have no team column")
		}
		var out []server.TeamGauges
		for _, r := range a.Table.Rows {
			g := server.TeamGauges{Team: output.Text(r[ti]), Period: start.Format("2006-01"), Values: map[string]*float64{}}
			for name := range server.DORAGaugeNames {
				i := a.Table.Index(name)
				if i < 0 || r[i] == nil {
					continue
				}
				if v, ok := format.Float(r[i]); ok {
					g.Values[name] = &v
				}
			}
			out = append(out, g)
		}
		return out, nil
	}
}
