//! Logging and request tracing: Cloud Logging JSON (`tracing-stackdriver`) on Cloud Run or with
//! `LOG_FORMAT=json`, readable text elsewhere; an `http.request` span per request carrying the matched
//! route and the trace id from `X-Cloud-Trace-Context` or `traceparent`.

use axum::extract::MatchedPath;
use http::{HeaderMap, Request};
use tower_http::{
    classify::{ServerErrorsAsFailures, SharedClassifier},
    trace::{DefaultOnRequest, DefaultOnResponse, MakeSpan, TraceLayer},
};
use tracing::{Level, Span};
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

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
        LogFormat::Json => registry.with(tracing_stackdriver::layer()).try_init(),
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
