//! The Monitoring page: the instance's Prometheus metrics made readable,
//! counters and gauges by label, and each operation's calls, errors and
//! latency percentiles, estimated from its histogram's buckets as
//! Prometheus' `histogram_quantile` does.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use prometheus_parse::{HistogramCount, Scrape, Value};
use serde::Serialize;

use crate::Console;
use crate::error::ApiResult;
use crate::session::Admin;

/// The histogram of operation latencies.
const DURATION: &str = "doorward_operation_duration_seconds";
/// The counter of failed operations, by operation and code.
const ERRORS: &str = "doorward_operation_errors_total";

/// One counter or gauge series.
#[derive(Debug, Serialize)]
pub(crate) struct Series {
    name: String,
    help: String,
    kind: &'static str,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// One operation's calls and latency.
#[derive(Debug, Default, Serialize)]
pub(crate) struct OperationStats {
    operation: String,
    calls: f64,
    errors: f64,
    mean_ms: Option<f64>,
    p50_ms: Option<f64>,
    p90_ms: Option<f64>,
    p99_ms: Option<f64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Monitoring {
    series: Vec<Series>,
    operations: Vec<OperationStats>,
}

/// GET `api/metrics`.
pub(crate) async fn show(
    State(console): State<Arc<Console>>,
    _admin: Admin,
) -> ApiResult<Json<Monitoring>> {
    let text = console.dw.metrics_text().await?;
    Ok(Json(read(&text)))
}

/// The metrics text, read.
pub(crate) fn read(text: &str) -> Monitoring {
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    let scrape = match Scrape::parse(lines) {
        Ok(scrape) => scrape,
        Err(never) => unreachable!("reading lines from a string cannot fail: {never}"),
    };
    let mut series = Vec::new();
    let mut operations: BTreeMap<String, OperationStats> = BTreeMap::new();
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    for sample in scrape.samples {
        let labels: BTreeMap<String, String> = sample
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let operation = labels.get("operation").cloned().unwrap_or_default();
        match sample.value {
            Value::Histogram(buckets) if sample.metric == DURATION => {
                let stats = stats_of(&mut operations, &operation);
                stats.calls = buckets.iter().map(|b| b.count).fold(0.0, f64::max);
                stats.p50_ms = quantile(&buckets, 0.5).map(|s| s * 1000.0);
                stats.p90_ms = quantile(&buckets, 0.9).map(|s| s * 1000.0);
                stats.p99_ms = quantile(&buckets, 0.99).map(|s| s * 1000.0);
            }
            Value::Untyped(sum) if sample.metric == format!("{DURATION}_sum") => {
                sums.insert(operation, sum);
            }
            Value::Untyped(_) if sample.metric.starts_with(DURATION) => {}
            Value::Counter(n) | Value::Gauge(n) | Value::Untyped(n) => {
                // Failures count per operation too, and stay listed.
                if sample.metric == ERRORS {
                    stats_of(&mut operations, &operation).errors += n;
                }
                let kind = match sample.value {
                    Value::Counter(_) => "counter",
                    Value::Gauge(_) => "gauge",
                    _ => "untyped",
                };
                series.push(Series {
                    help: scrape.docs.get(&sample.metric).cloned().unwrap_or_default(),
                    name: sample.metric,
                    kind,
                    labels,
                    value: n,
                });
            }
            Value::Histogram(_) | Value::Summary(_) => {}
        }
    }
    for (operation, sum) in sums {
        let stats = stats_of(&mut operations, &operation);
        if stats.calls > 0.0 {
            stats.mean_ms = Some(sum / stats.calls * 1000.0);
        }
    }
    series.sort_by(|a, b| (&a.name, &a.labels).cmp(&(&b.name, &b.labels)));
    Monitoring {
        series,
        operations: operations.into_values().collect(),
    }
}

fn stats_of<'a>(
    operations: &'a mut BTreeMap<String, OperationStats>,
    operation: &str,
) -> &'a mut OperationStats {
    operations
        .entry(operation.to_string())
        .or_insert_with(|| OperationStats {
            operation: operation.to_string(),
            ..OperationStats::default()
        })
}

/// The `q` quantile of cumulative buckets, in the buckets' unit:
/// interpolated linearly inside the bucket it falls in; in the last,
/// unbounded bucket, the largest finite bound. None without observations.
fn quantile(buckets: &[HistogramCount], q: f64) -> Option<f64> {
    let mut buckets = buckets.to_vec();
    buckets.sort_by(|a, b| a.less_than.total_cmp(&b.less_than));
    let total = buckets.last()?.count;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for bucket in &buckets {
        if bucket.count >= rank {
            if bucket.less_than.is_infinite() {
                return Some(lower);
            }
            let inside = bucket.count - below;
            let fraction = if inside > 0.0 {
                (rank - below) / inside
            } else {
                1.0
            };
            return Some(lower + (bucket.less_than - lower) * fraction);
        }
        lower = bucket.less_than;
        below = bucket.count;
    }
    Some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(less_than: f64, count: f64) -> HistogramCount {
        HistogramCount { less_than, count }
    }

    #[test]
    fn quantiles_interpolate_inside_a_bucket() {
        let buckets = [
            bucket(0.001, 0.0),
            bucket(0.01, 50.0),
            bucket(0.1, 100.0),
            bucket(f64::INFINITY, 100.0),
        ];
        let p50 = quantile(&buckets, 0.5).unwrap();
        assert!((p50 - 0.01).abs() < 1e-12, "{p50}");
        let p90 = quantile(&buckets, 0.9).unwrap();
        assert!((p90 - (0.01 + 0.09 * 0.8)).abs() < 1e-12, "{p90}");
        assert_eq!(quantile(&[bucket(f64::INFINITY, 0.0)], 0.5), None);
        // Past the last finite bound: that bound.
        let slow = [bucket(5.0, 1.0), bucket(f64::INFINITY, 10.0)];
        assert_eq!(quantile(&slow, 0.99), Some(5.0));
    }

    #[test]
    fn reads_counters_and_operations() {
        let text = "\
# HELP doorward_logins_total Login attempts.
# TYPE doorward_logins_total counter
doorward_logins_total{outcome=\"success\"} 3
# TYPE doorward_operation_errors_total counter
doorward_operation_errors_total{operation=\"auth.login\",code=\"invalid_credentials\"} 1
# TYPE doorward_operation_duration_seconds histogram
doorward_operation_duration_seconds_bucket{operation=\"auth.login\",le=\"0.01\"} 2
doorward_operation_duration_seconds_bucket{operation=\"auth.login\",le=\"0.1\"} 4
doorward_operation_duration_seconds_bucket{operation=\"auth.login\",le=\"+Inf\"} 4
doorward_operation_duration_seconds_sum{operation=\"auth.login\"} 0.2
doorward_operation_duration_seconds_count{operation=\"auth.login\"} 4
";
        let read = read(text);
        let login = &read.operations[0];
        assert_eq!(login.operation, "auth.login");
        assert_eq!((login.calls, login.errors), (4.0, 1.0));
        assert!((login.mean_ms.unwrap() - 50.0).abs() < 1e-9);
        assert!((login.p50_ms.unwrap() - 10.0).abs() < 1e-9);
        let logins = read
            .series
            .iter()
            .find(|s| s.name == "doorward_logins_total")
            .unwrap();
        assert_eq!(
            (logins.value, logins.help.as_str()),
            (3.0, "Login attempts.")
        );
    }
}
