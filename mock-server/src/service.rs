//! The hyper service every connection of the fake is served by. A WeChat path goes straight to
//! [`crate::api::answer`] (journal, faults, handler: plain function calls, no layer); `/` and the
//! control API (`/__admin…`, console included) go to the axum router of [`crate::server::app`],
//! with its CORS policy and guard. The router answers WeChat paths through the same
//! `api::answer`, so which way a request goes changes its cost, never its answer.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use axum::body::{Body, HttpBody};
use axum::http::{header, HeaderValue, Method};
use axum::response::Response;
use axum::Router;
use tower::ServiceExt as _;

use crate::api::AtOnce;
use crate::state::AppState;

/// The fake as one hyper service: a cheap handle (two `Arc`s) cloned per connection.
#[derive(Clone)]
pub struct FakeService {
    state: AppState,
    router: Router,
}

/// What [`FakeService`] answers with: the answer itself when it was ready at once (the usual
/// WeChat call), or the work still to do.
pub enum Answer {
    /// Answered while the request was handed over.
    Ready(std::future::Ready<Result<Response, Infallible>>),
    /// Still to answer.
    Waiting(Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>),
}

impl Future for Answer {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Answer::Ready(ready) => Pin::new(ready).poll(cx),
            Answer::Waiting(waiting) => waiting.as_mut().poll(cx),
        }
    }
}

impl FakeService {
    /// The service for `state` as served on a loopback address (or not: see
    /// [`crate::server::app_on`]).
    pub fn new(state: AppState, loopback: bool) -> Self {
        Self {
            router: crate::server::app_on(state.clone(), loopback),
            state,
        }
    }

    /// Answers one request, whatever its body type.
    pub fn answer<B>(&self, request: axum::http::Request<B>) -> Answer
    where
        B: HttpBody<Data = axum::body::Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        if !is_wechat(request.uri().path()) {
            return Answer::Waiting(Box::pin(
                self.router.clone().oneshot(request.map(Body::new)),
            ));
        }
        let method = request.method().clone();
        let state = self.state.clone();
        match crate::api::answer_at_once(&self.state, request) {
            AtOnce::Answered(response) => {
                Answer::Ready(std::future::ready(Ok(as_routed(&method, response))))
            }
            AtOnce::Unfinished(unfinished) => Answer::Waiting(Box::pin(async move {
                Ok(as_routed(&method, unfinished.finish(&state).await))
            })),
            AtOnce::Declined(request) => Answer::Waiting(Box::pin(async move {
                let response = crate::api::answer(&state, request.map(Body::new)).await;
                Ok(as_routed(&method, response))
            })),
        }
    }
}

impl<B> hyper::service::Service<axum::http::Request<B>> for FakeService
where
    B: HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: axum::http::Request<B>) -> Answer {
        self.answer(request)
    }
}

/// True for the paths the WeChat API answers (its six endpoints and the 40066 of any other
/// path); `/` (the console's pointer page for browsers) and `/__admin…` are the router's.
/// Anything unusual (no leading `/`) goes to the router too, which answers every path.
fn is_wechat(path: &str) -> bool {
    path.starts_with('/') && path != "/" && !path.starts_with("/__admin")
}

/// What axum's router does to every answer it routes at the top level, done here for answers
/// that skip it, so the bytes on the wire are the same: a `Content-Length` from an exact body
/// size, and no body for `HEAD` (the journal has seen it already). A 2xx to `CONNECT` would
/// lose its body too; the fake never gives one (`crate::api::connect_refused`).
fn as_routed(method: &Method, mut response: Response) -> Response {
    if method == Method::CONNECT && response.status().is_success() {
        if response.headers().contains_key(header::CONTENT_LENGTH)
            || response.headers().contains_key(header::TRANSFER_ENCODING)
            || response.body().size_hint().lower() != 0
        {
            *response.body_mut() = Body::empty();
        }
        return response;
    }
    if !response.headers().contains_key(header::CONTENT_LENGTH) {
        if let Some(size) = response.body().size_hint().exact() {
            // Set here, as axum does, rather than left to hyper: hyper would write it after a
            // `connection: close` it adds itself, and the bytes would differ.
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, content_length(size));
        }
    }
    if method == Method::HEAD {
        *response.body_mut() = Body::empty();
    }
    response
}

/// Bodies up to this many bytes (every usual answer) get a `Content-Length` rendered once.
const RENDERED_LENGTHS: u64 = 1024;

/// The `Content-Length` value of a body of `size` bytes: a shared copy of one rendered at
/// start for the usual sizes (rendering a number into a header value allocates).
fn content_length(size: u64) -> HeaderValue {
    static RENDERED: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    let rendered = RENDERED.get_or_init(|| (0..RENDERED_LENGTHS).map(HeaderValue::from).collect());
    usize::try_from(size)
        .ok()
        .and_then(|size| rendered.get(size))
        .cloned()
        .unwrap_or_else(|| HeaderValue::from(size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_lengths_rendered_once_are_the_numbers_rendered_each_time() {
        for size in [0, 1, 27, 99, 100, 1023, 1024, 1025, 65_536, u64::MAX] {
            assert_eq!(content_length(size), HeaderValue::from(size), "{size}");
            assert_eq!(content_length(size), size.to_string().as_str());
        }
    }

    #[test]
    fn wechat_paths_skip_the_router_and_the_control_api_does_not() {
        for path in [
            "/wxa/checksession",
            "/sns/jscode2session",
            "/nope",
            "/WXA/x",
        ] {
            assert!(is_wechat(path), "{path}");
        }
        for path in [
            "/",
            "/__admin",
            "/__admin/health",
            "/__admin/console/app.js",
            "",
        ] {
            assert!(!is_wechat(path), "{path}");
        }
    }
}
