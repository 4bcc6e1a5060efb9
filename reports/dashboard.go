package reports

import (
	"context"
	"fmt"

	"github.com/shiplog/shiplog/dashboards"
)

// retro writes the retrospective report: the retro dashboard spec drawn
// for the team (or the organisation) and the period.
func (w *writer) retro(ctx context.Context) error {
	spec, err := dashboards.Find("retro", w.opts.Dashboards...)
	if err != nil {
		return err
	}
	file := scopedFile("retro", w.opts.Team)
	pg, err := w.specPageFile(ctx, spec, file)
	if err != nil {
		return err
	}
	return w.addPage(pg, file, pg.Title+" — "+pg.Subtitle, Retro)
}

// dashboard writes any spec as dashboard-NAME.html.
func (w *writer) dashboard(ctx context.Context, spec dashboards.Spec) error {
	file := scopedFile("dashboard-"+spec.Name, w.opts.Team)
	pg, err := w.specPageFile(ctx, spec, file)
	if err != nil {
		return err
	}
	return w.addPage(pg, file, pg.Title+" — "+pg.Subtitle, "dashboard")
}

// specPage renders a spec as a page in memory, without CSV files.
func (w *writer) specPage(ctx context.Context, spec dashboards.Spec) (*page, error) {
	return w.specPageFile(ctx, spec, "")
}

// specPageFile renders a spec as the page file (its tables as CSV beside
// it when file is given).
func (w *writer) specPageFile(ctx context.Context, spec dashboards.Spec, file string) (*page, error) {
	who := "Organisation"
	if w.opts.Team != "" {
		who = "Team " + w.opts.Team
	}
	pg := w.newPage(spec.Title, who, file)
	if spec.Description != "" {
		pg.Summary = []string{spec.Description}
	}
	sc := scope{Team: w.opts.Team, From: w.from, To: w.to}
	for _, p := range spec.Panels {
		b, err := w.panelBlock(ctx, pg, p, sc)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", spec.Name, err)
		}
		pg.Blocks = append(pg.Blocks, b)
	}
	return pg, nil
}
