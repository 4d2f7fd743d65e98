//! token.*: what the backend does with the token it issued — accepts it, refuses it when it is
//! missing, garbage, tampered, unsigned or expired, and does not make it guessable, forgeable
//! (weak HMAC key) or a carrier of secrets. JWT-only cases skip opaque tokens with the reason. A
//! multi-part credential (a session id and its key) is taken apart: each part is left out,
//! malformed and altered on its own, and parts of two sessions are recombined (`parts`).

mod boundary;
mod claims;
mod deadline;
mod expiry;
mod forgery;
mod parts;
mod refusal;
mod shared;
mod unpredictable;

use super::{Case, Needs, Severity};

pub(crate) use refusal::GARBAGE_TOKENS;
pub(crate) use shared::{access_tokens_of_run, known_secret_values, redacted};

/// The cases of this family, in catalogue order.
pub fn cases() -> Vec<Case> {
    vec![
        Case::new("token.accepted", Severity::Must, "a token from a valid login is accepted by the protected endpoint", refusal::accepted).needs(Needs::Login),
        Case::new("token.missing", Severity::Must, "a protected request without a token, or without any one part of the credential, is rejected (4xx, not 5xx)", refusal::missing).needs(Needs::Nothing),
        Case::new("token.garbage", Severity::Must, "malformed tokens are rejected (4xx, never 5xx), whole or as any one part of the credential", refusal::garbage).needs(Needs::Nothing),
        Case::new("token.tampered", Severity::Must, "a JWT whose payload was changed (signature kept) is rejected, and so is a multi-part credential with any one part altered", forgery::tampered),
        Case::new("token.parts-bound", Severity::Must, "the parts of a multi-part credential belong together: one session's part with another session's other parts is rejected", parts::parts_bound),
        Case::new("token.alg-none", Severity::Must, "an unsigned alg:none copy of the JWT is rejected, whatever the spelling", forgery::alg_none),
        Case::new("token.weak-secret", Severity::Must, "the JWT's HMAC key is not a weak/published secret, the appid or the appsecret", forgery::weak_secret).needs(Needs::Login),
        Case::new("token.no-sensitive-claims", Severity::Must, "the JWT carries no session_key, appsecret or access_token (the user's openid or unionid in it is reported as INFO)", claims::no_sensitive_claims).needs(Needs::Login),
        Case::new("token.has-expiry", Severity::Must, "the JWT has an exp and lives no longer than the profile's max_lifetime_secs", claims::has_expiry).needs(Needs::Login),
        Case::new("token.expired-rejected", Severity::Must, "a token is refused once the backend's clock is past its exp (without one, the declared lifetime) plus the leeway, and accepted before; expired tokens minted with the key are refused", expiry::expired_rejected),
        Case::new("token.unpredictable", Severity::Must, "the token is not derived from openid/unionid/session_key/userId, and two logins never give the same token", unpredictable::unpredictable).needs(Needs::Login),
    ]
}
