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
	pg, err := w.specPage(ctx, spec)
	if err != nil {
		return err
	}
	body, err := pg.render()
	if err != nil {
		return err
	}
	w.add(scopedFile("retro", w.opts.Team), pg.Title+" — "+pg.Subtitle, Retro, body)
	return nil
}

// dashboard writes any spec as dashboard-NAME.html.
func (w *writer) dashboard(ctx context.Context, spec dashboards.Spec) error {
	pg, err := w.specPage(ctx, spec)
	if err != nil {
		return err
	}
	body, err := pg.render()
	if err != nil {
		return err
	}
	w.add(scopedFile("dashboard-"+spec.Name, w.opts.Team), pg.Title+" — "+pg.Subtitle, "dashboard", body)
	return nil
}

func (w *writer) specPage(ctx context.Context, spec dashboards.Spec) (*page, error) {
	who := "Organisation"
	if w.opts.Team != "" {
		who = "Team " + w.opts.Team
	}
	pg := newPage(spec.Title, who, w.from, w.to, w.opts.Now)
	if spec.Description != "" {
		pg.Summary = []string{spec.Description}
	}
	sc := scope{Team: w.opts.Team, From: w.from, To: w.to}
	for _, p := range spec.Panels {
		t, err := w.panelTable(ctx, p, sc)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", spec.Name, err)
		}
		b, err := pg.renderPanel(p, t)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", spec.Name, err)
		}
		pg.Blocks = append(pg.Blocks, b)
	}
	return pg, nil
}
