//! Scaffold: the control-plane helper replaces this with the bounded request journal.
pub struct Journal {}
