//! oauth2's async HTTP client trait over our one reqwest client, so the tree holds one reqwest.

use std::future::Future;
use std::pin::Pin;

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Adapts a `reqwest::Client` for oauth2's requests.
pub struct OAuthHttp<'a>(pub &'a reqwest::Client);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OAuthHttpError(String);

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
                .await
                .map_err(|e| OAuthHttpError(crate::graph::describe_reqwest(&e)))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|e| OAuthHttpError(crate::graph::describe_reqwest(&e)))?;
            let mut out = http_response(status, body.to_vec());
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}

fn http_response(status: reqwest::StatusCode, body: Vec<u8>) -> HttpResponse {
    let mut response = oauth2::http::Response::new(body);
    *response.status_mut() = status;
    response
}
