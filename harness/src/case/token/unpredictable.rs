//! token.unpredictable: the token is not computed from what others know about the user, and two
//! logins never give the same token.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

use super::shared::redacted;
use crate::case::{CaseFuture, Outcome};
use crate::context::Ctx;
use crate::jwt::{self, Identifier};

pub(super) fn unpredictable(ctx: &mut Ctx) -> CaseFuture<'_> {
    Box::pin(async move {
        let first = ctx.fresh_session().await?;
        let user = first.user.clone();
        // Two JWTs minted in the same second from the same claims are the same bytes, and that is
        // no defect: space the logins by a backend clock step, or else wait for the next second.
        if ctx.clock.can_move() {
            ctx.clock.advance(2).await?;
        } else {
            let into_second = std::time::SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_millis())
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(u64::from(1000 - into_second) + 20)).await;
        }
        let second = ctx.session_for(user.clone()).await?;
        let mut user_ids = Vec::new();
        if ctx.has_identity() {
            let r = ctx.protected(Some(&second.credential)).await?;
            user_ids.extend(ctx.identity_of(&r, &second.credential));
        }
        for login in [&first.login, &second.login] {
            for key in [
                "/userId",
                "/user_id",
                "/uid",
                "/data/userId",
                "/data/user_id",
            ] {
                if let Some(v) = login.response.pointer(key) {
                    user_ids.push(crate::profile::value_text(v));
                }
            }
        }
        let mut session_keys = Vec::new();
        for e in ctx.journal_since_case(Some("/sns/jscode2session")).await? {
            if let Some(Value::String(k)) = e
                .response_json()
                .and_then(|j| j.get("session_key").cloned())
            {
                session_keys.push(k);
            }
        }
        let appid = ctx.fake.appid().to_owned();
        let openid_appid = format!("{}{appid}", user.openid);
        let appid_openid = format!("{appid}{}", user.openid);
        let mut ids = vec![
            Identifier {
                label: "openid",
                value: &user.openid,
            },
            Identifier {
                label: "openid+appid",
                value: &openid_appid,
            },
            Identifier {
                label: "appid+openid",
                value: &appid_openid,
            },
        ];
        if let Some(u) = &user.unionid {
            ids.push(Identifier {
                label: "unionid",
                value: u,
            });
        }
        ids.extend(session_keys.iter().map(|k| Identifier {
            label: "session_key",
            value: k,
        }));
        ids.extend(user_ids.iter().map(|u| Identifier {
            label: "userId",
            value: u,
        }));
        for token in [&first.token, &second.token] {
            if let Some(how) = jwt::predictable_derivation(token, &ids) {
                return Ok(Outcome::failed(format!(
                    "{how}: anyone who knows it can compute the token"
                )));
            }
        }
        if first.token == second.token {
            return Ok(Outcome::failed(format!(
                "two logins of the same user gave the same token {}: a token must name a session, not a user",
                redacted(&first.token)
            )));
        }
        Ok(Outcome::Passed)
    })
}
