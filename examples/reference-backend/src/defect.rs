//! The defect switches: each one reproduces a bug seen in real mini-program login backends, so
//! the conformance harness can be shown to catch it. A backend with no defect switched on is the
//! reference that passes every case.

use std::fmt;
use std::str::FromStr;

use crate::error::UnknownDefect;

/// One real-world bug the reference backend can be told to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Defect {
    SessionKeyInJwt,
    LeakSessionKey,
    NoExp,
    IgnoreExp,
    PredictableToken,
    AlgNone,
    WeakSecret,
    AcceptTampered,
    TokenOnErrcode,
    CrashOnErrcode,
    NoUpstreamTimeout,
    AcceptGarbageUpstream,
    NoGrantType,
    ForwardEmptyCode,
    NewUserEveryLogin,
    SharedIdentity,
    OptionalAuth,
    CrashOnBadToken,
    StackTraces,
    NoAccessTokenCache,
    NoTokenRefresh,
    ExposeAccessToken,
    NoWatermarkCheck,
    CrashOnBadData,
    FallbackOldSessionKey,
    TruncateNickname,
    UrlsafeBase64,
    PhoneCountrycodeNumber,
    WedgeOnUpstreamReset,
    OpenidAsPassword,
    TokenInQuery,
    OpaqueTokenNoExpiry,
    ErrcodeZeroIsError,
    UpstreamError500,
    StaleTokenBlocksLogin,
    SharedResponseObject,
    NoOpenidCheck,
    InternalDetail,
    RefreshUnbounded,
    LoginNeedsAccessToken,
    LogSecrets,
}

impl Defect {
    /// Every defect, in the order the README documents them.
    pub const ALL: &'static [Defect] = &[
        Defect::SessionKeyInJwt,
        Defect::LeakSessionKey,
        Defect::NoExp,
        Defect::IgnoreExp,
        Defect::PredictableToken,
        Defect::AlgNone,
        Defect::WeakSecret,
        Defect::AcceptTampered,
        Defect::TokenOnErrcode,
        Defect::CrashOnErrcode,
        Defect::NoUpstreamTimeout,
        Defect::AcceptGarbageUpstream,
        Defect::NoGrantType,
        Defect::ForwardEmptyCode,
        Defect::NewUserEveryLogin,
        Defect::SharedIdentity,
        Defect::OptionalAuth,
        Defect::CrashOnBadToken,
        Defect::StackTraces,
        Defect::NoAccessTokenCache,
        Defect::NoTokenRefresh,
        Defect::ExposeAccessToken,
        Defect::NoWatermarkCheck,
        Defect::CrashOnBadData,
        Defect::FallbackOldSessionKey,
        Defect::TruncateNickname,
        Defect::UrlsafeBase64,
        Defect::PhoneCountrycodeNumber,
        Defect::WedgeOnUpstreamReset,
        Defect::OpenidAsPassword,
        Defect::TokenInQuery,
        Defect::OpaqueTokenNoExpiry,
        Defect::ErrcodeZeroIsError,
        Defect::UpstreamError500,
        Defect::StaleTokenBlocksLogin,
        Defect::SharedResponseObject,
        Defect::NoOpenidCheck,
        Defect::InternalDetail,
        Defect::RefreshUnbounded,
        Defect::LoginNeedsAccessToken,
        Defect::LogSecrets,
    ];

    /// The switch's kebab-case name (what `DEFECTS=` and `wxmock demo --defect` take).
    pub fn name(self) -> &'static str {
        match self {
            Defect::SessionKeyInJwt => "session-key-in-jwt",
            Defect::LeakSessionKey => "leak-session-key",
            Defect::NoExp => "no-exp",
            Defect::IgnoreExp => "ignore-exp",
            Defect::PredictableToken => "predictable-token",
            Defect::AlgNone => "alg-none",
            Defect::WeakSecret => "weak-secret",
            Defect::AcceptTampered => "accept-tampered",
            Defect::TokenOnErrcode => "token-on-errcode",
            Defect::CrashOnErrcode => "crash-on-errcode",
            Defect::NoUpstreamTimeout => "no-upstream-timeout",
            Defect::AcceptGarbageUpstream => "accept-garbage-upstream",
            Defect::NoGrantType => "no-grant-type",
            Defect::ForwardEmptyCode => "forward-empty-code",
            Defect::NewUserEveryLogin => "new-user-every-login",
            Defect::SharedIdentity => "shared-identity",
            Defect::OptionalAuth => "optional-auth",
            Defect::CrashOnBadToken => "crash-on-bad-token",
            Defect::StackTraces => "stack-traces",
            Defect::NoAccessTokenCache => "no-access-token-cache",
            Defect::NoTokenRefresh => "no-token-refresh",
            Defect::ExposeAccessToken => "expose-access-token",
            Defect::NoWatermarkCheck => "no-watermark-check",
            Defect::CrashOnBadData => "crash-on-bad-data",
            Defect::FallbackOldSessionKey => "fallback-old-session-key",
            Defect::TruncateNickname => "truncate-nickname",
            Defect::UrlsafeBase64 => "urlsafe-base64",
            Defect::PhoneCountrycodeNumber => "phone-countrycode-number",
            Defect::WedgeOnUpstreamReset => "wedge-on-upstream-reset",
            Defect::OpenidAsPassword => "openid-as-password",
            Defect::TokenInQuery => "token-in-query",
            Defect::OpaqueTokenNoExpiry => "opaque-token-no-expiry",
            Defect::ErrcodeZeroIsError => "errcode-zero-is-error",
            Defect::UpstreamError500 => "upstream-error-500",
            Defect::StaleTokenBlocksLogin => "stale-token-blocks-login",
            Defect::SharedResponseObject => "shared-response-object",
            Defect::NoOpenidCheck => "no-openid-check",
            Defect::InternalDetail => "internal-detail",
            Defect::RefreshUnbounded => "refresh-unbounded",
            Defect::LoginNeedsAccessToken => "login-needs-access-token",
            Defect::LogSecrets => "log-secrets",
        }
    }

    /// The real-world bug the switch reproduces, in one sentence.
    pub fn description(self) -> &'static str {
        match self {
            Defect::SessionKeyInJwt => {
                "puts the WeChat session_key into the JWT as a claim, where any client can base64-decode it"
            }
            Defect::LeakSessionKey => "returns the session_key in the login answer",
            Defect::NoExp => "issues JWTs without an exp claim, so a stolen token works forever",
            Defect::IgnoreExp => "verifies the JWT signature but never checks exp, so expired tokens are accepted",
            Defect::PredictableToken => {
                "hands out md5(openid) as an opaque token: anyone who knows an openid can log in as that user"
            }
            Defect::AlgNone => "accepts unsigned JWTs whose header says alg none",
            Defect::WeakSecret => "signs JWTs with the literal key \"secret\" copied from a tutorial",
            Defect::AcceptTampered => {
                "decodes JWTs without verifying their signature (jwt.decode instead of jwt.verify)"
            }
            Defect::TokenOnErrcode => {
                "never reads errcode: issues a token for an empty openid when jscode2session answered an error"
            }
            Defect::CrashOnErrcode => {
                "reads openid without checking errcode and crashes with 500 when WeChat answers an error"
            }
            Defect::NoUpstreamTimeout => {
                "calls WeChat without a timeout, so a hung upstream hangs every login"
            }
            Defect::AcceptGarbageUpstream => {
                "treats any upstream answer (HTML error page, garbage, empty body) as a login with an empty openid"
            }
            Defect::NoGrantType => "omits grant_type=authorization_code when calling jscode2session",
            Defect::ForwardEmptyCode => {
                "does not validate the code: forwards an empty js_code to WeChat and spends a call on it"
            }
            Defect::NewUserEveryLogin => {
                "creates a new user record on every login instead of looking the openid up"
            }
            Defect::SharedIdentity => {
                "keeps the current user in a global: /api/me answers whoever logged in last, whatever the token"
            }
            Defect::OptionalAuth => {
                "treats a request without a token as an anonymous user instead of rejecting it"
            }
            Defect::CrashOnBadToken => "crashes with 500 on a token that is not a well-formed JWT",
            Defect::StackTraces => {
                "error answers carry a backtrace with source paths, as a debug-mode error handler prints"
            }
            Defect::NoAccessTokenCache => {
                "fetches a fresh access_token for every operation and burns the 2000/day quota"
            }
            Defect::NoTokenRefresh => {
                "caches the access_token but never refreshes it when WeChat says it is invalid or expired"
            }
            Defect::ExposeAccessToken => "echoes the access_token in the phone-number answer",
            Defect::NoWatermarkCheck => {
                "decrypts open data without checking that watermark.appid is its own appid"
            }
            Defect::CrashOnBadData => {
                "does not validate the IV or the decrypted text: broken encrypted data crashes with 500"
            }
            Defect::FallbackOldSessionKey => {
                "when decryption fails, retries with every session_key the user ever had, accepting stale data"
            }
            Defect::TruncateNickname => {
                "stores nickName in a varchar(20) column and silently cuts longer names"
            }
            Defect::UrlsafeBase64 => {
                "decodes encryptedData with the URL-safe base64 alphabet, failing on every '+' or '/'"
            }
            Defect::PhoneCountrycodeNumber => {
                "expects countryCode as a number (as the docs show) while WeChat sends the string \"86\""
            }
            Defect::WedgeOnUpstreamReset => {
                "after WeChat resets one connection, every later request answers 500, like a poisoned pool"
            }
            Defect::OpenidAsPassword => "logs in by HTTP Basic with the openid as user name and password (Django's create_user(openid, password=openid)), or takes the openid itself as a token",
            Defect::TokenInQuery => "also reads the token from ?token= or ?access_token=, so tokens end up in access logs and Referer headers",
            Defect::OpaqueTokenNoExpiry => "hands out random opaque tokens kept in a table with no expiry column: a token works forever",
            Defect::ErrcodeZeroIsError => "treats any errcode field in the jscode2session answer as a failure, errcode 0 (the shape WeChat's docs show) included",
            Defect::UpstreamError500 => "lets WeChat failures (busy, garbage, gateway pages, resets, timeouts) escape as a bare 500 from an unhandled exception",
            Defect::StaleTokenBlocksLogin => "runs the auth middleware on the login route too: a login that still carries an old or garbage token answers 403, locking the user out until they clear storage",
            Defect::SharedResponseObject => "builds login answers in one module-level object and sets userId only when it is still empty, so later users get the first user's userId",
            Defect::NoOpenidCheck => "returns decrypted userInfo without comparing its openId with the logged-in user's, so one user's profile can be posted as another's",
            Defect::LogSecrets => "logs every jscode2session call with its URL (the appsecret in the query) and WeChat's answer (the session_key), as console.log('jscode2session', url, body) does",
            Defect::InternalDetail => "answers errors with the caught error's own text ({\"error\": err.to_string()}): the HTTP client's error chain, the page WeChat sent, the crypto library's padding error",
            Defect::RefreshUnbounded => "refreshes the access token and retries again and again while WeChat answers 40001, as SDK wrappers that recurse on a bad token do (capped at 50 rounds here so a test ends)",
            Defect::LoginNeedsAccessToken => "fetches the access token before calling jscode2session, as SDK wrappers do, so every login fails while /cgi-bin/token fails",
        }
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Defect {
    type Err = UnknownDefect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Defect::ALL
            .iter()
            .copied()
            .find(|d| d.name() == wanted)
            .ok_or_else(|| UnknownDefect {
                name: wanted.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defect_round_trips_through_its_name() {
        for d in Defect::ALL {
            assert_eq!(d.name().parse::<Defect>().unwrap(), *d);
            assert!(!d.description().is_empty());
        }
    }

    #[test]
    fn all_lists_every_defect_once() {
        let set: std::collections::BTreeSet<_> = Defect::ALL.iter().collect();
        assert_eq!(set.len(), Defect::ALL.len());
        assert_eq!(Defect::ALL.len(), 41);
    }

    #[test]
    fn an_unknown_name_is_an_error_that_lists_the_valid_ones() {
        let err = "alg-nope".parse::<Defect>().unwrap_err().to_string();
        assert!(
            err.contains("alg-nope") && err.contains("alg-none"),
            "{err}"
        );
    }
}
