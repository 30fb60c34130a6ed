//! Prometheus text exposition for `GET /metrics`: requests by route and
//! status (counted by a middleware), the engine's cache and synthesis
//! counters and the admission queue's gauges, then the histograms and
//! labelled series recorded anywhere with the `metrics` macros and kept by
//! the `metrics-exporter-prometheus` recorder of this process:
//!
//! * `loa_http_request_duration_seconds{route}`: time to answer, by route;
//! * `loa_time_to_first_audio_seconds{kind}`: a player's first sentence
//!   (`sentence`: `GET …/0.{ext}`) or a stream's first audio chunk (`stream`);
//! * `loa_queue_wait_seconds`: time a job waited for a synthesis slot;
//! * `loa_synthesis_duration_seconds{voice}` and
//!   `loa_voice_syntheses_total{voice,status}` (recorded by the engine);
//! * `loa_cache_lookups_total{tier,class,result}` and
//!   `loa_cache_hit_bytes_total{tier,class}`: every object looked up in the
//!   cache, counted in each tier it was looked up in (`local`: the disk
//!   store; `store`: the object store behind it, asked on a local miss),
//!   by class and `hit`/`miss` (see `cache::lookups`), and the bytes the
//!   hits served;
//! * `loa_cache_bytes{tier,class}`: the local tier's size per class, read
//!   when `/metrics` is scraped (the object store's size needs a listing of
//!   the bucket: `loa cache stats` reports it).
//!
//! `loa_cache_hits_total`/`loa_cache_misses_total` count what the engine
//! asked for (a sentence, an article), once whatever the tiers did.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Histogram buckets (seconds) for every `*_seconds` histogram: from a
/// cached answer (a few ms) to a long article render.
const SECONDS_BUCKETS: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// The process-wide Prometheus recorder, installed on first use (by the
/// server's router). `None` when another recorder was installed first.
/// Without it (CLI runs) the `metrics` macros cost next to nothing.
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!("metrics recorder not installed: {e}");
                    None
                }
            }
        })
        .as_ref()
}

/// Counters kept by the HTTP layer itself.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// Requests refused with 503 because the queue was full.
    pub rejected_busy: AtomicU64,
    /// Plans handed out to players.
    pub plans: AtomicU64,
}

/// Point-in-time values from outside the HTTP layer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Snapshot {
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub syntheses: u64,
    pub synthesis_seconds: f64,
    pub engine_in_flight: u64,
    pub queue_depth: u64,
    pub running: u64,
    pub queue_limit: u64,
    pub concurrency: u64,
}

impl HttpMetrics {
    /// Count one answered request; `route` is the matched route pattern.
    pub fn record(&self, route: &str, status: u16) {
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((route.to_string(), status)).or_insert(0) += 1;
    }

    /// Requests answered so far for `route` with `status`.
    pub fn count(&self, route: &str, status: u16) -> u64 {
        let map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(route.to_string(), status)).copied().unwrap_or(0)
    }

    /// The whole exposition text.
    pub fn render(&self, s: &Snapshot) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP loa_http_requests_total HTTP requests answered, by route and status.\n");
        out.push_str("# TYPE loa_http_requests_total counter\n");
        {
            let map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            for ((route, status), n) in map.iter() {
                let route = route.replace('\\', "\\\\").replace('"', "\\\"");
                let _ = writeln!(out, "loa_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
            }
        }
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        };
        metric("loa_cache_hits_total", "counter", "Audio found in the cache.", s.cache_hits.to_string());
        metric(
            "loa_cache_misses_total",
            "counter",
            "Audio not found in the cache.",
            s.cache_misses.to_string(),
        );
        metric(
            "loa_syntheses_total",
            "counter",
            "Sentences synthesized by a backend.",
            s.syntheses.to_string(),
        );
        metric(
            "loa_synthesis_seconds_total",
            "counter",
            "Time spent in speech backends.",
            format!("{:.6}", s.synthesis_seconds),
        );
        metric(
            "loa_synthesis_in_flight",
            "gauge",
            "Sentence syntheses running in the engine.",
            s.engine_in_flight.to_string(),
        );
        metric("loa_queue_depth", "gauge", "Synthesis jobs waiting for a slot.", s.queue_depth.to_string());
        metric("loa_queue_limit", "gauge", "Waiting jobs allowed before 503.", s.queue_limit.to_string());
        metric("loa_jobs_running", "gauge", "Synthesis jobs holding a slot.", s.running.to_string());
        metric(
            "loa_jobs_concurrency",
            "gauge",
            "Job slots in each pool (article renders and single sentences have this many each).",
            s.concurrency.to_string(),
        );
        metric(
            "loa_rejected_busy_total",
            "counter",
            "Requests refused with 503 because the queue was full.",
            self.rejected_busy.load(Ordering::Relaxed).to_string(),
        );
        metric(
            "loa_plans_total",
            "counter",
            "Sentence plans handed to players.",
            self.plans.load(Ordering::Relaxed).to_string(),
        );
        if let Some(h) = prometheus() {
            out.push_str(&h.render());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_labels() {
        let m = HttpMetrics::default();
        m.record("/v1/speech", 200);
        m.record("/v1/speech", 200);
        m.record("/v1/audio/{file}", 404);
        let text = m.render(&Snapshot { cache_hits: 3, queue_depth: 2, ..Snapshot::default() });
        assert!(text.contains("loa_http_requests_total{route=\"/v1/speech\",status=\"200\"} 2\n"), "{text}");
        assert!(text.contains("loa_http_requests_total{route=\"/v1/audio/{file}\",status=\"404\"} 1\n"));
        assert!(text.contains("loa_cache_hits_total 3\n"));
        assert!(text.contains("loa_queue_depth 2\n"));
        assert_eq!(m.count("/v1/speech", 200), 2);
    }

    #[test]
    fn histograms_recorded_anywhere_are_rendered() {
        assert!(prometheus().is_some());
        metrics::histogram!("loa_queue_wait_seconds").record(0.02);
        metrics::histogram!("loa_synthesis_duration_seconds", "voice" => "v-test").record(0.3);
        let text = HttpMetrics::default().render(&Snapshot::default());
        assert!(text.contains("# TYPE loa_queue_wait_seconds histogram"), "{text}");
        assert!(text.contains("loa_queue_wait_seconds_bucket{le=\"0.025\"}"), "{text}");
        assert!(text.contains("loa_synthesis_duration_seconds_count{voice=\"v-test\"}"), "{text}");
    }
}
