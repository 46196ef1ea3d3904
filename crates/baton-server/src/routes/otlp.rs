//! `/api/v1/otlp/v1/metrics` and `/api/v1/otlp/v1/logs`: OTLP over HTTP, so that agents
//! export OpenTelemetry straight to the board (`OTEL_EXPORTER_OTLP_ENDPOINT` set to the
//! server's `/api/v1/otlp`). Protobuf or JSON, gzip or not. The runner sets
//! `OTEL_RESOURCE_ATTRIBUTES` (`baton.run`, `baton.task`, `baton.agent`) so that every point
//! and record lands on its run.

use std::io::Read;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use baton_core::api::{TelemetryBatch, TelemetryReport};
use baton_core::model::TelemetrySeries;
use baton_core::RunId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Actor;
use crate::error::{ApiError, ApiResult, ErrorBody, Path};
use crate::otlp;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_metrics))
        .routes(routes!(export_logs))
        .routes(routes!(run_telemetry))
}

#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    Protobuf,
    Json,
}

/// The body's encoding, from its Content-Type.
fn encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match given.as_deref() {
        Some("application/x-protobuf" | "application/protobuf") => Ok(Encoding::Protobuf),
        Some("application/json") => Ok(Encoding::Json),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "OTLP takes application/x-protobuf or application/json, not {}",
                other.unwrap_or("a body without a type")
            ),
        )
        .with_hint("OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf or http/json")),
    }
}

/// The body, gunzipped when it says so (up to the batch limit).
fn inflate(headers: &HeaderMap, body: Bytes) -> Result<Vec<u8>, ApiError> {
    let coding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match coding.as_deref() {
        None | Some("" | "identity") => Ok(body.to_vec()),
        Some("gzip") => {
            let limit = super::BATCH_BODY_LIMIT as u64;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .take(limit + 1)
                .read_to_end(&mut out)
                .map_err(|e| malformed(format!("the gzip body cannot be read: {e}")))?;
            if out.len() as u64 > limit {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the body unpacks to more than {limit} bytes"),
                )
                .with_hint("export more often, in smaller batches"));
            }
            Ok(out)
        }
        Some(other) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!("the body is encoded as {other}; OTLP here takes gzip or none"),
        )
        .with_hint("OTEL_EXPORTER_OTLP_COMPRESSION=gzip or none")),
    }
}

fn malformed(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_otlp", message).with_hint(
        "send an OTLP export request (ExportMetricsServiceRequest or ExportLogsServiceRequest)",
    )
}

/// The OTLP answer: empty when all was kept, else `partial_success` with what was refused.
fn answer(enc: Encoding, report: &TelemetryReport, logs: bool) -> Response {
    let message = report.errors.join("; ");
    match enc {
        Encoding::Json => {
            let body = if report.rejected == 0 {
                serde_json::json!({})
            } else if logs {
                serde_json::json!({ "partialSuccess": {
                    "rejectedLogRecords": report.rejected.to_string(), "errorMessage": message } })
            } else {
                serde_json::json!({ "partialSuccess": {
                    "rejectedDataPoints": report.rejected.to_string(), "errorMessage": message } })
            };
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Encoding::Protobuf => {
            let mut body = Vec::new();
            if report.rejected > 0 {
                // partial_success = 1 { rejected = 1 (int64); error_message = 2 }
                let mut inner = vec![0x08];
                varint(report.rejected, &mut inner);
                inner.push(0x12);
                varint(message.len() as u64, &mut inner);
                inner.extend_from_slice(message.as_bytes());
                body.push(0x0a);
                varint(inner.len() as u64, &mut body);
                body.extend(inner);
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                body,
            )
                .into_response()
        }
    }
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

async fn export(
    s: AppState,
    actor: String,
    headers: HeaderMap,
    body: Bytes,
    logs: bool,
) -> ApiResult<Response> {
    let enc = encoding(&headers)?;
    let raw = inflate(&headers, body)?;
    let batch: TelemetryBatch = match (enc, logs) {
        (Encoding::Protobuf, false) => otlp::metrics_from_protobuf(&raw),
        (Encoding::Protobuf, true) => otlp::logs_from_protobuf(&raw),
        (Encoding::Json, false) => otlp::metrics_from_json(&raw),
        (Encoding::Json, true) => otlp::logs_from_json(&raw),
    }
    .map_err(|otlp::Malformed(m)| malformed(m))?;
    let report = s
        .writer
        .run(move |api| api.operations().record_telemetry(&actor, batch.clone()))
        .await?;
    Ok(answer(enc, &report, logs))
}

/// OTLP/HTTP metrics (`ExportMetricsServiceRequest`, protobuf or JSON, gzip or not). Each
/// point is kept by series (run, agent, name, attributes): delta sums add up, cumulative
/// sums and gauges keep the latest value.
#[utoipa::path(post, path = "/api/v1/otlp/v1/metrics", tag = "events",
    params(super::AgentHeader),
    request_body(description = "ExportMetricsServiceRequest, in OTLP/JSON or protobuf",
        content((serde_json::Value = "application/json"), (Vec<u8> = "application/x-protobuf"))),
    responses((status = 200, description = "kept (partial_success says what was refused)"),
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export_metrics(
    State(s): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    export(s, actor, headers, body, false).await
}

/// OTLP/HTTP logs (`ExportLogsServiceRequest`): each record becomes a log entry
/// `log.<event name>` by the run's agent, in its session, with its attributes.
#[utoipa::path(post, path = "/api/v1/otlp/v1/logs", tag = "events",
    params(super::AgentHeader),
    request_body(description = "ExportLogsServiceRequest, in OTLP/JSON or protobuf",
        content((serde_json::Value = "application/json"), (Vec<u8> = "application/x-protobuf"))),
    responses((status = 200, description = "kept (partial_success says what was refused)"),
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export_logs(
    State(s): State<AppState>,
    Actor(actor): Actor,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    export(s, actor, headers, body, true).await
}

/// What a run's agent exported over OpenTelemetry, by series.
#[utoipa::path(get, path = "/api/v1/runs/{id}/telemetry", tag = "runs",
    params(("id" = RunId, Path, description = "R-7")),
    responses((status = 200, body = Vec<TelemetrySeries>), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn run_telemetry(
    State(s): State<AppState>,
    Path(id): Path<RunId>,
) -> ApiResult<axum::Json<Vec<TelemetrySeries>>> {
    Ok(axum::Json(
        s.readers
            .run(move |api| api.operations().telemetry(id))
            .await?,
    ))
}
