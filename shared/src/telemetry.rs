//! Logging and request tracing: Cloud Logging JSON (`tracing-stackdriver`) on Cloud Run or with
//! `LOG_FORMAT=json`, readable text elsewhere; an `http.request` span per request carrying the matched
//! route and the trace id from `X-Cloud-Trace-Context` or `traceparent`. With a trace project
//! (`GOOGLE_CLOUD_PROJECT`), every JSON entry written inside a traced request also carries
//! `logging.googleapis.com/trace`, the field Cloud Logging correlates a request's entries on
//! ([`CloudTrace`]).

use std::{borrow::Cow, io, sync::Arc};

use axum::extract::MatchedPath;
use http::{HeaderMap, Request};
use tower_http::{
    classify::{ServerErrorsAsFailures, SharedClassifier},
    trace::{DefaultOnRequest, DefaultOnResponse, MakeSpan, TraceLayer},
};
use tracing::{Level, Span};
use tracing_subscriber::{
    EnvFilter, fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::config::LogFormat;

/// Installs the global subscriber. The filter comes from `RUST_LOG` (default `info`). JSON goes to
/// stdout (what Cloud Logging reads); text goes to stderr, leaving stdout to command output.
pub fn init(format: LogFormat) {
    init_with(format, "info");
}

/// Like [`init`], with `default` as the filter when `RUST_LOG` is unset (`warn` for command-line
/// tools whose output is the point).
pub fn init_with(format: LogFormat, default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let registry = tracing_subscriber::registry().with(filter);
    // A second call (tests, an embedding binary) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json { trace_project } => registry
            .with(
                tracing_stackdriver::layer()
                    .with_writer(CloudTrace::new(trace_project, std::io::stdout)),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init(),
    };
}

/// A subscriber for tests that writes through the test harness's capture.
pub fn init_for_test() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("warn"))
        .with_test_writer()
        .try_init();
}

/// The `tower-http` layer that opens the `http.request` span for every request.
pub fn request_trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(DefaultOnRequest::new().level(Level::DEBUG))
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(tower_http::LatencyUnit::Millis),
        )
}

/// Builds the `http.request` span: method, matched route (low cardinality) and trace id.
#[derive(Clone, Copy, Debug)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", MatchedPath::as_str);
        let span = tracing::info_span!(
            "http.request",
            http.method = %request.method(),
            http.route = route,
            trace_id = tracing::field::Empty,
        );
        if let Some(id) = trace_id(request.headers()) {
            span.record("trace_id", id);
        }
        span
    }
}

/// The 32-hex-digit trace id of a request: `X-Cloud-Trace-Context` (`TRACE/SPAN;o=1`) first, then
/// W3C `traceparent` (`00-TRACE-SPAN-FLAGS`). Malformed or all-zero ids are ignored.
pub fn trace_id(headers: &HeaderMap) -> Option<String> {
    let from_cloud = headers
        .get("x-cloud-trace-context")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split('/').next());
    let from_w3c = || {
        headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split('-').nth(1))
    };
    [from_cloud, from_w3c()]
        .into_iter()
        .flatten()
        .find(|id| is_trace_id(id))
        .map(str::to_ascii_lowercase)
}

fn is_trace_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && id.bytes().any(|b| b != b'0')
}

/// The writer of the JSON logs: each entry `tracing-stackdriver` writes inside a span that recorded
/// a `trace_id` (the `http.request` span) gains `"logging.googleapis.com/trace":
/// "projects/PROJECT/traces/TRACE_ID"`. The trace id is the request's (validated as 32 hex
/// digits), the project the configuration's; without a project, entries pass through unchanged.
#[derive(Clone, Debug)]
pub struct CloudTrace<M> {
    project: Option<Arc<str>>,
    inner: M,
}

impl<M> CloudTrace<M> {
    /// Writes through `inner`, naming `project`'s traces.
    pub fn new(project: Option<String>, inner: M) -> Self {
        Self {
            project: project.map(Arc::from),
            inner,
        }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for CloudTrace<M> {
    type Writer = TraceEntry<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        TraceEntry {
            project: self.project.clone(),
            entry: Vec::new(),
            inner: self.inner.make_writer(),
        }
    }
}

/// One log entry on its way out: collected, then written whole (with its trace field) when the
/// formatter drops it, which it does once per entry.
#[derive(Debug)]
pub struct TraceEntry<W: io::Write> {
    project: Option<Arc<str>>,
    entry: Vec<u8>,
    inner: W,
}

impl<W: io::Write> io::Write for TraceEntry<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.entry.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: io::Write> Drop for TraceEntry<W> {
    fn drop(&mut self) {
        let entry = match &self.project {
            Some(project) => with_trace(project, &self.entry),
            None => Cow::Borrowed(self.entry.as_slice()),
        };
        // Nowhere to report a failed log write (a closed stdout): it is dropped, like the fmt
        // layer's own writes.
        let _ = self.inner.write_all(&entry);
    }
}

/// `entry` (one JSON object and its newline) with the trace field first, when one of its spans
/// recorded a valid `trace_id` (the innermost wins).
fn with_trace<'e>(project: &str, entry: &'e [u8]) -> Cow<'e, [u8]> {
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        spans: Vec<SpanFields>,
    }
    #[derive(serde::Deserialize)]
    struct SpanFields {
        trace_id: Option<String>,
    }
    let trace = serde_json::Deserializer::from_slice(entry)
        .into_iter::<Entry>()
        .next()
        .and_then(Result::ok)
        .and_then(|e| e.spans.into_iter().rev().find_map(|span| span.trace_id))
        .filter(|id| is_trace_id(id));
    let (Some(trace), Some(rest)) = (trace, entry.strip_prefix(b"{")) else {
        return Cow::Borrowed(entry);
    };
    let separator = if rest.trim_ascii_start().starts_with(b"}") {
        ""
    } else {
        ","
    };
    let field = format!(
        "{{\"logging.googleapis.com/trace\":\"projects/{project}/traces/{trace}\"{separator}"
    );
    Cow::Owned([field.as_bytes(), rest].concat())
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn cloud_trace_context_gives_the_trace_id() {
        let h = headers(&[(
            "x-cloud-trace-context",
            "105445AA7843BC8BF206B12000100000/1;o=1",
        )]);
        assert_eq!(
            trace_id(&h).as_deref(),
            Some("105445aa7843bc8bf206b12000100000")
        );
    }

    #[test]
    fn traceparent_is_used_when_cloud_header_is_absent_or_bad() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            trace_id(&headers(&[("traceparent", tp)])).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        let both = headers(&[("x-cloud-trace-context", "nothex/1"), ("traceparent", tp)]);
        assert_eq!(
            trace_id(&both).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    /// Log lines written through a [`CloudTrace`] into memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn entries(&self) -> Vec<serde_json::Value> {
            let bytes = self.0.lock().unwrap().clone();
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).expect("each entry is one JSON object"))
                .collect()
        }
    }

    /// Serves one request through the request-tracing layer with the JSON logs of `project`.
    async fn request_logs(
        project: Option<&str>,
        trace_header: Option<(&'static str, &'static str)>,
    ) -> Vec<serde_json::Value> {
        use tower::ServiceExt as _;
        let captured = Captured::default();
        let writer = {
            let captured = captured.clone();
            move || captured.clone()
        };
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new("info"))
            .with(
                tracing_stackdriver::layer()
                    .with_writer(CloudTrace::new(project.map(str::to_owned), writer)),
            );
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = axum::Router::new()
            .route(
                "/work",
                axum::routing::get(|| async {
                    tracing::info!(jobs.republished = 3_u64, "handling the request");
                    "done"
                }),
            )
            .layer(request_trace_layer());
        let mut request = Request::builder().uri("/work");
        if let Some((name, value)) = trace_header {
            request = request.header(name, value);
        }
        let response = app
            .oneshot(request.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        tracing::info!("outside any request");
        captured.entries()
    }

    #[tokio::test]
    async fn entries_inside_a_traced_request_carry_cloud_loggings_trace_field() {
        let entries = request_logs(
            Some("dash-prod-1"),
            Some((
                "x-cloud-trace-context",
                "105445AA7843BC8BF206B12000100000/1;o=1",
            )),
        )
        .await;
        let inside: Vec<_> = entries
            .iter()
            .filter(|e| e["spans"].as_array().is_some_and(|s| !s.is_empty()))
            .collect();
        assert!(
            inside.len() >= 2,
            "the handler's entry and the response's: {entries:#?}"
        );
        for entry in &inside {
            assert_eq!(
                entry["logging.googleapis.com/trace"],
                "projects/dash-prod-1/traces/105445aa7843bc8bf206b12000100000",
                "{entry:#}"
            );
            // What tracing-stackdriver wrote is all still there.
            assert!(
                entry["severity"].is_string() && entry["time"].is_string(),
                "{entry:#}"
            );
        }
        // Dotted fields come out camel-cased (what the log-based metrics in terraform/ filter on).
        assert!(
            inside
                .iter()
                .any(|e| e["message"] == "handling the request" && e["jobsRepublished"] == 3),
            "{inside:#?}"
        );
        let outside = entries
            .iter()
            .find(|e| e["message"] == "outside any request")
            .unwrap();
        assert!(
            outside.get("logging.googleapis.com/trace").is_none(),
            "{outside:#}"
        );
    }

    #[tokio::test]
    async fn without_a_project_or_a_trace_id_entries_are_left_as_they_are() {
        let traceparent = (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        for (project, header) in [(None, Some(traceparent)), (Some("dash-prod-1"), None)] {
            let entries = request_logs(project, header).await;
            assert!(entries.len() >= 3, "{entries:#?}");
            for entry in &entries {
                assert!(
                    entry.get("logging.googleapis.com/trace").is_none(),
                    "{entry:#}"
                );
            }
        }
        // The W3C header is read too.
        let entries = request_logs(Some("dash-prod-1"), Some(traceparent)).await;
        assert!(entries.iter().any(|e| e["logging.googleapis.com/trace"]
            == "projects/dash-prod-1/traces/4bf92f3577b34da6a3ce929d0e0e4736"));
    }

    #[test]
    fn a_trace_field_is_added_only_to_a_json_object_with_a_valid_trace_id() {
        let id = "105445aa7843bc8bf206b12000100000";
        let entry = format!("{{\"spans\":[{{\"trace_id\":\"{id}\"}}],\"message\":\"m\"}}\n");
        let traced =
            String::from_utf8(with_trace("p-123456", entry.as_bytes()).into_owned()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&traced).unwrap();
        assert_eq!(
            value["logging.googleapis.com/trace"],
            format!("projects/p-123456/traces/{id}")
        );
        assert!(traced.ends_with('\n'));
        for untouched in [
            "not json\n",
            "{\"spans\":[{\"trace_id\":\"\\\",\\\"x\\\":\\\"\"}]}\n",
            "{\"spans\":[]}\n",
            "[1]\n",
        ] {
            assert_eq!(
                with_trace("p-123456", untouched.as_bytes()),
                untouched.as_bytes(),
                "{untouched}"
            );
        }
    }

    #[test]
    fn malformed_and_zero_trace_ids_are_ignored() {
        assert_eq!(trace_id(&headers(&[])), None);
        let zeros = headers(&[(
            "traceparent",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        )]);
        assert_eq!(trace_id(&zeros), None);
        assert_eq!(
            trace_id(&headers(&[("x-cloud-trace-context", "abc/1")])),
            None
        );
    }
}
