//! The identity platform's routes: the device-code and token endpoints, and the page a user
//! would open to enter a code.

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::json;

use super::identity::OAuthError;
use super::{Shared, lock, origin};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device_code))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/devicelogin", get(device_login_page))
}

fn oauth_error(e: OAuthError) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": e.code, "error_description": e.description, "error_codes": [], "timestamp": Utc::now().to_rfc3339()})),
    )
        .into_response()
}

async fn device_code(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
    let scope = form.get("scope").map(String::as_str).unwrap_or("");
    match lock(&sim)
        .identity
        .start_device(client_id, scope, &origin(&headers))
    {
        Ok(v) => Json(v).into_response(),
        Err(e) => oauth_error(e),
    }
}

async fn token(State(sim): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let mut state = lock(&sim);
    let result = match field("grant_type") {
        "urn:ietf:params:oauth:grant-type:device_code" => {
            state.identity.poll_device(field("device_code"))
        }
        "refresh_token" => state.identity.refresh(field("refresh_token")),
        other => Err(OAuthError {
            code: "unsupported_grant_type",
            description: format!("AADSTS70003: grant type `{other}` is not supported"),
        }),
    };
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => oauth_error(e),
    }
}

async fn device_login_page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<html><body><h1>deltacal emulator</h1><p>This stands in for the browser sign-in page. \
         Approve a code with <code>curl -d user_code=CODE http://HOST/sim/approve</code>.</p></body></html>",
    )
        .into_response()
}
