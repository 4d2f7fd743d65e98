//! Fault injection: rules that bend WeChat's answers on purpose, the named scenarios built on
//! them, and magic login codes. Split by noun: what a rule matches on (`facts`), what it does
//! (`action`), how often (`rule`), where rules live (`store`), the request-path glue
//! (`middleware`), and the typed Rust builder (`builder`).

mod action;
mod builder;
mod facts;
mod magic;
mod middleware;
mod rule;
mod scenario;
mod store;

pub use action::{
    dropped_connection, Action, ActionFields, DroppedOnPurpose, DEFAULT_TIMEOUT_MS, MAX_DELAY_MS,
};
pub use builder::{Fault, FaultId, Path, Step};
pub use facts::{appid_of, query_param, RequestFacts, JSCODE2SESSION};
pub(crate) use facts::{needs_decoding, raw_pairs, shared_appid_of};
pub use magic::{errcode_of as magic_errcode, PREFIX as MAGIC_PREFIX};
pub(crate) use middleware::apply_at_once;
pub use middleware::{apply, middleware, Applied, MAGIC_CODE, MAX_BODY_BYTES};
pub use rule::{FaultRule, FaultSpec, Outcome, Scope};
pub(crate) use scenario::apply as apply_scenario;
pub use scenario::{Effect, Scenario, ScenarioApplied, ScenarioRun, SLOW_WECHAT_DEFAULT_MS};
pub use store::FaultStore;
