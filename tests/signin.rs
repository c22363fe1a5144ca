//! Sign-in in the browser (authorization code with PKCE on a loopback redirect) end to end
//! against the emulator, the test playing the browser; the device flow refused by policy; and
//! the identity side as a real library meets it (Microsoft's MSAL for Python, where CI installs
//! it).

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use common::{Env, EnvOptions, bin};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A child process killed when dropped unless it was waited for.
struct Reaped(Option<Child>);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `deltacal login --browser`; returns it and the sign-in URL it printed. `BROWSER` is
/// `true`, a program that opens nothing: the test is the browser.
fn spawn_browser_login(env: &Env) -> (Reaped, String, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(bin())
        .args(["login", "--browser"])
        .env("DELTACAL_CONFIG", env.config_path())
        .env("DELTACAL_DATA_DIR", env.data_dir())
        .env("BROWSER", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "login --browser printed no URL"
        );
        if line.trim().starts_with("http") {
            break line.trim().to_owned();
        }
        assert!(line.contains("open this page"), "{line}");
    };
    (Reaped(Some(child)), url, out)
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn finish(
    mut child: Reaped,
    mut out: BufReader<std::process::ChildStdout>,
) -> (i32, String, String) {
    let mut child_proc = child.0.take().unwrap();
    let status = child_proc.wait().unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let mut err = String::new();
    child_proc
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code().unwrap_or(-1), rest, err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sign_in_with_pkce_ignores_a_wrong_state_and_stores_tokens() {
    let env = Env::start(EnvOptions::default()).await;
    env.control(
        Method::POST,
        "/sim/settings",
        Some(json!({"auto_approve": true})),
    )
    .await;
    let (child, url, out) = spawn_browser_login(&env);
    let authorize = reqwest::Url::parse(&url).unwrap();
    let query: std::collections::HashMap<String, String> =
        authorize.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(query["redirect_uri"].starts_with("http://localhost:"));
    assert!(!query["state"].is_empty());

    // The browser: the identity platform redirects back to deltacal's loopback listener.
    let http = no_redirects();
    let answer = http.get(&url).send().await.unwrap();
    assert!(answer.status().is_redirection(), "{}", answer.status());
    let back = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(&query["redirect_uri"]), "{back}");

    // A redirect with another state is answered and ignored.
    let mut forged = reqwest::Url::parse(&back).unwrap();
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let refused = http.get(forged).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    let page = http.get(&back).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("close this tab"));
    let (code, stdout, stderr) = finish(child, out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Signed in as Samantha Booth"), "{stdout}");
    let tokens = deltacal::auth::tokens::load(&env.config.token_path())
        .unwrap()
        .unwrap();
    assert!(tokens.refresh_token.is_some());
    // The tokens work: a sync goes through.
    let engine = env.engine();
    engine.sync_view(&env.config.calendars[0]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_consent_fails_with_one_line() {
    let env = Env::start(EnvOptions::default()).await;
    let (child, url, out) = spawn_browser_login(&env);
    let http = no_redirects();
    // No auto-approve: the consent page, then the user's "Cancel".
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("decision"));
    let authorize = reqwest::Url::parse(&url).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "decline".into()));
    let mut post_to = authorize.clone();
    post_to.set_query(None);
    let answer = http.post(post_to).form(&form).send().await.unwrap();
    assert!(answer.status().is_redirection());
    let back = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("error=access_denied"), "{back}");
    http.get(&back).send().await.unwrap();
    let (code, _, stderr) = finish(child, out);
    assert_eq!(code, 1);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("declined"), "{stderr}");
    assert!(!env.config.token_path().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_flow_refused_by_policy_names_the_browser() {
    let env = Env::start(EnvOptions::default()).await;
    env.control(
        Method::POST,
        "/sim/settings",
        Some(json!({"auto_approve": true, "block_device_flow": true})),
    )
    .await;
    let out = Command::new(bin())
        .arg("login")
        .env("DELTACAL_CONFIG", env.config_path())
        .env("DELTACAL_DATA_DIR", env.data_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("does not allow signing in with a device code")
            && err.contains("deltacal login --browser"),
        "{err}"
    );
}

/// Where `.ci/run` puts Python's MSAL: a virtual environment in the target dir.
fn msal_python() -> Option<std::path::PathBuf> {
    let python =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/msal-venv/bin/python");
    python.exists().then_some(python)
}

/// Ignored under plain `cargo test`, so its summary says it did not run; `.ci/run` installs
/// MSAL and runs it with `--ignored`, and there it must find MSAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MSAL for Python in target/msal-venv: `bash .ci/run` installs it and runs this"]
async fn microsofts_msal_for_python_signs_in_and_refreshes_against_the_emulator() {
    let python =
        msal_python().expect("MSAL for Python in target/msal-venv (`bash .ci/run` installs it)");
    let sim = deltacal::sim::SimServer::start(
        "127.0.0.1:0",
        deltacal::sim::SimOptions {
            tls: true,
            identity: deltacal::sim::identity::IdentitySettings {
                auto_approve: true,
                interval_secs: 1,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/msal/check.py");
    let url = sim.url();
    let cert = sim.cert_path.clone().unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(url)
            .arg(cert)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap();
    assert_eq!(report["device_flow"], true, "{report}");
    assert_eq!(report["accounts"], 1, "{report}");
    assert_eq!(report["silent_after_expiry"], true, "{report}");
    assert_eq!(report["username"], "samanthab@contoso.com", "{report}");
}
