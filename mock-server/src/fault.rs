//! Scaffold: the control-plane helper replaces this with fault rules, scenarios and magic codes.
pub struct FaultStore {}
