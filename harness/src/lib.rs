//! wxmock-harness: drives any mini-program login backend through the WeChat login flow against
//! the fake, and judges it case by case.

pub mod jwt;
