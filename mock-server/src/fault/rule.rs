//! A fault rule: which requests it matches, what it does, and how often (every time, the next N
//! times, with a seeded probability, or a sequence of steps such as "-1, -1, then normal").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::action::{Action, ActionFields};
use super::facts::RequestFacts;

/// The JSON body of `POST /__admin/faults`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// Exact path of the WeChat endpoint, e.g. `/sns/jscode2session`.
    pub path: String,
    /// Only requests concerning this app (a rule without one applies to every app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// Only requests concerning this user (jscode2session: the owner of the code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<String>,
    /// Only requests carrying this js_code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub js_code: Option<String>,
    /// The action (absent when `sequence` is given).
    #[serde(flatten)]
    pub action: ActionFields,
    /// Apply to the next N matching calls only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Apply to each matching call with this probability (0..=1), drawn from a seeded generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Seed of the probability draws (default 0): same seed, same calls hit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// One step per matching call: an action object or `"normal"`; the rule ends after the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<Vec<Value>>,
}

/// Keys `POST /__admin/faults` accepts (serde cannot deny unknown keys next to a flattened
/// struct, so [`FaultSpec::from_json`] checks them).
const KNOWN_KEYS: &[&str] = &[
    "path",
    "appid",
    "openid",
    "js_code",
    "times",
    "probability",
    "seed",
    "sequence",
    "errcode",
    "errmsg",
    "fault",
    "delay_ms",
    "status",
    "body",
    "content_type",
];

impl FaultSpec {
    /// A rule for `path` doing `action` on every matching call.
    pub fn new(path: impl Into<String>, action: &Action) -> Self {
        Self {
            path: path.into(),
            action: action.to_fields(),
            ..Self::default()
        }
    }

    /// Parses a JSON request body, naming the first problem found.
    pub fn from_json(value: Value) -> Result<Self, String> {
        let Value::Object(map) = &value else {
            return Err("expected a JSON object".to_owned());
        };
        if let Some(key) = map.keys().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
            return Err(format!(
                "unknown field \"{key}\" (expected one of: {})",
                KNOWN_KEYS.join(", ")
            ));
        }
        if !map.contains_key("path") {
            return Err("missing field \"path\" (e.g. \"/sns/jscode2session\")".to_owned());
        }
        serde_json::from_value(value).map_err(|e| format!("invalid fault rule: {e}"))
    }
}

/// Which requests a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// Exact path of the WeChat endpoint, e.g. `/sns/jscode2session`.
    pub path: String,
    /// Only requests for this app; any app when absent.
    pub appid: Option<String>,
    /// Only requests concerning this user; any user when absent.
    pub openid: Option<String>,
    /// Only requests carrying this login code; any code when absent.
    pub js_code: Option<String>,
}

impl Scope {
    fn matches(&self, facts: &RequestFacts) -> bool {
        fn same(want: &Option<String>, got: &Option<String>) -> bool {
            want.is_none() || want == got
        }
        same(&self.appid, &facts.appid)
            && same(&self.openid, &facts.openid)
            && same(&self.js_code, &facts.js_code)
    }
}

/// How often a rule fires.
#[derive(Clone, Debug, PartialEq)]
enum Plan {
    /// The same action on every matching call, optionally only N times and/or by chance.
    Every {
        action: Action,
        remaining: Option<u32>,
        chance: Option<Chance>,
    },
    /// One step per matching call; `None` is a normal answer.
    Sequence {
        steps: Vec<Option<Action>>,
        next: usize,
    },
}

/// A seeded coin: SplitMix64, written out so the draws stay the same across crate versions.
#[derive(Clone, Debug, PartialEq)]
struct Chance {
    probability: f64,
    state: u64,
}

impl Chance {
    fn hits(&mut self) -> bool {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits as a uniform float in [0, 1).
        let draw = (z >> 11) as f64 / (1u64 << 53) as f64;
        draw < self.probability
    }
}

/// What a rule decided for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answer with this action.
    Act(Action),
    /// A sequence's `"normal"` step: the normal answer.
    Normal,
}

/// A validated rule with its id and counters.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// The rule's id, as `DELETE /__admin/faults/{id}` takes it.
    pub id: String,
    /// Which requests the rule applies to.
    pub scope: Scope,
    spec: FaultSpec,
    plan: Plan,
    hits: u64,
}

impl FaultRule {
    /// Validates `spec`; the error says what is wrong.
    pub fn new(id: String, spec: FaultSpec) -> Result<Self, String> {
        if !spec.path.starts_with('/') {
            return Err(format!("\"path\" must start with '/', got {:?}", spec.path));
        }
        if spec.path.starts_with("/__admin") {
            return Err("faults apply to WeChat endpoints, not to the control API".to_owned());
        }
        for (name, value) in [
            ("appid", &spec.appid),
            ("openid", &spec.openid),
            ("js_code", &spec.js_code),
        ] {
            if value.as_deref() == Some("") {
                return Err(format!(
                    "\"{name}\" must not be empty (leave it out to match any)"
                ));
            }
        }
        let plan = match &spec.sequence {
            Some(steps) => {
                if !spec.action.is_empty() {
                    return Err("give either action fields or \"sequence\", not both".to_owned());
                }
                if spec.times.is_some() || spec.probability.is_some() || spec.seed.is_some() {
                    return Err(
                        "\"sequence\" cannot be combined with \"times\", \"probability\" or \"seed\""
                            .to_owned(),
                    );
                }
                if steps.is_empty() {
                    return Err("\"sequence\" must have at least one step".to_owned());
                }
                let steps = steps
                    .iter()
                    .enumerate()
                    .map(|(i, step)| parse_step(step).map_err(|e| format!("sequence[{i}]: {e}")))
                    .collect::<Result<Vec<_>, _>>()?;
                Plan::Sequence { steps, next: 0 }
            }
            None => {
                let action = Action::from_fields(&spec.action)?;
                if spec.times == Some(0) {
                    return Err("\"times\" must be at least 1".to_owned());
                }
                let chance = match (spec.probability, spec.seed) {
                    (None, Some(_)) => {
                        return Err("\"seed\" only applies with \"probability\"".to_owned())
                    }
                    (None, None) => None,
                    (Some(p), seed) => {
                        if !(0.0..=1.0).contains(&p) {
                            return Err(format!(
                                "\"probability\" must be between 0 and 1, got {p}"
                            ));
                        }
                        Some(Chance {
                            probability: p,
                            state: seed.unwrap_or(0),
                        })
                    }
                };
                Plan::Every {
                    action,
                    remaining: spec.times,
                    chance,
                }
            }
        };
        Ok(Self {
            id,
            scope: Scope {
                path: spec.path.clone(),
                appid: spec.appid.clone(),
                openid: spec.openid.clone(),
                js_code: spec.js_code.clone(),
            },
            spec,
            plan,
            hits: 0,
        })
    }

    /// The rule as `GET /__admin/faults` shows it: the spec plus `id`, `hits` and `remaining`.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), self.id.clone().into());
        if let Ok(Value::Object(spec)) = serde_json::to_value(&self.spec) {
            map.extend(spec);
        }
        map.insert("hits".into(), self.hits.into());
        match &self.plan {
            Plan::Every {
                remaining: Some(n), ..
            } => {
                map.insert("remaining".into(), (*n).into());
            }
            Plan::Sequence { steps, next } => {
                map.insert("remaining".into(), (steps.len() - next).into());
            }
            Plan::Every { .. } => {}
        }
        Value::Object(map)
    }

    /// Decides for a request this rule's scope matches; `None` when the rule lets it pass
    /// (a probability draw that missed). Counts the hit.
    pub fn decide(&mut self, facts: &RequestFacts) -> Option<Outcome> {
        if !self.scope.matches(facts) || self.is_exhausted() {
            return None;
        }
        let outcome = match &mut self.plan {
            Plan::Every {
                action,
                remaining,
                chance,
            } => {
                if let Some(chance) = chance {
                    if !chance.hits() {
                        return None;
                    }
                }
                if let Some(n) = remaining {
                    *n -= 1;
                }
                Outcome::Act(action.clone())
            }
            Plan::Sequence { steps, next } => {
                let step = steps[*next].clone();
                *next += 1;
                step.map_or(Outcome::Normal, Outcome::Act)
            }
        };
        self.hits += 1;
        Some(outcome)
    }

    /// True once a `times` count or a sequence is used up.
    pub fn is_exhausted(&self) -> bool {
        match &self.plan {
            Plan::Every { remaining, .. } => *remaining == Some(0),
            Plan::Sequence { steps, next } => *next >= steps.len(),
        }
    }
}

fn parse_step(step: &Value) -> Result<Option<Action>, String> {
    match step {
        Value::String(s) if s == "normal" => Ok(None),
        Value::Object(_) => {
            let fields: ActionFields =
                serde_json::from_value(step.clone()).map_err(|e| e.to_string())?;
            Action::from_fields(&fields).map(Some)
        }
        other => Err(format!(
            "a step is an action object or \"normal\", got {other}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: Value) -> Result<FaultRule, String> {
        FaultRule::new("f-1".into(), FaultSpec::from_json(json)?)
    }

    fn facts(appid: &str) -> RequestFacts {
        RequestFacts {
            appid: Some(appid.into()),
            ..RequestFacts::default()
        }
    }

    #[test]
    fn a_sequence_gives_its_steps_in_order_then_ends() {
        let mut r = rule(serde_json::json!({
            "path": "/sns/jscode2session",
            "sequence": [{"errcode": -1}, {"errcode": -1}, "normal"]
        }))
        .unwrap();
        let minus_one = Outcome::Act(Action::Errcode {
            errcode: -1,
            errmsg: None,
        });
        assert_eq!(r.decide(&facts("wx1")), Some(minus_one.clone()));
        assert_eq!(r.decide(&facts("wx1")), Some(minus_one));
        assert_eq!(r.decide(&facts("wx1")), Some(Outcome::Normal));
        assert!(r.is_exhausted());
        assert_eq!(r.decide(&facts("wx1")), None);
    }

    #[test]
    fn a_rule_naming_an_app_ignores_other_apps() {
        let mut r =
            rule(serde_json::json!({"path": "/p", "appid": "wx1", "errcode": -1, "times": 1}))
                .unwrap();
        assert_eq!(r.decide(&facts("wx2")), None);
        assert!(r.decide(&facts("wx1")).is_some());
        assert!(r.is_exhausted());
        assert_eq!(r.to_json()["remaining"], 0);
        assert_eq!(r.to_json()["hits"], 1);
    }

    #[test]
    fn the_same_seed_hits_the_same_calls() {
        let draws = |seed: u64| {
            let mut r = rule(serde_json::json!({
                "path": "/p", "errcode": -1, "probability": 0.3, "seed": seed
            }))
            .unwrap();
            (0..200)
                .map(|_| r.decide(&facts("wx1")).is_some())
                .collect::<Vec<_>>()
        };
        let first = draws(7);
        assert_eq!(first, draws(7));
        assert_ne!(first, draws(8));
        let hits = first.iter().filter(|h| **h).count();
        assert!((30..=90).contains(&hits), "{hits} hits of 200 at p=0.3");
    }

    #[test]
    fn invalid_rules_say_what_is_wrong() {
        let err = |json: Value| rule(json).unwrap_err();
        assert!(err(serde_json::json!({"errcode": -1})).contains("\"path\""));
        assert!(
            err(serde_json::json!({"path": "/p", "errcode": -1, "colour": 1})).contains("colour")
        );
        assert!(
            err(serde_json::json!({"path": "/p", "errcode": -1, "probability": 2.0}))
                .contains("between 0 and 1")
        );
        assert!(
            err(serde_json::json!({"path": "/p", "sequence": ["later"]})).contains("sequence[0]")
        );
        assert!(
            err(serde_json::json!({"path": "/p", "sequence": [], "times": 2}))
                .contains("cannot be combined")
        );
        assert!(
            err(serde_json::json!({"path": "/p", "errcode": -1, "times": 0}))
                .contains("at least 1")
        );
        assert!(
            err(serde_json::json!({"path": "/__admin/faults", "errcode": -1}))
                .contains("control API")
        );
        assert!(err(serde_json::json!({"path": "p", "errcode": -1})).contains("start with"));
    }

    proptest::proptest! {
        #[test]
        fn a_sequence_answers_its_steps_in_order_then_lets_everything_pass(
            steps in proptest::collection::vec(proptest::option::of(-1i64..50_000), 1..12)
        ) {
            let json_steps: Vec<Value> = steps
                .iter()
                .map(|s| match s {
                    Some(errcode) => serde_json::json!({"errcode": errcode}),
                    None => Value::from("normal"),
                })
                .collect();
            let mut r = rule(serde_json::json!({"path": "/p", "sequence": json_steps})).unwrap();
            for step in &steps {
                let expected = match step {
                    Some(errcode) => Outcome::Act(Action::Errcode { errcode: *errcode, errmsg: None }),
                    None => Outcome::Normal,
                };
                proptest::prop_assert_eq!(r.decide(&facts("wx1")), Some(expected));
            }
            proptest::prop_assert!(r.is_exhausted());
            proptest::prop_assert_eq!(r.decide(&facts("wx1")), None);
        }
    }
}
