//! Teacher accounts: first setup, login, rate limits, invitations, restart.

use reqwest::StatusCode;
use tavla_e2e::serde_json::json;
use tavla_e2e::{TestServer, PASSWORD};

#[tokio::test]
async fn first_teacher_sets_up_with_the_printed_link_once() {
    let server = TestServer::start().await;
    let nobody = server.client();
    let (_, me) = nobody.get("/api/me").await;
    assert_eq!(me, json!({ "role": "nobody", "needs_setup": true }));

    let link = server
        .running
        .setup_url
        .clone()
        .expect("setup link printed");
    let token = link.split("token=").nth(1).unwrap().to_string();
    let (status, info) = nobody.get(&format!("/api/setup?token={token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["kind"], "first_teacher");

    let response = nobody
        .http
        .post(server.url("/api/setup"))
        .json(&json!({ "token": token, "name": "Kari Nordmann", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(
            cookie.contains(flag),
            "session cookie lacks {flag}: {cookie}"
        );
    }
    let (_, me) = nobody.get("/api/me").await;
    assert_eq!(me["role"], "teacher");
    assert_eq!(me["teacher"]["name"], "Kari Nordmann");

    let other = server.client();
    let (status, body) = other
        .post(
            "/api/setup",
            json!({ "token": token, "name": "Per", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_token");
    let (_, me) = other.get("/api/me").await;
    assert_eq!(me["needs_setup"], false);
}

#[tokio::test]
async fn login_logout_and_wrong_password() {
    let server = TestServer::start().await;
    let teacher = server.first_teacher("Kari").await;
    let (status, _) = teacher.post("/api/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(teacher.get("/api/me").await.1["role"], "nobody");

    let (status, body) = teacher
        .post(
            "/api/login",
            json!({ "name": "Kari", "password": "feil passord" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "wrong_credentials");
    let (status, body) = teacher
        .post(
            "/api/login",
            json!({ "name": "Ingen", "password": PASSWORD }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "unknown names look like wrong passwords"
    );
    assert_eq!(body["error"]["code"], "wrong_credentials");

    let (status, _) = teacher
        .post(
            "/api/login",
            json!({ "name": "kari", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "names are case-insensitive");
    assert_eq!(teacher.get("/api/me").await.1["role"], "teacher");
}

/// 1,000 wrong passwords for Kari from one address: that address is slowed (429 with
/// Retry-After) and Kari, at another address, logs in at once; failing on purpose with her name
/// does not lock her out.
#[tokio::test]
async fn a_password_guesser_is_slowed_and_cannot_lock_the_teacher_out() {
    let server = TestServer::start_with(|c| c.limits.login_per_minute = 3).await;
    server.first_teacher("Kari").await;
    let attacker = server.client_from(Some("127.0.0.4".parse().unwrap()));
    let mut refused = 0;
    for attempt in 0..1000 {
        let response = attacker
            .http
            .post(server.url("/api/login"))
            .json(&json!({ "name": "Kari", "password": format!("gjett {attempt}") }))
            .send()
            .await
            .unwrap();
        match response.status() {
            StatusCode::UNAUTHORIZED => assert!(attempt < 3, "attempt {attempt} was tried"),
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(response.headers().contains_key("retry-after"));
                refused += 1;
            }
            other => panic!("attempt {attempt}: {other}"),
        }
    }
    assert_eq!(refused, 997);
    let (status, body) = attacker
        .post(
            "/api/login",
            json!({ "name": "Kari", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");

    // Kari, at her own machine, gets in at once.
    let kari = server.client_from(Some("127.0.0.2".parse().unwrap()));
    let (status, _) = kari
        .post(
            "/api/login",
            json!({ "name": "kari", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // The attacker's address is slowed for other names too, once it has spent its share.
    let mut other_names = Vec::new();
    for name in [
        "Per", "Ola", "Siv", "Åse", "Bo", "Cy", "Di", "Ed", "Fi", "Gu", "Hå",
    ] {
        for _ in 0..3 {
            let (status, _) = attacker
                .post("/api/login", json!({ "name": name, "password": "x" }))
                .await;
            other_names.push(status);
        }
    }
    assert!(other_names.contains(&StatusCode::TOO_MANY_REQUESTS));
}

/// Hardening round two, finding 6: guesses from many addresses together reached the name's
/// ceiling and locked Kari's right password out everywhere. From a device she signed in on
/// before she still gets in; a new device waits, as a guesser does.
#[tokio::test]
async fn many_guessing_addresses_cannot_lock_the_teacher_out_of_her_own_device() {
    // A low ceiling for the name, so that a slow machine's refills cannot undo the guessing.
    let server = TestServer::start_with(|c| {
        c.limits.login_per_minute = 10;
        c.limits.login_per_minute_per_name = 2;
    })
    .await;
    server.first_teacher("Kari").await;
    let kari = server.client_from(Some("127.0.0.2".parse().unwrap()));
    let (status, _) = kari
        .post(
            "/api/login",
            json!({ "name": "Kari", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = kari.post("/api/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK);

    // Ten wrong tries from each of 13 addresses.
    for n in 10..23u8 {
        let guesser = server.client_from(Some(std::net::IpAddr::from([127, 0, 0, n])));
        for attempt in 0..10 {
            let (status, _) = guesser
                .post(
                    "/api/login",
                    json!({ "name": "Kari", "password": format!("gjett {attempt}") }),
                )
                .await;
            assert!(
                status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS,
                "{status}"
            );
        }
    }
    // A device Kari never used is slowed now (the name's ceiling is spent)...
    let new_device = server.client_from(Some("127.0.0.3".parse().unwrap()));
    let (status, _) = new_device
        .post(
            "/api/login",
            json!({ "name": "Kari", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // ...but her own gets her in.
    let (status, body) = kari
        .post(
            "/api/login",
            json!({ "name": "Kari", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The device cookie is for signing in only, and no script can read it.
    let set = kari
        .http
        .post(server.url("/api/login"))
        .json(&json!({ "name": "Kari", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let device_cookie = set
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tavla_device="))
        .expect("a device cookie")
        .to_string();
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/login"] {
        assert!(device_cookie.contains(part), "{device_cookie}");
    }
}

#[tokio::test]
async fn invited_colleague_gets_an_account_and_language_is_remembered() {
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let per = server.invited_teacher(&kari, "Per").await;
    let (_, list) = per.get("/api/teachers").await;
    assert_eq!(list["teachers"].as_array().unwrap().len(), 2);

    let (status, _) = per
        .send(
            reqwest::Method::PUT,
            "/api/me/lang",
            Some(json!({ "lang": "nn" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(per.get("/api/me").await.1["teacher"]["lang"], "nn");
    let (status, body) = per
        .send(
            reqwest::Method::PUT,
            "/api/me/lang",
            Some(json!({ "lang": "xx" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "lang");
}

#[tokio::test]
async fn restart_keeps_teachers_classes_and_sessions() {
    let server = TestServer::start().await;
    let teacher = server.first_teacher("Kari").await;
    let class = tavla_e2e::class_with(&teacher, "7B", &["Ada", "Bo"]).await;
    let dir = server.stop().await;

    let server = tavla_e2e::TestServer::start_in(dir, |_| {}).await;
    assert!(
        server.running.setup_url.is_none(),
        "no setup link once a teacher exists"
    );
    let again = server.client();
    let (status, _) = again
        .post(
            "/api/login",
            json!({ "name": "Kari", "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, classes) = again.get("/api/classes").await;
    assert_eq!(classes["classes"][0]["name"], "7B");
    let (_, detail) = again
        .get(&format!("/api/classes/{}", class["id"].as_str().unwrap()))
        .await;
    assert_eq!(detail["pupils"].as_array().unwrap().len(), 2);
}
