//! Errors of the reference backend: configuration errors for whoever starts it, and the one
//! `ApiError` every handler returns, which is the only place an error becomes an HTTP answer.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::defect::Defect;

fn known_defects() -> String {
    Defect::ALL
        .iter()
        .map(|d| d.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A defect name that is not one of [`Defect::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown defect {name:?} (known defects: {})", known_defects())]
pub struct UnknownDefect {
    pub name: String,
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is not a valid number: {value:?}")]
    NotANumber {
        name: &'static str,
        value: String,
        #[source]
        source: std::num::ParseIntError,
    },
    #[error("environment variable DEFECTS names an unknown defect")]
    Defect(#[source] UnknownDefect),
}

/// Everything a handler can answer besides success. The texts are deliberately short and never
/// carry internals (upstream bodies, error chains, secrets): the client only learns what it can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The request body is not the JSON we expect.
    BadRequest,
    MissingCode,
    /// The code is absurdly long: refused without spending a WeChat call on it.
    CodeTooLong,
    InvalidCode,
    WeChatBusy,
    Upstream,
    Unauthorized,
    InvalidEncryptedData,
    InvalidPhoneCode,
    NotFound,
    /// Only reachable through a defect switch: the generic answer of a crashed handler.
    Internal,
    /// Only reachable through the defect `internal-detail`: the status of the error it stands
    /// for, with the caught error's own text as the message (`{"error": err.to_string()}`).
    Exposed(StatusCode, String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest
            | ApiError::MissingCode
            | ApiError::CodeTooLong
            | ApiError::InvalidEncryptedData
            | ApiError::InvalidPhoneCode => StatusCode::BAD_REQUEST,
            ApiError::InvalidCode | ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::WeChatBusy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Upstream => StatusCode::BAD_GATEWAY,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Exposed(status, _) => *status,
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            ApiError::BadRequest => "invalid request",
            ApiError::MissingCode => "missing code",
            ApiError::CodeTooLong | ApiError::InvalidCode => "invalid code",
            ApiError::WeChatBusy => "wechat busy, retry later",
            ApiError::Upstream => "upstream error",
            ApiError::Unauthorized => "unauthorized",
            ApiError::InvalidEncryptedData => "invalid encrypted data",
            ApiError::InvalidPhoneCode => "invalid phone code",
            ApiError::NotFound => "not found",
            ApiError::Internal | ApiError::Exposed(..) => "internal server error",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Exposed(status, detail) = self {
            return (status, Json(json!({ "error": detail }))).into_response();
        }
        (self.status(), Json(json!({ "error": self.message() }))).into_response()
    }
}
