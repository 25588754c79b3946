//! A backup taken through the admin socket while a pupil writes holds every edit the box had
//! taken in before the backup was asked for; restored into a new data directory, the box comes
//! back with its teacher, its class document and its certificate authority.

use std::sync::Arc;

use tavla_e2e::yjs::DocClient;
use tavla_e2e::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::test]
async fn a_backup_during_a_burst_of_edits_restores_every_edit_made_before_it() {
    let server = TestServer::start().await;
    let kari = server.first_teacher("Kari").await;
    let class = class_with(&kari, "7B", &[]).await;
    let lesson = start_lesson(&kari, class["id"].as_str().unwrap()).await;
    let code = lesson["code"].as_str().unwrap();
    let doc = format!("lesson.{}.class", lesson["id"].as_str().unwrap());
    let ada = guest(&server, code, "Ada").await;
    let mut writer = DocClient::connect(&ada, &doc).await.unwrap();
    let mut reader = DocClient::connect(&kari, &doc).await.unwrap();
    // Every line is taken in (another client has it) before the next.
    for i in 0..20 {
        writer.append(&format!("line-{i:02} ")).await.unwrap();
        let needle = format!("line-{i:02}");
        reader.until(|t| t.contains(&needle)).await.unwrap();
    }
    let ca = std::fs::read(server.dir.path().join("data/tls/ca.crt")).unwrap();

    // The burst goes on while the backup is written.
    let burst = tokio::spawn(async move {
        for i in 0..50 {
            if writer.append(&format!("after-{i:02} ")).await.is_err() {
                break;
            }
        }
        writer
    });
    let target = tempfile::tempdir().unwrap();
    let file = target.path().join("box.tavla");
    let socket = server.dir.path().join("data").join(tavla::admin::SOCKET);
    let mut stream = tokio::net::UnixStream::connect(&socket).await.unwrap();
    stream
        .write_all(format!("backup {}\n", file.display()).as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).await.unwrap();
    assert!(answer.starts_with("ok "), "{answer}");
    let _ = burst.await;
    let mut nonsense = tokio::net::UnixStream::connect(&socket).await.unwrap();
    nonsense.write_all(b"format disk\n").await.unwrap();
    let mut refused = String::new();
    BufReader::new(nonsense)
        .read_line(&mut refused)
        .await
        .unwrap();
    assert!(refused.starts_with("error unknown command"), "{refused}");
    drop(server);

    let restored = Arc::new(tempfile::tempdir().unwrap());
    tavla::backup::restore(&file, &restored.path().join("data"), false).unwrap();
    assert_eq!(
        std::fs::read(restored.path().join("data/tls/ca.crt")).unwrap(),
        ca,
        "the same certificate authority: devices keep trusting the box"
    );
    let again = TestServer::start_in(restored, |_| {}).await;
    let kari = again.sign_in("Kari").await;
    let text = DocClient::connect(&kari, &doc).await.unwrap().text();
    for i in 0..20 {
        assert!(
            text.contains(&format!("line-{i:02}")),
            "line-{i:02} in {text}"
        );
    }
}
