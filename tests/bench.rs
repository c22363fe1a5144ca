//! `deltacal bench` runs end to end at a small size and reports every figure (no timing
//! assertions: tests must not time).

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

use std::process::Command;

use serde_json::Value;

#[test]
fn bench_runs_end_to_end_and_reports_every_figure() {
    let out = Command::new(env!("CARGO_BIN_EXE_deltacal"))
        .args([
            "bench",
            "--events",
            "300",
            "--large-events",
            "1000",
            "--json",
        ])
        .env_remove("DELTACAL_CONFIG")
        .env_remove("DELTACAL_DATA_DIR")
        .output()
        .expect("bench runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(figures["events"], 300);
    // The large figures say the size they were measured at.
    assert_eq!(figures["large_events"], 1000);
    for name in [
        "full_sync_s",
        "incremental_sync_ms",
        "incremental_series_ms",
        "resync_410_s",
        "agenda_ms",
        "first_frame_ms",
        "redraw_ms",
        "peak_rss_sync_mb",
        "peak_rss_tui_mb",
        "emulator_full_round_s",
        "wan_full_sync_s",
        "wan_incremental_ms",
        "agenda_365d_ms",
        "next_ms",
        "full_sync_100k_s",
        "month_switch_ms_100k",
        "peak_rss_tui_mb_100k",
        "sim_peak_rss_mb_100k",
        "multi_process_requests_ratio",
    ] {
        let v = figures[name]
            .as_f64()
            .unwrap_or_else(|| panic!("{name} missing: {figures}"));
        assert!(v.is_finite() && v > 0.0, "{name} = {v}");
    }

    // Three processes on one data dir make about the requests of one: the round lock holds.
    let ratio = figures["multi_process_requests_ratio"].as_f64().unwrap();
    assert!(ratio <= 1.2, "multi_process_requests_ratio = {ratio}");

    let table = Command::new(env!("CARGO_BIN_EXE_deltacal"))
        .args(["bench", "--events", "120"])
        .output()
        .unwrap();
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("full_sync_s") && text.contains("<= 0.5"),
        "{text}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_deltacal"))
        .args(["bench", "--events", "0"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
