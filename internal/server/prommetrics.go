package server

import (
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
