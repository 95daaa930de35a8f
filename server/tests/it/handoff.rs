//! Deliveries born claimed: a publish writes the deliveries this node's engine can send at
//! once already claimed by it, and hands them over after the commit. Only freely claimed
//! endpoints qualify, the node's slots and each endpoint's share still hold, and a delivery
//! lost between the commit and the send (a node dying right then) is sent after its lease.

use crate::helpers::*;
use crate::isolation::{World, delivery_in, endpoint, publish, world};
use crate::receiver::{Receiver, Reply};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;

crate::on_both_backends!(
    only_freely_claimed_endpoints_are_handed_over,
    a_delivery_lost_after_the_commit_is_sent_after_its_lease,
    hand_overs_keep_to_the_slots_and_the_share,
    a_backlog_behind_handed_over_deliveries_is_claimed_as_they_finish,
);

fn handed(w: &World) -> u64 {
    w.app.state.shared.metrics.deliveries_handed_over.get()
}

async fn engine_running(w: &World) {
    for _ in 0..200 {
        if w.app.engine.running() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the engine did not start");
}

async fn only_freely_claimed_endpoints_are_handed_over(backend: Backend) {
    let w = world(backend, |_| {}).await;
    engine_running(&w).await;
    let receiver = Receiver::start().await;
    // One open endpoint on a.event; on b.event a rate-limited, a batching and a FIFO one.
    endpoint(&w, "a.event", &receiver.url, json!({})).await;
    for extra in [
        json!({"rate_limit_per_minute": 600}),
        json!({"batch": {"max_events": 10, "max_wait": "50ms"}}),
        json!({"ordered": true}),
    ] {
        endpoint(&w, "b.event", &receiver.url, extra).await;
    }
    let open = publish(&w, "a.event", 1).await;
    let d = delivery_in(&w, &open[0], "succeeded", Duration::from_secs(5)).await;
    assert_eq!(
        handed(&w),
        1,
        "the open endpoint's delivery was handed over: {d}"
    );
    publish(&w, "b.event", 1).await;
    receiver.wait_for(4, Duration::from_secs(5)).await;
    assert_eq!(handed(&w), 1, "the others were claimed by the engine");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut states: Vec<String>;
    loop {
        states = crate::sql::column(&w.app.state.db, "SELECT status FROM deliveries", &[]).await;
        if states.iter().all(|s| s == "succeeded") || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(states, vec!["succeeded"; 4]);
    assert_eq!(leases_held_after(&w.app, Duration::from_secs(2)).await, 0);
    w.app.stop().await;
}

async fn a_delivery_lost_after_the_commit_is_sent_after_its_lease(backend: Backend) {
    let w = world(backend, |a| a.delivery_lease = Duration::from_secs(1)).await;
    engine_running(&w).await;
    let receiver = Receiver::start().await;
    endpoint(&w, "a.event", &receiver.url, json!({})).await;
    let faults = w.app.state.shared.faults.clone();
    faults.lose_handoffs.store(1, Ordering::SeqCst);
    let event = publish(&w, "a.event", 1).await;
    // Committed claimed by this node, under the lease the publish wrote.
    let (status, owner): (String, String) = crate::sql::rows(
        &w.app.state.db,
        "SELECT status, lease_owner FROM deliveries",
        &[],
    )
    .await
    .remove(0);
    assert_eq!(faults.lose_handoffs.load(Ordering::SeqCst), 0);
    assert_eq!(status, "in_flight");
    assert_eq!(owner, w.app.engine.node());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        receiver.hits().is_empty(),
        "nothing sent it while the lease held"
    );
    // The lease lapses, the heartbeat returns the delivery, and a claim round sends it.
    let d = delivery_in(&w, &event[0], "succeeded", Duration::from_secs(10)).await;
    assert_eq!(receiver.hits().len(), 1, "{d}");
    assert_eq!(d["attempts"], 1, "{d}");
    assert_eq!(handed(&w), 0);
    assert_eq!(leases_held_after(&w.app, Duration::from_secs(2)).await, 0);
    w.app.stop().await;
}

async fn hand_overs_keep_to_the_slots_and_the_share(backend: Backend) {
    // Two slots on the node, two for any one endpoint.
    let w = world(backend, |a| {
        a.max_in_flight = 2;
        a.max_in_flight_per_endpoint = Some(2);
    })
    .await;
    engine_running(&w).await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::status(200).delayed(Duration::from_secs(1)));
    endpoint(&w, "a.event", &receiver.url, json!({})).await;
    endpoint(&w, "b.event", &receiver.url, json!({})).await;
    // Three for A in one transaction: its share takes two; then B finds no slot free.
    let a = publish(&w, "a.event", 3).await;
    let b = publish(&w, "b.event", 3).await;
    receiver.wait_for(6, Duration::from_secs(10)).await;
    assert_eq!(handed(&w), 2);
    assert!(
        receiver.max_in_flight() <= 2,
        "{} requests at once with two slots",
        receiver.max_in_flight()
    );
    for e in a.iter().chain(&b) {
        delivery_in(&w, e, "succeeded", Duration::from_secs(5)).await;
    }
    assert_eq!(receiver.hits().len(), 6, "each sent once");
    w.app.stop().await;
}

async fn a_backlog_behind_handed_over_deliveries_is_claimed_as_they_finish(backend: Backend) {
    // An endpoint's share of 2 bounds it, not the node's slots; the claim loop's idle poll
    // is 30 s, so only a wake-up from the finishing hand-overs can get the backlog out soon.
    let w = world(backend, |a| {
        a.max_in_flight = 8;
        a.max_in_flight_per_endpoint = Some(2);
        a.engine_idle_poll = Duration::from_secs(30);
    })
    .await;
    engine_running(&w).await;
    let receiver = Receiver::start().await;
    receiver.set_default(Reply::status(200).delayed(Duration::from_millis(200)));
    endpoint(&w, "a.event", &receiver.url, json!({})).await;
    let events = publish(&w, "a.event", 10).await;
    receiver.wait_for(10, Duration::from_secs(10)).await;
    assert_eq!(handed(&w), 2, "two handed over, eight claimed behind them");
    for e in &events {
        delivery_in(&w, e, "succeeded", Duration::from_secs(5)).await;
    }
    assert!(receiver.max_in_flight() <= 2);
    w.app.stop().await;
}
