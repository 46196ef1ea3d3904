//! What keeps a web page the user happens to visit away from the board: one layer in front
//! of every route (REST, dashboard, events, `/metrics`, `/mcp`).
//!
//! - **Host.** A page can point a DNS name it controls at 127.0.0.1 (DNS rebinding) and
//!   then talk to the server as if it were its own origin. Such a request names the
//!   attacker's host, so the server answers only to names it knows: `localhost`, any IP
//!   literal (rebinding needs a DNS name), and the names given with `--allowed-host`.
//!   The port is not compared: rebinding is about the name, and a port forward
//!   (`ssh -L`, a container's published port) legitimately changes it. An entry given
//!   with a port (`board.example:8443`) admits only that port. A request without a Host
//!   header (HTTP/1.0) is admitted: browsers always send one, so only a non-browser
//!   client can omit it, and such a client could send any Host it liked anyway.
//! - **Cross-site writes.** A browser sends `Sec-Fetch-Site` and `Origin` with its
//!   requests; a write (any method but GET, HEAD, OPTIONS) whose fetch metadata says
//!   `cross-site` or `same-site`, or whose `Origin` is not the host it is sent to (or is
//!   `null`), is refused. Clients that send neither (the CLI, curl, scripts) are not
//!   browsers and pass.
//! - **Content type.** A body sent to a JSON route must say `application/json`
//!   (parameters allowed). `text/plain`, form encodings and bodies without a type are what
//!   a page may send cross-site without a CORS preflight, so they are refused. A write
//!   without a body (`curl -X POST .../pickup`) still passes. `/mcp` keeps its own rules.

use std::net::{Ipv4Addr, Ipv6Addr};

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::AppState;

/// The names the server answers to, besides `localhost` and IP literals.
#[derive(Clone, Debug, Default)]
pub struct AllowedHosts {
    names: Vec<AllowedName>,
}

#[derive(Clone, Debug)]
struct AllowedName {
    /// Lowercase, without a trailing dot.
    host: String,
    /// `None`: any port.
    port: Option<u16>,
}

impl AllowedHosts {
    /// Checks the names given with `--allowed-host` (`board.example` or
    /// `board.example:8443`).
    pub fn new(names: &[String]) -> baton_core::Result<AllowedHosts> {
        let mut allowed = Vec::new();
        for raw in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let authority = parse_authority(raw).ok_or_else(|| {
                baton_core::Error::invalid_with_hint(
                    format!("'{raw}' is not a host name for --allowed-host"),
                    "give the name clients put in the URL, without scheme or path: \
                     --allowed-host board.example (or board.example:8443 for one port only)",
                )
            })?;
            allowed.push(AllowedName {
                host: normalize_name(authority.host()),
                port: authority.port_u16(),
            });
        }
        Ok(AllowedHosts { names: allowed })
    }

    /// Whether no name was given: the server then answers to IP literals and `localhost`.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether a request naming `authority` (a Host header's value) is for this server.
    pub fn admits(&self, authority: &str) -> bool {
        let Some(authority) = parse_authority(authority) else {
            return false;
        };
        let host = normalize_name(authority.host());
        if host == "localhost" || is_ip_literal(&host) {
            return true;
        }
        self.names.iter().any(|allowed| {
            allowed.host == host && allowed.port.is_none_or(|p| authority.port_u16() == Some(p))
        })
    }
}

/// A bare `host[:port]`: no user info, which `Authority` would otherwise accept.
fn parse_authority(text: &str) -> Option<Authority> {
    if text.contains('@') {
        return None;
    }
    text.parse::<Authority>().ok()
}

fn normalize_name(host: &str) -> String {
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

fn is_ip_literal(host: &str) -> bool {
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().is_ok(),
        None => host.parse::<Ipv4Addr>().is_ok(),
    }
}

/// The authority the request was sent to: the Host header, or HTTP/2's `:authority`.
fn request_authority<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Option<&'a str> {
    match headers.get(header::HOST) {
        // Not text: refused as a host nobody is called.
        Some(host) => Some(host.to_str().unwrap_or("")),
        None => uri.authority().map(Authority::as_str),
    }
}

/// The layer: Host, then cross-site writes, then the content type.
pub async fn check(State(s): State<AppState>, request: Request, next: Next) -> Response {
    match refusal(&s.hosts, &request) {
        Some(error) => error.into_response(),
        None => next.run(request).await,
    }
}

fn refusal(hosts: &AllowedHosts, request: &Request) -> Option<ApiError> {
    let headers = request.headers();
    let authority = request_authority(headers, request.uri());
    if let Some(authority) = authority {
        if !hosts.admits(authority) {
            return Some(host_not_allowed(authority));
        }
    }
    let method = request.method();
    let safe = [Method::GET, Method::HEAD, Method::OPTIONS].contains(method);
    if !safe {
        if let Some(why) = cross_site(headers, authority) {
            return Some(
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "cross_site_request",
                    format!("{method} from another site is refused: {why}"),
                )
                .with_hint(
                    "the board accepts writes from its own pages (the dashboard) and from \
                     clients that are not browsers (the baton CLI, curl, scripts); a web page \
                     of another site may not change it",
                ),
            );
        }
    }
    let path = request.uri().path();
    let mcp = path == "/mcp" || path.starts_with("/mcp/");
    // OTLP exporters send protobuf: a type no page can send cross-site without asking.
    let otlp = path.ends_with("/otlp/v1/metrics") || path.ends_with("/otlp/v1/logs");
    let writes = [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(method);
    let typed = is_json(headers) || (otlp && is_protobuf(headers));
    if writes && !mcp && carries_body(headers) && !typed {
        let given = headers
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        return Some(
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                match given {
                    Some(t) => format!("the body is {t}; {path} takes application/json"),
                    None => format!("the body has no Content-Type; {path} takes application/json"),
                },
            )
            .with_hint(
                "send the body as JSON with `Content-Type: application/json` \
                 (curl --json '{...}' does both)",
            ),
        );
    }
    None
}

fn host_not_allowed(authority: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "host_not_allowed",
        format!("this server does not answer to the host '{authority}'"),
    )
    .with_hint(
        "address it as localhost or by IP address, or start it with \
         `baton serve --allowed-host NAME` (or BATON_ALLOWED_HOSTS=NAME,...) to serve that name",
    )
}

/// Why a write looks browser-originated from another site, if it does.
fn cross_site(headers: &HeaderMap, authority: Option<&str>) -> Option<String> {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("");
        if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
            return Some(format!("the browser says Sec-Fetch-Site: {site}"));
        }
    }
    let origin = headers.get(header::ORIGIN)?;
    let origin = origin.to_str().unwrap_or("null").trim();
    if same_origin(origin, authority?) {
        None
    } else {
        Some(format!("its Origin {origin} is not this server"))
    }
}

/// Whether the page at `origin` (`scheme://host[:port]`) is served by `authority`
/// (the Host the request was sent to), ports defaulting to the origin's scheme.
fn same_origin(origin: &str, authority: &str) -> bool {
    let (Ok(origin), Some(target)) = (origin.parse::<Uri>(), parse_authority(authority)) else {
        return false;
    };
    let (Some(scheme), Some(from)) = (origin.scheme_str(), origin.authority()) else {
        return false;
    };
    if origin.path_and_query().is_some_and(|p| p.as_str() != "/") || from.as_str().contains('@') {
        return false;
    }
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    normalize_name(from.host()) == normalize_name(target.host())
        && from.port_u16().or(default) == target.port_u16().or(default)
}

/// Whether a request has a body, or says it has one.
fn carries_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::CONTENT_TYPE)
        || headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|n| n.to_str().map_or(true, |n| n.trim() != "0"))
}

/// `application/x-protobuf` (OTLP's), in any case, with or without parameters.
fn is_protobuf(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("application/x-protobuf")
                || v.eq_ignore_ascii_case("application/protobuf")
        })
}

/// `application/json`, in any case, with or without parameters.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(names: &[&str]) -> AllowedHosts {
        AllowedHosts::new(&names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn localhost_and_ip_literals_are_always_admitted_dns_names_only_when_listed() {
        let none = hosts(&[]);
        for ok in [
            "localhost",
            "LOCALHOST:7420",
            "localhost.:1",
            "127.0.0.1:7420",
            "10.1.2.3",
            "[::1]:7420",
            "[fe80::1]",
        ] {
            assert!(none.admits(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "evil.example:7420",
            "127.0.0.1.nip.io",
            "127.1",
            "user@127.0.0.1",
            "",
            "a b",
            "localhost.evil.example",
        ] {
            assert!(!none.admits(refused), "{refused}");
        }
        let some = hosts(&["Board.Example", "ci.example:8443"]);
        assert!(some.admits("board.example"));
        assert!(some.admits("board.example.:9000"));
        assert!(some.admits("ci.example:8443"));
        assert!(!some.admits("ci.example:8444"));
        assert!(!some.admits("ci.example"));
        assert!(!some.admits("evil.example"));
    }

    #[test]
    fn an_allowed_host_must_be_a_bare_name() {
        for bad in [
            "http://board.example",
            "board.example/path",
            "a@board.example",
            "a b",
        ] {
            assert!(AllowedHosts::new(&[bad.to_string()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_origin_is_the_same_site_only_with_the_same_host_and_port() {
        assert!(same_origin("http://127.0.0.1:7420", "127.0.0.1:7420"));
        assert!(same_origin("http://LOCALHOST:7420", "localhost:7420"));
        assert!(same_origin("http://board.example", "board.example:80"));
        assert!(same_origin("https://board.example", "board.example"));
        assert!(!same_origin("http://127.0.0.1:7421", "127.0.0.1:7420"));
        assert!(!same_origin("http://evil.example", "127.0.0.1:7420"));
        assert!(!same_origin("null", "127.0.0.1:7420"));
        assert!(!same_origin("https://board.example", "board.example:80"));
    }
}
