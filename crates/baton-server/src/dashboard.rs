//! The web dashboard: static assets from `dashboard/` at the repository root, embedded in
//! the binary (no Node toolchain at build time), served at `/` and `/dashboard/...`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Path};
use crate::AppState;

#[derive(rust_embed::RustEmbed)]
#[folder = "../../dashboard/"]
struct Assets;

/// The page may load only its own scripts and styles, and talk only to this server.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                      script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index))
        .routes(routes!(asset))
}

/// The dashboard page.
#[utoipa::path(get, path = "/", tag = "dashboard",
    responses((status = 200, content_type = "text/html", description = "the dashboard")))]
async fn index() -> Response {
    serve("index.html")
}

/// A dashboard asset (script, style sheet).
#[utoipa::path(get, path = "/dashboard/{file}", tag = "dashboard",
    params(("file" = String, Path, description = "app.js, style.css, ...")),
    responses((status = 200, description = "the asset"), (status = 404, body = crate::error::ErrorBody)))]
async fn asset(Path(file): Path<String>) -> Response {
    serve(&file)
}

fn serve(file: &str) -> Response {
    let Some(content) = Assets::get(file) else {
        return ApiError::not_found(&format!("/dashboard/{file}")).into_response();
    };
    let kind = match file.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, kind),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        content.data.into_owned(),
    )
        .into_response()
}
