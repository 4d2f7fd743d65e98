//! How the fake writes its answers on the wire: always HTTP 200, compact JSON in WeChat's field
//! order, the content type of each endpoint family, optional `\/` escaping, and the `rid` suffix
//! on every errmsg. Every WeChat-facing answer (handlers, faults, magic codes, the 40066
//! fallback) goes through here, so a switch in [`WireConfig`] changes them all at once.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::errcode::{rid_separator, WxError};

/// Which family of WeChat endpoints a path belongs to; each family has its own content type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `/sns/*` (jscode2session): `text/plain` on the real server.
    Sns,
    /// `/cgi-bin/*` (token, stable_token).
    CgiBin,
    /// `/wxa/*` (checksession, resetusersessionkey, getuserphonenumber).
    Wxa,
}

impl Family {
    /// The family of a request path. Unknown paths answer like `cgi-bin`.
    pub fn of_path(path: &str) -> Self {
        if path.starts_with("/sns/") {
            Family::Sns
        } else if path.starts_with("/wxa/") {
            Family::Wxa
        } else {
            Family::CgiBin
        }
    }
}

/// The switches for WeChat's UNCONFIRMED wire details (docs/wechat-api.md sections 1 and 9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WireConfig {
    /// Content-Type of `/sns/*` answers. Real server: `text/plain`.
    pub sns_content_type: String,
    /// Content-Type of `/cgi-bin/*` answers. Real server: `application/json; encoding=utf-8`.
    pub cgi_bin_content_type: String,
    /// Content-Type of `/wxa/*` answers.
    pub wxa_content_type: String,
    /// Write `/` as `\/` inside JSON strings, as older WeChat servers did.
    pub escape_slashes: bool,
    /// Append `rid: …` to every errmsg, as the real server does.
    pub rid: bool,
    /// Add `"errcode":0,"errmsg":"ok"` to every successful jscode2session answer, as WeChat's docs
    /// show it. Real answers omit both fields (the default).
    pub success_errcode: bool,
}

impl Default for WireConfig {
    fn default() -> Self {
        Self {
            sns_content_type: "text/plain".to_owned(),
            cgi_bin_content_type: "application/json; encoding=utf-8".to_owned(),
            wxa_content_type: "application/json; encoding=utf-8".to_owned(),
            escape_slashes: false,
            rid: true,
            success_errcode: false,
        }
    }
}

/// Renders WeChat answers according to a [`WireConfig`].
#[derive(Clone, Debug)]
pub struct Wire {
    /// How answers are rendered (content types, slash escaping, `rid`, errcode on success).
    pub config: WireConfig,
    clock: Clock,
    /// The content types of `Sns`, `CgiBin`, `Wxa`, parsed once (None: not a valid header value,
    /// answered without a content type).
    content_types: [Option<HeaderValue>; 3],
}

impl Wire {
    /// A renderer for this configuration, reading the time from `clock`.
    pub fn new(config: WireConfig, clock: Clock) -> Self {
        let parse = |text: &str| HeaderValue::from_str(text).ok();
        let content_types = [
            parse(&config.sns_content_type),
            parse(&config.cgi_bin_content_type),
            parse(&config.wxa_content_type),
        ];
        Self {
            config,
            clock,
            content_types,
        }
    }

    /// A request id in WeChat's format: the Unix time in hex, then two random groups.
    pub fn rid(&self) -> String {
        let now = u32::try_from(self.clock.now().max(0)).unwrap_or(u32::MAX);
        format!(
            "{:08x}-{:08x}-{:08x}",
            now,
            rand::random::<u32>(),
            rand::random::<u32>()
        )
    }

    /// The full errmsg for an error: base text, separator and rid (when rids are on).
    pub fn errmsg(&self, err: &WxError) -> String {
        if !self.config.rid {
            return err.errmsg.clone().into_owned();
        }
        format!(
            "{}{}rid: {}",
            err.errmsg,
            rid_separator(err.errcode),
            self.rid()
        )
    }

    /// `{"errcode":N,"errmsg":"… rid: …"}` with HTTP 200.
    pub fn error(&self, family: Family, err: &WxError) -> Response {
        /// The envelope, written straight from its fields (no JSON value built first).
        #[derive(Serialize)]
        struct Envelope<'a> {
            errcode: i64,
            errmsg: &'a str,
        }
        let errmsg = self.errmsg(err);
        self.serialized(
            family,
            &Envelope {
                errcode: err.errcode,
                errmsg: &errmsg,
            },
        )
    }

    /// A JSON answer with HTTP 200, compact, keys in insertion order.
    pub fn json(&self, family: Family, value: &serde_json::Value) -> Response {
        self.serialized(family, value)
    }

    /// Any serialisable answer, compact, with HTTP 200 (fields in declaration order).
    fn serialized<T: Serialize + ?Sized>(&self, family: Family, value: &T) -> Response {
        // Serialising a `Value` or a struct of strings and numbers cannot fail.
        let mut text = serde_json::to_string(value).unwrap_or_default();
        if self.config.escape_slashes {
            // `/` only ever appears inside strings in JSON, so this is exact.
            text = text.replace('/', "\\/");
        }
        self.raw(family, StatusCode::OK, text)
    }

    /// A body as given, with the family's content type.
    pub fn raw(&self, family: Family, status: StatusCode, body: String) -> Response {
        self.with_type(family, status, Body::from(body))
    }

    /// A fixed JSON answer with HTTP 200 (e.g. `{"errcode":0,"errmsg":"ok"}`), written without
    /// building or serialising a JSON value. `body` must contain no `/`, so that slash escaping
    /// has nothing to change.
    pub fn fixed(&self, family: Family, body: &'static str) -> Response {
        debug_assert!(!body.contains('/'));
        self.with_type(
            family,
            StatusCode::OK,
            Body::from(Bytes::from_static(body.as_bytes())),
        )
    }

    fn with_type(&self, family: Family, status: StatusCode, body: Body) -> Response {
        let content_type = match family {
            Family::Sns => &self.content_types[0],
            Family::CgiBin => &self.content_types[1],
            Family::Wxa => &self.content_types[2],
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        if let Some(value) = content_type {
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, value.clone());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_text(response: Response) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn errors_are_compact_with_a_rid_whose_first_group_is_the_time() {
        let wire = Wire::new(WireConfig::default(), Clock::fixed(0x66c6_9111));
        let response = wire.error(Family::Sns, &WxError::new(40029));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/plain");
        let text = body_text(response).await;
        assert!(
            text.starts_with(r#"{"errcode":40029,"errmsg":"invalid code, rid: 66c69111-"#),
            "{text}"
        );
        assert!(!text.contains(' ') || text.contains("invalid code, rid"));
    }

    #[tokio::test]
    async fn slashes_can_be_escaped_like_older_servers() {
        let config = WireConfig {
            escape_slashes: true,
            ..WireConfig::default()
        };
        let wire = Wire::new(config, Clock::fixed(0));
        let text =
            body_text(wire.json(Family::Sns, &serde_json::json!({"session_key": "a/b=="}))).await;
        assert_eq!(text, r#"{"session_key":"a\/b=="}"#);
    }
}
