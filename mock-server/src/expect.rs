//! Scaffold: the control-plane helper replaces this with wiremock-style expectations.

use crate::journal::Journal;

/// Expectations registered on a `MockWeChat`, verified when it is dropped.
#[derive(Default)]
pub struct Expectations {}

impl Expectations {
    /// Panics with a list of what was received when an expectation is not met.
    pub fn verify(&self, _journal: &Journal) {}
}
