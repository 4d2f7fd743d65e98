//! A short fix hint per case family, shown next to a failure in the HTML report: where in a
//! typical backend the bug lives and what the fix is. Specific ids first, then the family.

/// The hint for a failed or errored case.
pub fn for_case(id: &str) -> &'static str {
    match id {
        "login.happy" | "login.returning-user" | "login.distinct-users" => {
            "Exchange the code with jscode2session (appid, secret, js_code, grant_type=authorization_code) at the base URL from your configuration, and answer with the token where the profile's [login] expects it."
        }
        "login.invalid-code" | "login.code-reused" | "login.missing-code" | "login.high-risk" => {
            "Read errcode from WeChat's HTTP 200 body: a non-zero errcode (40029, 40163, 40226, 41008) means no session; answer the client with a 4xx and issue no token."
        }
        "login.wechat-busy" | "login.rate-limited" => {
            "Treat -1 and 45011 as transient: retry a bounded number of times or answer 503, never 500 and never a token."
        }
        "login.upstream-garbage" | "login.upstream-timeout" => {
            "Give the HTTP client a timeout and parse WeChat's body defensively: a non-JSON or missing answer is an upstream failure (502/503), not a crash."
        }
        "login.no-secret-leak" => {
            "Never send the appsecret, the session_key or WeChat's raw answer to the client, and keep them out of logs and error pages."
        }
        "token.alg-none" => {
            "Verify every token's signature with a fixed list of algorithms (e.g. algorithms: ['HS256']); refuse alg none, unsigned and malformed tokens with a 401."
        }
        "token.tampered" | "token.garbage" | "token.missing" => {
            "Verify every token's signature with a fixed list of algorithms (e.g. algorithms: ['HS256']); refuse alg none, unsigned and malformed tokens with a 401. With a session id and key, require and check every part: a missing or altered key is a 401, not a pass and not a crash."
        }
        "token.parts-bound" => {
            "Look the session up by its id and compare the key it carries with that session's own stored key (in constant time); never accept a key that merely exists in some session, nor find the session by the key alone."
        }
        "token.expired-rejected" => {
            "Check exp on every request with a clock tolerance of seconds, not hours or days (jsonwebtoken's clockTolerance, PyJWT's leeway), never with expiry checks off; give opaque tokens a server-side expiry the lookup enforces."
        }
        "token.has-expiry" => {
            "Issue tokens with an exp claim and check it on every request (most JWT libraries do once exp is set)."
        }
        "token.weak-secret" | "token.unpredictable" => {
            "Sign with a long random secret (at least 32 random bytes for HS256) read from the environment, not a sample value."
        }
        "token.no-sensitive-claims" => {
            "Put only an opaque user id in the token: no session_key, appsecret, access token, openid-derived secrets or phone numbers (a JWT payload is readable by anyone; an openid there is reported as INFO)."
        }
        "data.openid-mismatch" => {
            "Take the user's identity from the session (jscode2session's openid), never from decrypted userInfo: refuse data whose openId differs from the session's openid, and never pick or create an account from it."
        }
        "access-token.refresh-bounded" => {
            "Refresh the access token at most once per operation when WeChat answers 40001/42001/40014 (a retry counter, not recursion), then give up with a 502/503; keep the failure visible to the client."
        }
        "login.no-access-token-dependency" => {
            "Call jscode2session with the appid and secret only: do not fetch an access token on the login path (wrappers that call getAccessToken() first fail every login when /cgi-bin/token fails)."
        }
        "token.accepted" => {
            "Accept the token your login issued on the protected endpoint, in the place the profile's [auth] says."
        }
        "robust.no-secret-in-logs" => {
            "Log what happened, not the values: the openid and errcode of a jscode2session call, never its URL (the appsecret is in the query), WeChat's raw answer (the session_key) or an access token; mask them in your logger if a library logs requests."
        }
        "robust.no-internal-detail" => {
            "Answer errors with a message you wrote for the client (and WeChat's errcode if useful), never the caught exception's e.message / str(e): log the detail on the server, answer {\"error\":\"upstream error\"} or \"invalid encrypted data\"."
        }
        _ if id.starts_with("login.") => {
            "Follow WeChat's login contract: exchange each code once with jscode2session, read errcode from the HTTP 200 body, and issue a token only for a session_key and openid."
        }
        _ if id.starts_with("token.") => {
            "Verify the token on every protected request (signature, algorithm, exp) and refuse anything else with a 401."
        }
        _ if id.starts_with("auth.") => {
            "Authenticate with a credential only your login issued (a signed token or a random session id) sent in a header or cookie: never the openid itself, never a token in the URL, where logs and Referer headers keep it."
        }
        _ if id.starts_with("data.") => {
            "Decrypt with the user's current session_key (AES-128-CBC, 16-byte PKCS#7), refuse bad IVs, padding and JSON, and check watermark.appid against your appid."
        }
        _ if id.starts_with("access-token.") => {
            "Cache the access token until shortly before expires_in, refresh it on 40001/42001/40014 and retry once, and never send it to clients."
        }
        _ if id.starts_with("robust.") => {
            "Catch unexpected input at the edge: a 4xx with a short message, no stack trace, and the process keeps serving."
        }
        _ => "Make the backend follow the case's rule; the evidence shows what it did instead.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_case_has_a_specific_hint() {
        let fallback = for_case("no.such-case");
        for case in crate::case::catalogue() {
            assert_ne!(for_case(case.id), fallback, "{} has no fix hint", case.id);
        }
    }
}
