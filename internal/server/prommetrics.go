package server

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// promMetrics are the server's Prometheus series, in a registry of its own
// so that tests can start several servers.
type promMetrics struct {
	reg          *prometheus.Registry
	jobRuns      *prometheus.CounterVec
	jobDuration  *prometheus.HistogramVec
	jobRows      *prometheus.CounterVec
	jobLastOK    *prometheus.GaugeVec
	webhookReqs  *prometheus.CounterVec
	webhookRecs  *prometheus.CounterVec
	flightQuerys *prometheus.CounterVec
}

func newPromMetrics() *promMetrics {
	m := &promMetrics{
		reg: prometheus.NewRegistry(),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shiplog_job_runs_total", Help: "Scheduled or manual job runs by job and outcome.",
		}, []string{"job", "status"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shiplog_job_duration_seconds", Help: "Job run time.",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900},
		}, []string{"job"}),
		jobRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shiplog_job_rows_written_total", Help: "Rows written by jobs.",
		}, []string{"job"}),
		jobLastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shiplog_job_last_success_timestamp_seconds", Help: "Unix time of the job's last successful run.",
		}, []string{"job"}),
		webhookReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shiplog_webhook_requests_total", Help: "Push and webhook requests by endpoint and HTTP status.",
		}, []string{"endpoint", "code"}),
		webhookRecs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shiplog_webhook_records_total", Help: "Records stored from push and webhook requests.",
		}, []string{"endpoint"}),
		flightQuerys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shiplog_flightsql_queries_total", Help: "Flight SQL queries by outcome: ok, or refused (not read-only, or failed).",
		}, []string{"status"}),
	}
	m.reg.MustRegister(m.jobRuns, m.jobDuration, m.jobRows, m.jobLastOK, m.webhookReqs, m.webhookRecs, m.flightQuerys)
	return m
}

func (m *promMetrics) jobDone(job string, d time.Duration, rows int64, err error, end time.Time) {
	status := "success"
	if err != nil {
		status = "failed"
	} else {
		m.jobLastOK.WithLabelValues(job).Set(float64(end.Unix()))
	}
	m.jobRuns.WithLabelValues(job, status).Inc()
	m.jobDuration.WithLabelValues(job).Observe(d.Seconds())
	m.jobRows.WithLabelValues(job).Add(float64(rows))
}

// TeamGauges are one team's DORA metrics for the current period, as the
// metrics engine computes them; a nil value (no deployments: no rate) is
// left out of the scrape rather than shown as 0.
type TeamGauges struct {
	Team string
	// Period names the period ("2026-12"), a label of every gauge.
	Period string
	// Values by gauge name (DORAGaugeNames).
	Values map[string]*float64
}

// DORAGaugeNames are the gauges of serve.dora_gauges, each after the
// metrics column it carries: deployment frequency (deployments per day),
// lead time (median hours), change failure rate, recovery time (median
// hours) and rework rate.
var DORAGaugeNames = map[string]string{
	"deployments_per_day":    "Successful production deployments per day in the current period.",
	"lead_time_median_hours": "Median change lead time in hours in the current period.",
	"change_failure_rate":    "Failed deployments over successful production deployments in the current period.",
	"recovery_median_hours":  "Median failed deployment recovery time in hours in the current period.",
	"rework_rate":            "Unplanned over all successful production deployments in the current period.",
}

// doraCollector computes the gauges at each scrape, so they are as fresh
// as the marts and cost nothing when nobody scrapes.
type doraCollector struct {
	compute func(ctx context.Context) ([]TeamGauges, error)
	descs   map[string]*prometheus.Desc
	log     io.Writer
	timeout time.Duration
}

func newDORACollector(compute func(ctx context.Context) ([]TeamGauges, error), log io.Writer) *doraCollector {
	c := &doraCollector{compute: compute, descs: map[string]*prometheus.Desc{}, log: log, timeout: 30 * time.Second}
	for name, help := range DORAGaugeNames {
		c.descs[name] = prometheus.NewDesc("shiplog_dora_"+name, help, []string{"team", "period"}, nil)
	}
	return c
}

func (c *doraCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *doraCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	teams, err := c.compute(ctx)
	if err != nil {
		fmt.Fprintf(c.log, "serve: dora gauges: %v\n", err)
		return
	}
	for _, t := range teams {
		for name, v := range t.Values {
			d := c.descs[name]
			if d == nil || v == nil {
				continue
			}
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, *v, t.Team, t.Period)
		}
	}
}
