//! The journal is bounded in bytes as well as entries: bodies kept up to a size with a
//! truncation marker, a total budget with the oldest dropped, pages with `limit`/`since`, and
//! its memory given back when cleared.

mod control_plane_support;

use control_plane_support::fake_with;
use serde_json::Value;
use wxmock_server::journal::{DEFAULT_BODY_LIMIT, TRUNCATED_MARKER};
use wxmock_server::Config;

#[tokio::test]
async fn a_long_body_is_kept_truncated_with_a_marker_and_its_size() {
    let fake = fake_with(Config::default());
    let body = format!("{{\"grant_type\":\"{}\"}}", "a".repeat(100_000));
    fake.post_raw("/cgi-bin/stable_token", &body).await;
    let entry = &fake.journal("").await[0];
    let kept = entry["body"].as_str().unwrap();
    assert_eq!(entry["body_size"], body.len());
    assert!(
        kept.starts_with(&body[..DEFAULT_BODY_LIMIT]),
        "kept the start"
    );
    assert!(
        kept.ends_with(&format!("{TRUNCATED_MARKER}{} bytes in all]", body.len())),
        "{}",
        &kept[kept.len() - 60..]
    );
    assert!(kept.len() < DEFAULT_BODY_LIMIT + 64);
    // A short body is kept whole, unmarked.
    fake.post_raw("/cgi-bin/stable_token", "{}").await;
    let short = &fake.journal("?since=1").await[0];
    assert_eq!(short["body"], "{}");
    assert_eq!(short["body_size"], 2);
}

#[tokio::test]
async fn the_byte_budget_drops_the_oldest_entries() {
    let fake = fake_with(Config {
        journal_body_limit: Some(64 * 1024),
        journal_max_bytes: Some(256 * 1024),
        ..Config::default()
    });
    let body = "x".repeat(60 * 1024);
    for _ in 0..20 {
        fake.post_raw("/cgi-bin/stable_token", &body).await;
    }
    let journal = &fake.state.journal;
    assert!(
        journal.bytes() <= 256 * 1024,
        "{} bytes kept",
        journal.bytes()
    );
    let ids: Vec<u64> = fake
        .journal("")
        .await
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert!(ids.len() >= 3 && ids.len() < 5, "{ids:?}");
    assert_eq!(ids.last(), Some(&20), "the newest entry stays");
    assert_eq!(journal.last_id(), 20);
}

#[tokio::test]
async fn the_journal_is_read_a_page_at_a_time() {
    let fake = fake_with(Config::default());
    for i in 0..5 {
        fake.exchange(&format!("c{i}")).await;
    }
    let mut since = 0;
    let mut pages = Vec::new();
    loop {
        let answer = fake
            .get(&format!("/__admin/journal?limit=2&since={since}"))
            .await
            .json();
        let ids: Vec<u64> = answer["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_u64().unwrap())
            .collect();
        assert_eq!(answer["last_id"], 5);
        pages.push(ids);
        if answer["more"] == Value::Bool(false) {
            assert!(answer["next_since"].is_null());
            break;
        }
        since = answer["next_since"].as_u64().unwrap();
    }
    assert_eq!(pages, vec![vec![1, 2], vec![3, 4], vec![5]]);
    let zero = fake.get("/__admin/journal?limit=0").await;
    assert_eq!(zero.status, 400, "{}", zero.text());
}

#[tokio::test]
async fn clearing_the_journal_gives_its_bytes_back() {
    let fake = fake_with(Config::default());
    for _ in 0..50 {
        fake.post_raw("/cgi-bin/stable_token", &"y".repeat(20_000))
            .await;
    }
    assert!(fake.state.journal.bytes() > 50 * DEFAULT_BODY_LIMIT);
    let removed = fake.delete("/__admin/journal").await.json();
    assert_eq!(removed["removed"], 50);
    assert_eq!(fake.state.journal.bytes(), 0);
    assert!(fake.journal("").await.is_empty());
}

#[test]
fn a_body_limit_too_large_for_the_budget_is_rejected() {
    let config = Config {
        journal_body_limit: Some(1 << 20),
        journal_max_bytes: Some(1 << 20),
        ..Config::default()
    };
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("journal_body_limit"), "{err}");
}
