//! Magic login codes for frontend developers: `js_code=wxmock-err-<errcode>` on jscode2session
//! answers that errcode, with no control-API call (e.g. `wxmock-err-40226` for a blocked user).

/// What a magic code starts with.
pub const PREFIX: &str = "wxmock-err-";

/// The errcode a magic code asks for; `None` for ordinary codes and for a prefix followed by
/// something that is not a number (those are just invalid codes: 40029).
pub fn errcode_of(js_code: &str) -> Option<i64> {
    js_code.strip_prefix(PREFIX)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_codes_carry_a_number() {
        assert_eq!(errcode_of("wxmock-err-40226"), Some(40226));
        assert_eq!(errcode_of("wxmock-err--1"), Some(-1));
        assert_eq!(errcode_of("wxmock-err-busy"), None);
        assert_eq!(errcode_of("051v0m000ObAyK19vV1005SDWf0v0m0s"), None);
    }
}
