//! The credential a login hands out: one or several named parts (a JWT; a session id and key;
//! a cookie and a header), each read from the login answer where the profile says, and placed
//! in requests by the templates `{{token}}` (the main part) and `{{token.NAME}}`.

/// A credential: named parts in the profile's order, one of them the main token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    parts: Vec<(String, String)>,
    main: String,
}

impl Credential {
    /// A one-part credential (the part `token`).
    pub fn single(token: &str) -> Self {
        Self {
            parts: vec![("token".into(), token.into())],
            main: "token".into(),
        }
    }

    /// A credential from its parts; `main` names the main one.
    pub fn from_parts(parts: Vec<(String, String)>, main: &str) -> Self {
        Self {
            parts,
            main: main.into(),
        }
    }

    /// The main token (`{{token}}`): what JWT checks decode.
    pub fn main(&self) -> &str {
        self.get(&self.main).unwrap_or_default()
    }

    /// The name of the main part.
    pub fn main_name(&self) -> &str {
        &self.main
    }

    /// The value of part `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every part, in the profile's order.
    pub fn parts(&self) -> &[(String, String)] {
        &self.parts
    }

    /// The same credential with part `name` set to `value` (added when absent).
    pub fn with_part(&self, name: &str, value: &str) -> Self {
        let mut c = self.clone();
        match c.parts.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value.into(),
            None => c.parts.push((name.into(), value.into())),
        }
        c
    }

    /// The same credential with the main token replaced (a forged or minted JWT).
    pub fn with_main(&self, value: &str) -> Self {
        let main = self.main.clone();
        self.with_part(&main, value)
    }

    /// The same credential without part `name` (requests then leave out every entry naming it).
    pub fn without(&self, name: &str) -> Self {
        let mut c = self.clone();
        c.parts.retain(|(n, _)| n != name);
        c
    }

    /// The value of a `token` / `token.NAME` placeholder.
    pub(crate) fn lookup(&self, placeholder: &str) -> Option<String> {
        match placeholder.strip_prefix("token.") {
            Some(name) => self.get(name).map(str::to_owned),
            None if placeholder == "token" => self.get(&self.main).map(str::to_owned),
            None => None,
        }
    }
}
