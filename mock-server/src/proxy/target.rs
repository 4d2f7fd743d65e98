//! What a request that reached the impersonation front is for, decided from its request line
//! and `Host` alone (no socket here, so every rule is tested directly): a tunnel to open, a
//! request for the fake (rewritten to arrive exactly as a direct one would), or a refusal with
//! a one-line reason. Nothing is ever forwarded anywhere.

use axum::http::header::{self, HeaderValue};
use axum::http::uri::{Authority, Uri};
use axum::http::{Method, Request};

use crate::ca::WECHAT_HOST;

/// Where the connection a request came on stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// On the proxy port, in clear or in TLS spoken straight to it: requests must name
    /// `api.weixin.qq.com` (absolute-form or `Host`); `CONNECT` opens a tunnel.
    Proxy,
    /// Inside a `CONNECT api.weixin.qq.com:443` tunnel, after TLS: the host is already decided.
    Tunnel,
    /// The hosts-file listener (`--tls-listen`): origin-form requests that name the host in
    /// `Host`, as a client resolving `api.weixin.qq.com` to this machine sends them.
    Direct,
}

/// What to do with a request.
#[derive(Debug)]
pub enum Decision<B> {
    /// Answer `200`, then terminate TLS on the upgraded connection as `api.weixin.qq.com` (the
    /// request is kept: its upgrade is taken from it).
    Tunnel(Request<B>),
    /// Hand this (rewritten) request to the fake's router.
    Fake(Request<B>),
    /// Answer `403` with this reason.
    Refuse(String),
}

/// Decides what `request`, arriving at `place`, is for.
pub fn decide<B>(mut request: Request<B>, place: Place) -> Decision<B> {
    if request.method() == Method::CONNECT {
        let authority = request.uri().authority().cloned();
        return match (place, authority) {
            (Place::Tunnel, _) | (Place::Direct, _) => {
                Decision::Refuse("CONNECT is only accepted on the proxy port, outside a tunnel".into())
            }
            (Place::Proxy, Some(authority))
                if is_wechat(authority.host()) && authority.port_u16() == Some(443) =>
            {
                Decision::Tunnel(request)
            }
            (Place::Proxy, Some(authority)) => Decision::Refuse(format!(
                "wxmock impersonates {WECHAT_HOST}:443 only; refusing CONNECT {authority} (nothing is forwarded)"
            )),
            (Place::Proxy, None) => Decision::Refuse("CONNECT needs host:port".into()),
        };
    }
    let named = match request.uri().authority() {
        Some(authority) => Named::Uri(authority.clone()),
        None => match request.headers().get(header::HOST) {
            Some(host) => match host.to_str().ok().and_then(|h| h.parse::<Authority>().ok()) {
                Some(authority) => Named::Host(authority),
                None => Named::Nothing,
            },
            None => Named::Nothing,
        },
    };
    let allowed = match (&named, place) {
        (_, Place::Tunnel) => true,
        // The hosts-file listener may sit on any port (a forward from 443, a test): its `Host`
        // then carries that port, and only the name matters.
        (Named::Uri(a) | Named::Host(a), Place::Direct) => is_wechat(a.host()),
        (Named::Uri(a) | Named::Host(a), Place::Proxy) => {
            is_wechat(a.host()) && matches!(a.port_u16(), None | Some(80) | Some(443))
        }
        (Named::Nothing, _) => false,
    };
    if !allowed {
        let what = match &named {
            Named::Uri(_) => without_query(request.uri()),
            Named::Host(a) => format!("Host: {a}"),
            Named::Nothing => "a request without a host".to_owned(),
        };
        return Decision::Refuse(format!(
            "wxmock impersonates {WECHAT_HOST} only; refusing {} {what} (nothing is forwarded)",
            request.method()
        ));
    }
    // As a direct request arrives: origin-form, `Host` naming the API, no proxy headers.
    let origin_form = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    if let Ok(uri) = origin_form.parse::<Uri>() {
        *request.uri_mut() = uri;
    }
    let headers = request.headers_mut();
    headers.insert(header::HOST, HeaderValue::from_static(WECHAT_HOST));
    headers.remove("proxy-connection");
    headers.remove(header::PROXY_AUTHORIZATION);
    Decision::Fake(request)
}

/// A URI as it may be shown and logged: another service's query can carry its credentials.
fn without_query(uri: &Uri) -> String {
    let scheme = uri
        .scheme_str()
        .map(|s| format!("{s}://"))
        .unwrap_or_default();
    let authority = uri.authority().map(Authority::as_str).unwrap_or_default();
    let query = if uri.query().is_some() { "?…" } else { "" };
    format!("{scheme}{authority}{}{query}", uri.path())
}

enum Named {
    Uri(Authority),
    Host(Authority),
    Nothing,
}

/// `api.weixin.qq.com`, in any case, with or without the root's trailing dot.
fn is_wechat(host: &str) -> bool {
    host.strip_suffix('.')
        .unwrap_or(host)
        .eq_ignore_ascii_case(WECHAT_HOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, uri: &str, host: Option<&str>) -> Request<()> {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(host) = host {
            builder = builder.header("host", host);
        }
        builder.body(()).expect("request")
    }

    fn refused(decision: Decision<()>) -> String {
        match decision {
            Decision::Refuse(reason) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn connect_to_the_api_on_443_opens_a_tunnel() {
        let d = decide(
            request("CONNECT", "api.weixin.qq.com:443", None),
            Place::Proxy,
        );
        assert!(matches!(d, Decision::Tunnel(_)), "{d:?}");
        let d = decide(
            request("CONNECT", "API.Weixin.QQ.com.:443", None),
            Place::Proxy,
        );
        assert!(matches!(d, Decision::Tunnel(_)), "{d:?}");
    }

    #[test]
    fn connect_anywhere_else_is_refused_with_its_target_named() {
        let reason = refused(decide(
            request("CONNECT", "example.com:443", None),
            Place::Proxy,
        ));
        assert!(reason.contains("example.com:443"), "{reason}");
        assert!(reason.contains("nothing is forwarded"), "{reason}");
        let reason = refused(decide(
            request("CONNECT", "api.weixin.qq.com:8443", None),
            Place::Proxy,
        ));
        assert!(reason.contains(":8443"), "{reason}");
        let reason = refused(decide(
            request("CONNECT", "api.weixin.qq.com.evil.example:443", None),
            Place::Proxy,
        ));
        assert!(reason.contains("evil.example"), "{reason}");
        let reason = refused(decide(
            request("CONNECT", "api.weixin.qq.com:443", None),
            Place::Tunnel,
        ));
        assert!(reason.contains("outside a tunnel"), "{reason}");
    }

    #[test]
    fn an_absolute_form_request_reaches_the_fake_in_origin_form_with_the_api_host() {
        let mut r = request(
            "GET",
            "https://api.weixin.qq.com/sns/jscode2session?appid=wx1&js_code=c",
            Some("api.weixin.qq.com"),
        );
        r.headers_mut()
            .insert("proxy-connection", HeaderValue::from_static("keep-alive"));
        let Decision::Fake(r) = decide(r, Place::Proxy) else {
            panic!("not handed to the fake")
        };
        assert_eq!(
            r.uri().to_string(),
            "/sns/jscode2session?appid=wx1&js_code=c"
        );
        assert_eq!(r.headers()["host"], "api.weixin.qq.com");
        assert!(r.headers().get("proxy-connection").is_none());
        let d = decide(
            request("GET", "http://api.weixin.qq.com:80/cgi-bin/token", None),
            Place::Proxy,
        );
        assert!(matches!(d, Decision::Fake(_)), "{d:?}");
    }

    #[test]
    fn a_request_for_another_host_is_refused_even_if_its_host_header_lies() {
        let reason = refused(decide(
            request("GET", "http://example.com/x", Some("api.weixin.qq.com")),
            Place::Proxy,
        ));
        assert!(reason.contains("http://example.com/x"), "{reason}");
        let reason = refused(decide(
            request("GET", "http://example.com/x?access_token=t0ps3cret", None),
            Place::Proxy,
        ));
        assert!(reason.contains("http://example.com/x?…"), "{reason}");
        assert!(!reason.contains("t0ps3cret"), "{reason}");
        let reason = refused(decide(
            request("GET", "/sns/jscode2session", Some("127.0.0.1:7070")),
            Place::Proxy,
        ));
        assert!(reason.contains("Host: 127.0.0.1:7070"), "{reason}");
        let reason = refused(decide(request("GET", "/x", None), Place::Direct));
        assert!(reason.contains("without a host"), "{reason}");
    }

    #[test]
    fn inside_a_tunnel_and_on_the_hosts_file_listener_origin_form_is_the_norm() {
        let d = decide(
            request("GET", "/sns/jscode2session", Some("api.weixin.qq.com")),
            Place::Tunnel,
        );
        assert!(matches!(d, Decision::Fake(_)), "{d:?}");
        let d = decide(
            request("GET", "/sns/jscode2session", Some("api.weixin.qq.com:443")),
            Place::Direct,
        );
        assert!(matches!(d, Decision::Fake(_)), "{d:?}");
        let d = decide(
            request("GET", "/sns/jscode2session", Some("api.weixin.qq.com:8443")),
            Place::Direct,
        );
        assert!(matches!(d, Decision::Fake(_)), "{d:?}");
        let reason = refused(decide(
            request("GET", "/sns/jscode2session", Some("example.com")),
            Place::Direct,
        ));
        assert!(reason.contains("Host: example.com"), "{reason}");
    }
}
