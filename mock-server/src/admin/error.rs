//! The control API's one error type and its JSON extractor: every malformed input becomes
//! HTTP 4xx with `{"error": "<what is wrong>"}`, never axum's plain-text rejection.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

/// A control-API error: an HTTP status and a plain sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError {
    /// The HTTP status of the answer (400, 404, 409, …).
    pub status: StatusCode,
    /// What went wrong, in plain words; sent as `{"error": message}`.
    pub message: String,
}

impl AdminError {
    /// A 400: the request is malformed or asks for something that makes no sense.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// A 404: the app, user, rule or scenario named does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// A 409: the request conflicts with the current state (e.g. a user that already exists).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AdminError {}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

/// `Json<T>` whose rejection is an [`AdminError`] naming what is wrong with the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdminJson<T>(pub T);

impl<T, S> FromRequest<S> for AdminJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AdminError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(AdminJson(value)),
            Err(rejection) => Err(AdminError::bad_request(rejection_message(&rejection))),
        }
    }
}

fn rejection_message(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "expected a JSON body with Content-Type: application/json".to_owned()
        }
        other => format!("invalid JSON body: {}", other.body_text()),
    }
}

impl From<crate::error::EngineError> for AdminError {
    fn from(err: crate::error::EngineError) -> Self {
        use crate::error::EngineError;
        match &err {
            EngineError::UnknownApp { .. } | EngineError::UnknownUser { .. } => {
                AdminError::not_found(err.to_string())
            }
            EngineError::NoPhoneNumber { .. } | EngineError::NoSessionKey { .. } => {
                AdminError::conflict(err.to_string())
            }
            EngineError::Invalid { .. } => AdminError::bad_request(err.to_string()),
        }
    }
}
