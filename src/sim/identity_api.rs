//! The identity platform's routes: OpenID and instance discovery, the signing keys, the
//! authorize endpoint (with a consent page), the device-code and token endpoints, and the page a
//! user would open to enter a code.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::identity::{Authorize, OAuthError, TokenRequest};
use super::{Shared, lock, origin};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/common/discovery/instance", get(instance_discovery))
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize).post(consent),
        )
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device_code))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/devicelogin", get(device_login_page))
}

fn oauth_error(e: OAuthError, headers: &HeaderMap) -> Response {
    let correlation = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok());
    (StatusCode::BAD_REQUEST, Json(e.body(correlation))).into_response()
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`, as the real platform writes it (the
/// issuer of a multi-tenant authority keeps its `{tenantid}` placeholder).
async fn openid_configuration(
    State(sim): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let o = origin(&sim, &headers);
    let issuer_tenant = match tenant.as_str() {
        "common" | "organizations" | "consumers" => "{tenantid}".to_owned(),
        other => other.to_owned(),
    };
    Json(json!({
        "token_endpoint": format!("{o}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{o}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{o}/{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{o}/oidc/userinfo"),
        "authorization_endpoint": format!("{o}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{o}/{tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{o}/{tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "name", "oid", "preferred_username", "tid", "ver"],
        "tenant_region_scope": null,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    }))
    .into_response()
}

/// `GET /common/discovery/instance`: this host is its own cloud.
async fn instance_discovery(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let o = origin(&sim, &headers);
    let host = o.split("://").nth(1).unwrap_or_default().to_owned();
    let tenant = q
        .get("authorization_endpoint")
        .and_then(|e| url::Url::parse(e).ok())
        .and_then(|u| u.path_segments()?.next().map(str::to_owned))
        .unwrap_or_else(|| "common".into());
    Json(json!({
        "tenant_discovery_endpoint": format!("{o}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }))
    .into_response()
}

/// `GET /{tenant}/discovery/v2.0/keys`: the key id_tokens are signed with.
async fn keys(State(sim): State<Shared>) -> Response {
    Json(lock(&sim).identity.key.jwks()).into_response()
}

/// `GET authorize`: straight back to the redirect with a code (auto-approve), else a consent
/// page where the user approves or declines.
async fn authorize(
    State(sim): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Query(mut q): Query<HashMap<String, String>>,
) -> Response {
    q.insert(super::identity::TENANT_PARAM.to_owned(), tenant);
    let answer = lock(&sim).identity.authorize(&q);
    match answer {
        Ok(Authorize::Redirect(to)) => Redirect::to(&to).into_response(),
        Ok(Authorize::Consent(fields)) => {
            let hidden: String = fields
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                        html_escape(k),
                        html_escape(v)
                    )
                })
                .collect();
            let page = format!(
                "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in</title></head><body>\
                 <h1>deltacal emulator: sign in</h1><p>Samantha Booth (samanthab@contoso.com) is asked to let the app read her calendars.</p>\
                 <form method=\"post\">{hidden}<button name=\"decision\" value=\"approve\">Accept</button> \
                 <button name=\"decision\" value=\"decline\">Cancel</button></form></body></html>"
            );
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
        }
        Err(e) => oauth_error(e, &headers),
    }
}

/// `POST authorize`: the consent page's answer.
async fn consent(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let approve = form.get("decision").map(String::as_str) == Some("approve");
    match lock(&sim).identity.consent(&form, approve) {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => oauth_error(e, &headers),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn device_code(
    State(sim): State<Shared>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
    let scope = form.get("scope").map(String::as_str).unwrap_or("");
    let o = origin(&sim, &headers);
    match lock(&sim)
        .identity
        .start_device(client_id, scope, &o, &tenant)
    {
        Ok(v) => Json(v).into_response(),
        Err(e) => oauth_error(e, &headers),
    }
}

async fn token(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let request = TokenRequest {
        client_id: field("client_id"),
        code: field("code"),
        redirect_uri: field("redirect_uri"),
        code_verifier: field("code_verifier"),
        refresh_token: field("refresh_token"),
        client_info: field("client_info") == "1",
        origin: origin(&sim, &headers),
    };
    let mut state = lock(&sim);
    let result = match field("grant_type").as_str() {
        "urn:ietf:params:oauth:grant-type:device_code" => {
            state.identity.poll_device(&field("device_code"), &request)
        }
        "authorization_code" => state.identity.redeem_code(&request),
        "refresh_token" => state.identity.refresh(&request),
        other => Err(OAuthError {
            code: "unsupported_grant_type",
            description: format!(
                "AADSTS70003: The app requested an unsupported grant type '{other}'."
            ),
        }),
    };
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => oauth_error(e, &headers),
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
