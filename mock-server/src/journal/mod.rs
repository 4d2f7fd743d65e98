//! The request journal: every WeChat-API request the fake received and what it answered,
//! bounded in entries and in bytes, queryable by path, appid and position. Split into the entry forms (`entry`), the
//! ring that holds them (`store`) and the request-path glue (`middleware`).

mod entry;
mod middleware;
mod store;

pub use entry::{JournalEntry, NO_ANSWER, TRUNCATED_MARKER};
pub use middleware::{middleware, record, Ticket};
pub(crate) use middleware::{record_at_once, Unfinished};
pub use store::{
    Journal, JournalFilter, JournalLimits, Page, DEFAULT_BODY_LIMIT, DEFAULT_CAPACITY,
    DEFAULT_MAX_BYTES,
};
