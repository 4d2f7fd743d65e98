//! Scaffold: the server-core helper replaces this with tenants, users, codes, tokens and quotas.
pub struct Engine {}
