//! The VPN for pupils at home: the teacher gives a pupil WireGuard access (a config that
//! reaches the box and nothing else, shown once), the box's interface file follows every
//! change, taking access away ends the pupil's sign-ins, and deleting the pupil deletes their
//! peer too. (No tunnel is brought up here: that needs WireGuard in the kernel.)

use std::os::unix::fs::PermissionsExt;

use reqwest::StatusCode;
use tavla_e2e::serde_json::json;
use tavla_e2e::*;

fn private_key_of(config: &str) -> String {
    config
        .lines()
        .find_map(|l| l.strip_prefix("PrivateKey = "))
        .expect("a private key in the config")
        .to_string()
}

#[tokio::test]
async fn a_pupil_gets_a_split_tunnel_to_the_box_and_loses_it_at_once() {
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &["Ola", "Sara"]).await;
    let c = class["id"].as_str().unwrap().to_string();
    let ola = pupil_id(&class, "Ola");
    let lesson = start_lesson(&kari, &c).await;
    let path = format!("/api/classes/{c}/pupils/{ola}/vpn");

    let (status, issued) = kari.post(&path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let config = issued["config"].as_str().unwrap();
    assert!(config.contains("Address = 10.8.0.2/32"), "{config}");
    assert!(
        config.contains("AllowedIPs = 10.8.0.1/32"),
        "only the box: {config}"
    );
    // Without a configured endpoint: the box's own address or name, never the Host header the
    // teacher's browser sent (here `localhost`).
    let endpoint = config
        .lines()
        .find_map(|l| l.strip_prefix("Endpoint = "))
        .expect("an endpoint");
    let (host, port) = endpoint.rsplit_once(':').expect("host:port");
    assert_eq!(port, "51820");
    let tls = server.tls_info().await;
    assert!(
        host != "localhost" && (host == "tavla-test" || tls.to_string().contains(host)),
        "{endpoint} is one of the box's own addresses: {tls}"
    );
    assert!(issued["qr_svg"].as_str().unwrap().contains("<svg"));
    let ola_public = tavla::vpn::keys::public_of(&private_key_of(config)).unwrap();

    let file = server.dir.path().join("data/vpn/wg-tavla.conf");
    let interface = std::fs::read_to_string(&file).unwrap();
    assert!(interface.contains("Address = 10.8.0.1/24"), "{interface}");
    assert!(
        interface.contains(&format!(
            "PublicKey = {ola_public}\nAllowedIPs = 10.8.0.2/32"
        )),
        "{interface}"
    );
    assert!(
        !interface.contains(&private_key_of(config)),
        "the pupil's key is not kept"
    );
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (_, list) = kari.get(&format!("/api/classes/{c}/vpn")).await;
    assert_eq!(list["pupils"][0]["address"], "10.8.0.2", "{list}");

    // Nobody else gives or takes it.
    let per = server.invited_teacher(&kari, "Per").await;
    assert_eq!(per.post(&path, json!({})).await.0, StatusCode::NOT_FOUND);
    let guest = guest(&server, lesson["code"].as_str().unwrap(), "Gjest").await;
    assert_eq!(guest.delete(&path).await.0, StatusCode::FORBIDDEN);
    let (status, _) = kari
        .post(
            &format!("/api/classes/{c}/pupils/000000000000000000/vpn"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Taking it away: the peer leaves the interface and Ola's connections end.
    let secret = card_secrets(&kari, &c)
        .await
        .into_iter()
        .find(|(n, _)| n == "Ola")
        .unwrap()
        .1;
    let ola_user = card_login(&server, &secret).await;
    let mut ola_live = Live::open(&ola_user, "").await;
    let (status, body) = kari.delete(&path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ola_live.closed_with().await, Some(4004));
    assert!(!std::fs::read_to_string(&file)
        .unwrap()
        .contains(&ola_public));
    assert_eq!(
        kari.delete(&path).await.0,
        StatusCode::NOT_FOUND,
        "taken once"
    );

    // Deleting a pupil deletes their peer: exported first, then gone from store and file.
    let sara = pupil_id(&class, "Sara");
    let (_, issued) = kari
        .post(&format!("/api/classes/{c}/pupils/{sara}/vpn"), json!({}))
        .await;
    let sara_public =
        tavla::vpn::keys::public_of(&private_key_of(issued["config"].as_str().unwrap())).unwrap();
    let (_, _, zip) = kari
        .download(&format!("/api/classes/{c}/pupils/{sara}/export"))
        .await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut data = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("data.json").unwrap(), &mut data).unwrap();
    assert!(
        data.contains("\"vpn\"") && data.contains("10.8.0.2"),
        "{data}"
    );
    let (status, _) = kari
        .delete(&format!("/api/classes/{c}/pupils/{sara}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!std::fs::read_to_string(&file)
        .unwrap()
        .contains(&sara_public));
    assert!(store_files_holding(server.dir.path(), &sara_public).is_empty());
}
