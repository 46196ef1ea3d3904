//! OTLP over HTTP: what agents export with OpenTelemetry (metrics and logs), read from
//! protobuf (`application/x-protobuf`, the SDKs' default) or JSON (`application/json`)
//! into a [`TelemetryBatch`]. Only the fields Baton keeps are read; the rest is skipped as
//! the protobuf wire format allows, so newer senders still work.

use std::collections::BTreeMap;

use baton_core::api::{Aggregation, Attribution, TelemetryBatch, TelemetryLog, TelemetryPoint};
use serde_json::Value;

/// Why a body is not OTLP.
#[derive(Debug)]
pub struct Malformed(pub String);

type Res<T> = Result<T, Malformed>;

fn bad<T>(what: impl Into<String>) -> Res<T> {
    Err(Malformed(what.into()))
}

// ---- protobuf wire format -------------------------------------------------------------

/// One field of a message: its number and its value.
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32,
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn varint(&mut self) -> Res<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let Some((&b, rest)) = self.buf.split_first() else {
                return bad("the body ends inside a number");
            };
            self.buf = rest;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        bad("a number is longer than ten bytes")
    }

    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        if self.buf.len() < n {
            return bad("the body ends inside a field");
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// The next field, or `None` at the end.
    fn field(&mut self) -> Res<Option<(u64, Wire<'a>)>> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(u64::from_le_bytes(
                self.take(8)?
                    .try_into()
                    .map_err(|_| Malformed("bad fixed64".into()))?,
            )),
            2 => {
                let n = self.varint()?;
                let n = usize::try_from(n).map_err(|_| Malformed("a field is too long".into()))?;
                Wire::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed32
            }
            other => return bad(format!("unknown protobuf wire type {other}")),
        };
        if number == 0 {
            return bad("a protobuf field numbered 0");
        }
        Ok(Some((number, wire)))
    }
}

/// Calls `f` with each field of `buf`.
fn fields<'a>(buf: &'a [u8], mut f: impl FnMut(u64, Wire<'a>) -> Res<()>) -> Res<()> {
    let mut r = Reader::new(buf);
    while let Some((n, w)) = r.field()? {
        f(n, w)?;
    }
    Ok(())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `AnyValue`, as text: strings as they are, numbers and booleans written out, arrays and
/// maps as JSON.
fn any_value(buf: &[u8]) -> Res<String> {
    let mut out = String::new();
    fields(buf, |n, w| {
        out = match (n, w) {
            (1, Wire::Bytes(b)) => text(b),
            (2, Wire::Varint(v)) => (v != 0).to_string(),
            (3, Wire::Varint(v)) => (v as i64).to_string(),
            (4, Wire::Fixed64(v)) => f64::from_bits(v).to_string(),
            (5, Wire::Bytes(b)) => {
                let mut items = Vec::new();
                fields(b, |n, w| {
                    if let (1, Wire::Bytes(v)) = (n, w) {
                        items.push(Value::String(any_value(v)?));
                    }
                    Ok(())
                })?;
                Value::Array(items).to_string()
            }
            (6, Wire::Bytes(b)) => {
                let mut map = serde_json::Map::new();
                fields(b, |n, w| {
                    if let (1, Wire::Bytes(kv)) = (n, w) {
                        let (k, v) = key_value(kv)?;
                        map.insert(k, Value::String(v));
                    }
                    Ok(())
                })?;
                Value::Object(map).to_string()
            }
            (7, Wire::Bytes(b)) => b.iter().map(|x| format!("{x:02x}")).collect(),
            _ => return Ok(()),
        };
        Ok(())
    })?;
    Ok(out)
}

/// `KeyValue { key = 1; value = 2 }`.
fn key_value(buf: &[u8]) -> Res<(String, String)> {
    let (mut key, mut value) = (String::new(), String::new());
    fields(buf, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => key = text(b),
            (2, Wire::Bytes(b)) => value = any_value(b)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok((key, value))
}

/// `Resource { attributes = 1 }`.
fn resource(buf: &[u8]) -> Res<BTreeMap<String, String>> {
    let mut attrs = BTreeMap::new();
    fields(buf, |n, w| {
        if let (1, Wire::Bytes(b)) = (n, w) {
            let (k, v) = key_value(b)?;
            attrs.insert(k, v);
        }
        Ok(())
    })?;
    Ok(attrs)
}

fn attribution(attrs: &BTreeMap<String, String>) -> Attribution {
    let get = |k: &str| attrs.get(k).filter(|v| !v.is_empty()).cloned();
    Attribution {
        run: get("baton.run"),
        task: get("baton.task"),
        agent: get("baton.agent"),
        service: get("service.name"),
    }
}

/// What a metric's data says, before its points are read.
struct MetricShape<'a> {
    name: String,
    unit: Option<String>,
    points: Vec<&'a [u8]>,
    aggregation: Aggregation,
    histogram: bool,
}

/// `Metric { name = 1; unit = 3; gauge = 5; sum = 7; histogram = 9;
/// exponential_histogram = 10; summary = 11 }`.
fn metric(buf: &[u8]) -> Res<Option<MetricShape<'_>>> {
    let mut shape = MetricShape {
        name: String::new(),
        unit: None,
        points: Vec::new(),
        aggregation: Aggregation::Gauge,
        histogram: false,
    };
    let mut data: Option<(u64, &[u8])> = None;
    fields(buf, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => shape.name = text(b),
            (3, Wire::Bytes(b)) => shape.unit = Some(text(b)).filter(|u| !u.is_empty()),
            (5 | 7 | 9 | 10, Wire::Bytes(b)) => data = Some((n, b)),
            _ => {}
        }
        Ok(())
    })?;
    let Some((kind, body)) = data else {
        return Ok(None);
    };
    shape.histogram = kind == 9 || kind == 10;
    let mut temporality = 0;
    fields(body, |n, w| {
        match (n, w) {
            (1, Wire::Bytes(b)) => shape.points.push(b),
            (2, Wire::Varint(v)) => temporality = v,
            _ => {}
        }
        Ok(())
    })?;
    shape.aggregation = match (kind, temporality) {
        (5, _) => Aggregation::Gauge,
        (_, 1) => Aggregation::Delta,
        _ => Aggregation::Cumulative,
    };
    Ok(Some(shape))
}

/// A number point (`attributes = 7; as_double = 4; as_int = 6`) or a histogram point
/// (`attributes = 9` (1 for exponential); `count = 4; sum = 5`).
fn data_point(
    buf: &[u8],
    histogram: bool,
    exponential: bool,
) -> Res<(BTreeMap<String, String>, f64, Option<u64>)> {
    let mut attrs = BTreeMap::new();
    let (mut value, mut count) = (0.0, None);
    let attr_field = match (histogram, exponential) {
        (false, _) => 7,
        (true, false) => 9,
        (true, true) => 1,
    };
    fields(buf, |n, w| {
        match (n, w) {
            (n, Wire::Bytes(b)) if n == attr_field => {
                let (k, v) = key_value(b)?;
                attrs.insert(k, v);
            }
            (4, Wire::Fixed64(v)) if !histogram => value = f64::from_bits(v),
            (6, Wire::Fixed64(v)) if !histogram => value = v as i64 as f64,
            (4, Wire::Fixed64(v)) if histogram => count = Some(v),
            (5, Wire::Fixed64(v)) if histogram => value = f64::from_bits(v),
            _ => {}
        }
        Ok(())
    })?;
    Ok((attrs, value, count))
}

/// `ExportMetricsServiceRequest` in protobuf.
pub fn metrics_from_protobuf(body: &[u8]) -> Res<TelemetryBatch> {
    let mut batch = TelemetryBatch::default();
    fields(body, |n, w| {
        let (1, Wire::Bytes(rm)) = (n, w) else {
            return Ok(());
        };
        let mut res = BTreeMap::new();
        let mut scopes = Vec::new();
        fields(rm, |n, w| {
            match (n, w) {
                (1, Wire::Bytes(b)) => res = resource(b)?,
                (2, Wire::Bytes(b)) => scopes.push(b),
                _ => {}
            }
            Ok(())
        })?;
        let who = attribution(&res);
        for scope in scopes {
            fields(scope, |n, w| {
                let (2, Wire::Bytes(m)) = (n, w) else {
                    return Ok(());
                };
                let exponential = {
                    let mut e = false;
                    fields(m, |n, _| {
                        e |= n == 10;
                        Ok(())
                    })?;
                    e
                };
                if let Some(shape) = metric(m)? {
                    for p in &shape.points {
                        let (attributes, value, count) =
                            data_point(p, shape.histogram, exponential)?;
                        batch.points.push(TelemetryPoint {
                            resource: who.clone(),
                            name: shape.name.clone(),
                            unit: shape.unit.clone(),
                            aggregation: shape.aggregation,
                            histogram: shape.histogram,
                            attributes,
                            value,
                            count,
                        });
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(batch)
}

/// `LogRecord { severity_number = 2; body = 5; attributes = 6; event_name = 12 }`.
fn log_record(buf: &[u8], who: &Attribution) -> Res<TelemetryLog> {
    let mut log = TelemetryLog {
        resource: who.clone(),
        ..TelemetryLog::default()
    };
    fields(buf, |n, w| {
        match (n, w) {
            (2, Wire::Varint(v)) => log.severity = v as i32,
            (5, Wire::Bytes(b)) => log.body = any_value(b)?,
            (6, Wire::Bytes(b)) => {
                let (k, v) = key_value(b)?;
                log.attributes.insert(k, v);
            }
            (12, Wire::Bytes(b)) => log.event_name = Some(text(b)).filter(|e| !e.is_empty()),
            _ => {}
        }
        Ok(())
    })?;
    Ok(log)
}

/// `ExportLogsServiceRequest` in protobuf.
pub fn logs_from_protobuf(body: &[u8]) -> Res<TelemetryBatch> {
    let mut batch = TelemetryBatch::default();
    fields(body, |n, w| {
        let (1, Wire::Bytes(rl)) = (n, w) else {
            return Ok(());
        };
        let mut res = BTreeMap::new();
        let mut scopes = Vec::new();
        fields(rl, |n, w| {
            match (n, w) {
                (1, Wire::Bytes(b)) => res = resource(b)?,
                (2, Wire::Bytes(b)) => scopes.push(b),
                _ => {}
            }
            Ok(())
        })?;
        let who = attribution(&res);
        for scope in scopes {
            fields(scope, |n, w| {
                if let (2, Wire::Bytes(r)) = (n, w) {
                    batch.logs.push(log_record(r, &who)?);
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(batch)
}

// ---- OTLP/JSON ------------------------------------------------------------------------

fn json_any(v: &Value) -> String {
    let Some(obj) = v.as_object() else {
        return String::new();
    };
    if let Some(s) = obj.get("stringValue").and_then(Value::as_str) {
        return s.to_string();
    }
    if let Some(b) = obj.get("boolValue").and_then(Value::as_bool) {
        return b.to_string();
    }
    // 64-bit integers travel as strings in OTLP/JSON; either form is taken.
    if let Some(i) = obj.get("intValue") {
        return i
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| i.to_string());
    }
    if let Some(d) = obj.get("doubleValue") {
        return d.as_f64().map(|d| d.to_string()).unwrap_or_default();
    }
    if let Some(a) = obj.get("arrayValue") {
        let items: Vec<Value> = a["values"]
            .as_array()
            .map(|vs| vs.iter().map(|v| Value::String(json_any(v))).collect())
            .unwrap_or_default();
        return Value::Array(items).to_string();
    }
    if let Some(m) = obj.get("kvlistValue") {
        return Value::Object(
            json_attributes(&m["values"])
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
        .to_string();
    }
    obj.get("bytesValue")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn json_attributes(v: &Value) -> BTreeMap<String, String> {
    v.as_array()
        .map(|kvs| {
            kvs.iter()
                .filter_map(|kv| Some((kv["key"].as_str()?.to_string(), json_any(&kv["value"]))))
                .collect()
        })
        .unwrap_or_default()
}

fn json_number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.parse().ok())
}

fn items<'a>(v: &'a Value, key: &str) -> Res<&'a [Value]> {
    match &v[key] {
        Value::Null => Ok(&[]),
        Value::Array(a) => Ok(a),
        _ => bad(format!("`{key}` is not a list")),
    }
}

/// `ExportMetricsServiceRequest` in OTLP/JSON.
pub fn metrics_from_json(body: &[u8]) -> Res<TelemetryBatch> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| Malformed(format!("the body is not JSON: {e}")))?;
    if !doc.is_object() {
        return bad("the body is not an OTLP export (an object with resourceMetrics)");
    }
    let mut batch = TelemetryBatch::default();
    for rm in items(&doc, "resourceMetrics")? {
        let who = attribution(&json_attributes(&rm["resource"]["attributes"]));
        for sm in items(rm, "scopeMetrics")? {
            for m in items(sm, "metrics")? {
                let name = m["name"].as_str().unwrap_or_default().to_string();
                let unit = m["unit"]
                    .as_str()
                    .filter(|u| !u.is_empty())
                    .map(str::to_string);
                let (data, histogram) = if m["gauge"].is_object() {
                    (&m["gauge"], false)
                } else if m["sum"].is_object() {
                    (&m["sum"], false)
                } else if m["histogram"].is_object() {
                    (&m["histogram"], true)
                } else if m["exponentialHistogram"].is_object() {
                    (&m["exponentialHistogram"], true)
                } else {
                    continue;
                };
                let temporality = match &data["aggregationTemporality"] {
                    Value::Number(n) => n.as_u64().unwrap_or(0),
                    Value::String(s) if s.ends_with("DELTA") => 1,
                    Value::String(s) if s.ends_with("CUMULATIVE") => 2,
                    _ => 0,
                };
                let aggregation = match (m["gauge"].is_object(), temporality) {
                    (true, _) => Aggregation::Gauge,
                    (_, 1) => Aggregation::Delta,
                    _ => Aggregation::Cumulative,
                };
                for p in items(data, "dataPoints")? {
                    let (value, count) = if histogram {
                        (
                            json_number(&p["sum"]).unwrap_or(0.0),
                            json_number(&p["count"]).map(|c| c as u64),
                        )
                    } else {
                        (
                            json_number(&p["asDouble"])
                                .or_else(|| json_number(&p["asInt"]))
                                .unwrap_or(0.0),
                            None,
                        )
                    };
                    batch.points.push(TelemetryPoint {
                        resource: who.clone(),
                        name: name.clone(),
                        unit: unit.clone(),
                        aggregation,
                        histogram,
                        attributes: json_attributes(&p["attributes"]),
                        value,
                        count,
                    });
                }
            }
        }
    }
    Ok(batch)
}

/// `ExportLogsServiceRequest` in OTLP/JSON.
pub fn logs_from_json(body: &[u8]) -> Res<TelemetryBatch> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| Malformed(format!("the body is not JSON: {e}")))?;
    if !doc.is_object() {
        return bad("the body is not an OTLP export (an object with resourceLogs)");
    }
    let mut batch = TelemetryBatch::default();
    for rl in items(&doc, "resourceLogs")? {
        let who = attribution(&json_attributes(&rl["resource"]["attributes"]));
        for sl in items(rl, "scopeLogs")? {
            for r in items(sl, "logRecords")? {
                batch.logs.push(TelemetryLog {
                    resource: who.clone(),
                    severity: json_number(&r["severityNumber"]).unwrap_or(0.0) as i32,
                    body: json_any(&r["body"]),
                    event_name: r["eventName"]
                        .as_str()
                        .filter(|e| !e.is_empty())
                        .map(str::to_string),
                    attributes: json_attributes(&r["attributes"]),
                });
            }
        }
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn bytes(n: u64, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(n << 3 | 2, &mut out);
        varint(body.len() as u64, &mut out);
        out.extend_from_slice(body);
        out
    }

    fn fixed(n: u64, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        varint(n << 3 | 1, &mut out);
        out.extend_from_slice(&v.to_le_bytes());
        out
    }

    fn kv(k: &str, v: &str) -> Vec<u8> {
        [bytes(1, k.as_bytes()), bytes(2, &bytes(1, v.as_bytes()))].concat()
    }

    #[test]
    fn a_delta_sum_is_read_with_its_resource_and_attributes() {
        let point = [bytes(7, &kv("type", "input")), fixed(6, 150)].concat();
        let mut sum = bytes(1, &point);
        sum.extend([2 << 3, 1]); // temporality = DELTA
        let metric = [bytes(1, b"claude_code.token.usage"), bytes(7, &sum)].concat();
        let scope = bytes(2, &metric);
        let res = bytes(1, &kv("baton.run", "R-3"));
        let rm = [bytes(1, &res), bytes(2, &scope)].concat();
        let body = bytes(1, &rm);
        let batch = metrics_from_protobuf(&body).unwrap();
        assert_eq!(batch.points.len(), 1);
        let p = &batch.points[0];
        assert_eq!(p.resource.run.as_deref(), Some("R-3"));
        assert_eq!(p.attributes["type"], "input");
        assert_eq!((p.value, p.aggregation), (150.0, Aggregation::Delta));
    }

    #[test]
    fn truncated_and_garbage_bodies_are_refused_not_panicked_on() {
        for body in [
            &b"\x0a\xff"[..],
            b"\x0a\x05ab",
            b"\x07",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        ] {
            assert!(metrics_from_protobuf(body).is_err(), "{body:?}");
            assert!(logs_from_protobuf(body).is_err(), "{body:?}");
        }
        assert!(metrics_from_json(b"[1]").is_err());
        assert!(logs_from_json(b"{\"resourceLogs\": 3}").is_err());
    }

    #[test]
    fn json_logs_are_read() {
        let body = br#"{"resourceLogs":[{"resource":{"attributes":[{"key":"baton.agent","value":{"stringValue":"claude-1"}}]},
          "scopeLogs":[{"logRecords":[{"severityNumber":17,"body":{"stringValue":"boom"},
          "attributes":[{"key":"n","value":{"intValue":"3"}}],"eventName":"api_error"}]}]}]}"#;
        let batch = logs_from_json(body).unwrap();
        let l = &batch.logs[0];
        assert_eq!(
            (l.severity, l.body.as_str(), l.event_name.as_deref()),
            (17, "boom", Some("api_error"))
        );
        assert_eq!(l.attributes["n"], "3");
        assert_eq!(l.resource.agent.as_deref(), Some("claude-1"));
    }
}
