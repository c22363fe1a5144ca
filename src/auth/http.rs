//! oauth2's async HTTP client trait over our one reqwest client, so the tree holds one reqwest.

use std::future::Future;
use std::pin::Pin;

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

use crate::failure::FailureKind;
use crate::net;

/// Adapts a `reqwest::Client` for oauth2's requests.
pub struct OAuthHttp<'a>(pub &'a reqwest::Client);

/// A transport failure on the way to the identity platform, with its kind.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct OAuthHttpError {
    /// What kind of failure it is.
    pub kind: FailureKind,
    message: String,
}

impl From<reqwest::Error> for OAuthHttpError {
    fn from(e: reqwest::Error) -> Self {
        OAuthHttpError {
            kind: net::failure_kind(&e),
            message: net::describe(&e),
        }
    }
}

impl<'c> AsyncHttpClient<'c> for OAuthHttp<'_> {
    type Error = OAuthHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        let client = self.0.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = net::read_body(response, net::MAX_SMALL_BYTES)
                .await
                .map_err(|e| OAuthHttpError {
                    kind: e.kind(),
                    message: e.to_string(),
                })?;
            let mut out = oauth2::http::Response::new(body);
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}
