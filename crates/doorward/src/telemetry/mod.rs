//! Metrics through the `metrics` crate, rendered as Prometheus text by
//! [`crate::Doorward::metrics_text`]; with the `otel` feature, the tracing
//! spans exported over OTLP (`otel`).
//!
//! Each instance records into its own Prometheus registry, so a host with
//! two instances (or a test suite) keeps their counts apart and doorward
//! never claims the process-wide recorder a host may have installed. Every
//! observation is also handed to that global recorder, so a Rust host that
//! installed one (Prometheus, StatsD, OpenTelemetry) sees doorward's metrics
//! there too; without one that is a no-op.

mod operation;
#[cfg(feature = "otel")]
pub mod otel;
mod tally;

pub(crate) use operation::{Operation, operation, span_name};
pub(crate) use tally::Tally;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use metrics::{Key, Label, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// Histogram buckets for operation latency, in seconds: from half a
/// millisecond (a cached check) to five seconds (a slow store).
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Every metric doorward records, with its help text.
const COUNTERS: &[(&str, &str)] = &[
    ("doorward_registrations_total", "Users registered."),
    (
        "doorward_oauth_callbacks_total",
        "OAuth callbacks completed, by provider and outcome.",
    ),
    (
        "doorward_logins_total",
        "Login attempts, by outcome (success or the error code).",
    ),
    (
        "doorward_token_refreshes_total",
        "Refresh-token exchanges, by outcome (success or the error code).",
    ),
    (
        "doorward_token_reuse_detected_total",
        "Rotated refresh tokens presented again (their session was revoked).",
    ),
    (
        "doorward_mfa_verifications_total",
        "Second factors and passkeys presented, by method, by when (login, step_up, sign_in, enrolment) and by outcome.",
    ),
    (
        "doorward_mfa_enrolments_total",
        "Second factors enrolled, by factor (totp, passkey).",
    ),
    (
        "doorward_rate_limited_total",
        "Calls refused by a rate limit, by operation.",
    ),
    (
        "doorward_account_lockouts_total",
        "Accounts locked after failed logins.",
    ),
    (
        "doorward_operation_errors_total",
        "Public operations that failed, by operation and error code.",
    ),
    (
        "doorward_fast_path_total",
        "Calls of auth.verify_token, auth.can and auth.require answered from memory (no I/O), by operation: counted without a span or a latency sample, which would cost more than the answer. Failures count in doorward_operation_errors_total; calls that waited on I/O in doorward_operation_duration_seconds.",
    ),
    (
        "doorward_cache_hits_total",
        "Cache hits, by level (l1, l2).",
    ),
    (
        "doorward_cache_misses_total",
        "Cache misses, by level (l1, l2).",
    ),
    (
        "doorward_events_delivered_total",
        "Events and webhook deliveries handed over successfully.",
    ),
    (
        "doorward_events_failed_total",
        "Failed delivery attempts (retried later).",
    ),
    (
        "doorward_events_dead_total",
        "Deliveries given up after the last attempt.",
    ),
    (
        "doorward_events_pruned_total",
        "Events removed from the outbox once past their retention.",
    ),
];

const GAUGES: &[(&str, &str)] = &[
    (
        "doorward_outbox_backlog",
        "Events committed but not yet taken by a consumer, by consumer.",
    ),
    (
        "doorward_webhook_deliveries_pending",
        "Webhook deliveries waiting for an attempt.",
    ),
    (
        "doorward_active_sessions",
        "Sessions neither revoked nor expired.",
    ),
];

const OPERATION_SECONDS: &str = "doorward_operation_duration_seconds";

/// One instance's metrics.
pub(crate) struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Latencies recorded since the last upkeep.
    pending: AtomicU64,
    /// Successful in-memory answers of each [`Hot`] operation.
    fast: [Tally; Hot::ALL.len()],
}

/// The operations a host calls on every request, answered from memory in
/// well under a microsecond when they can be. There, a span and a latency
/// sample through the recorder cost several times the answer, so such an
/// answer is counted with one atomic add instead; a call that must wait on
/// the store or Redis is observed like any other operation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Hot {
    VerifyToken,
    Can,
    Require,
}

impl Hot {
    const ALL: [Hot; 3] = [Hot::VerifyToken, Hot::Can, Hot::Require];

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Hot::VerifyToken => "auth.verify_token",
            Hot::Can => "auth.can",
            Hot::Require => "auth.require",
        }
    }
}

/// Latencies recorded between two upkeeps. The Prometheus recorder keeps
/// every sample until an upkeep (or a render) folds it into the buckets:
/// without one, a host that never renders `metrics_text()` grew by ~8
/// bytes per operation for as long as it ran (found by `scripts/soak`).
const UPKEEP_EVERY: u64 = 4096;

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// Labels as the `metrics` crate takes them.
fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    Key::from_parts(
        name,
        labels
            .iter()
            .map(|(k, v)| Label::new(*k, v.to_string()))
            .collect::<Vec<_>>(),
    )
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        for (name, help) in COUNTERS {
            recorder.describe_counter((*name).into(), None, (*help).into());
        }
        for (name, help) in GAUGES {
            recorder.describe_gauge((*name).into(), None, (*help).into());
        }
        recorder.describe_histogram(
            OPERATION_SECONDS.into(),
            Some(Unit::Seconds),
            "Latency of public operations, by operation.".into(),
        );
        let handle = recorder.handle();
        Metrics {
            recorder,
            handle,
            pending: AtomicU64::new(0),
            fast: Default::default(),
        }
    }

    /// Count the in-memory answer of a hot operation: one atomic add for
    /// a success, the error counters for a failure, nothing for
    /// `would_block` (the async call that follows is observed).
    pub(crate) fn fast<T>(&self, op: Hot, result: crate::Result<T>) -> crate::Result<T> {
        match &result {
            Ok(_) => {
                self.fast[op as usize].bump();
            }
            Err(crate::Error::WouldBlock) => {}
            Err(e) => self.failed(op.name(), e),
        }
        result
    }

    /// Apply `f` to this instance's recorder and to the global one.
    fn each(&self, f: impl Fn(&dyn Recorder)) {
        f(&self.recorder);
        metrics::with_recorder(|global| f(global));
    }

    /// Add one to a counter.
    pub(crate) fn count(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        self.add(name, labels, 1);
    }

    /// Add `n` to a counter.
    pub(crate) fn add(&self, name: &'static str, labels: &[(&'static str, &str)], n: u64) {
        let key = key(name, labels);
        self.each(|r| r.register_counter(&key, &METADATA).increment(n));
    }

    /// Set a counter kept elsewhere (the cache's and the dispatcher's own
    /// atomics) to its current total.
    pub(crate) fn total(&self, name: &'static str, labels: &[(&'static str, &str)], value: u64) {
        let key = key(name, labels);
        self.each(|r| r.register_counter(&key, &METADATA).absolute(value));
    }

    pub(crate) fn gauge(&self, name: &'static str, labels: &[(&'static str, &str)], value: f64) {
        let key = key(name, labels);
        self.each(|r| r.register_gauge(&key, &METADATA).set(value));
    }

    /// Time an operation until the returned guard drops.
    pub(crate) fn time(&self, operation: &'static str) -> Timer<'_> {
        Timer {
            metrics: self,
            operation,
            started: Instant::now(),
        }
    }

    /// Count a failed operation by its error code (and a rate-limited one
    /// as such).
    pub(crate) fn failed(&self, operation: &'static str, error: &crate::Error) {
        let code = error.code().as_str();
        self.count(
            "doorward_operation_errors_total",
            &[("operation", operation), ("code", code)],
        );
        if error.code() == crate::ErrorCode::RateLimited {
            self.count("doorward_rate_limited_total", &[("operation", operation)]);
        }
    }

    /// The Prometheus text of everything recorded so far.
    pub(crate) fn render(&self) -> String {
        self.handle.render()
    }
}

/// Records an operation's latency when dropped.
pub(crate) struct Timer<'a> {
    metrics: &'a Metrics,
    operation: &'static str,
    started: Instant,
}

impl Timer<'_> {
    /// Record the outcome too: the error counters for an `Err`.
    pub(crate) fn outcome<T>(self, result: crate::Result<T>) -> crate::Result<T> {
        if let Err(e) = &result {
            self.metrics.failed(self.operation, e);
        }
        result
    }
}

impl Drop for Timer<'_> {
    fn drop(&mut self) {
        let seconds = self.started.elapsed().as_secs_f64();
        let key = key(OPERATION_SECONDS, &[("operation", self.operation)]);
        self.metrics
            .each(|r| r.register_histogram(&key, &METADATA).record(seconds));
        let pending = &self.metrics.pending;
        if pending.fetch_add(1, Ordering::Relaxed) + 1 >= UPKEEP_EVERY {
            pending.store(0, Ordering::Relaxed);
            self.metrics.handle.run_upkeep();
        }
    }
}

/// Bring the totals kept elsewhere and the gauges up to date, then render.
pub(crate) async fn render(core: &crate::core::Core) -> crate::Result<String> {
    let metrics = &core.metrics;
    for op in Hot::ALL {
        let answered = metrics.fast[op as usize].total();
        metrics.total(
            "doorward_fast_path_total",
            &[("operation", op.name())],
            answered,
        );
    }
    let cache = core.cache.stats();
    for (level, hits, misses) in [
        ("l1", cache.l1_hits, cache.l1_misses),
        ("l2", cache.l2_hits, cache.l2_misses),
    ] {
        metrics.total("doorward_cache_hits_total", &[("level", level)], hits);
        metrics.total("doorward_cache_misses_total", &[("level", level)], misses);
    }
    let store = &core.store;
    let last = store.last_event_seq().await?;
    for consumer in store.consumers().await? {
        metrics.gauge(
            "doorward_outbox_backlog",
            &[("consumer", &consumer.name)],
            last.saturating_sub(consumer.position) as f64,
        );
    }
    metrics.gauge(
        "doorward_webhook_deliveries_pending",
        &[],
        store.pending_deliveries().await? as f64,
    );
    metrics.gauge(
        "doorward_active_sessions",
        &[],
        store.count_live_sessions(crate::store::now()).await? as f64,
    );
    Ok(metrics.render())
}
