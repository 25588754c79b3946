//! The `tavla` binary as an admin uses it: help, configuration errors, adding teachers.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn tavla() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tavla"));
    // The test runner's own environment must not leak TAVLA_* settings into the child.
    for (key, _) in std::env::vars() {
        if key.starts_with("TAVLA_") {
            command.env_remove(key);
        }
    }
    command
}

fn run(command: &mut Command, stdin: &str) -> (bool, String, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tavla runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_explains_every_option() {
    let (ok, out, _) = run(tavla().args(["serve", "--help"]), "");
    assert!(ok);
    for option in [
        "--listen",
        "--http-listen",
        "--sync-listen",
        "--data-dir",
        "--config",
        "--tls-cert",
        "--tls-key",
        "--host-name",
        "--home-networks",
        "--media-udp-port",
    ] {
        assert!(out.contains(option), "serve --help lacks {option}");
    }
    let (ok, out, _) = run(tavla().arg("--help"), "");
    assert!(ok && out.contains("serve") && out.contains("teacher"));
}

#[test]
fn configuration_mistakes_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(
        tavla()
            .args(["serve", "--data-dir"])
            .arg(dir.path())
            .env("TAVLA_LISEN", "x"),
        "",
    );
    assert!(!ok);
    assert!(err.contains("TAVLA_LISEN"), "{err}");

    let file = dir.path().join("tavla.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nlesons = 3\n").unwrap();
    let (ok, _, err) = run(tavla().args(["serve", "--config"]).arg(&file), "");
    assert!(!ok);
    assert!(err.contains("lesons"), "{err}");

    let (ok, _, err) = run(tavla().args(["serve", "--listen", "not-an-address"]), "");
    assert!(!ok);
    assert!(err.contains("--listen"), "{err}");
}

#[test]
fn teachers_are_added_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, out, err) = run(
        tavla()
            .args([
                "teacher",
                "add",
                "Kari Nordmann",
                "--password-stdin",
                "--data-dir",
            ])
            .arg(&data),
        "riktig hest batteri\n",
    );
    assert!(ok, "{err}");
    assert!(out.contains("Kari Nordmann"));
    let (ok, _, err) = run(
        tavla()
            .args([
                "teacher",
                "add",
                "kari nordmann",
                "--password-stdin",
                "--data-dir",
            ])
            .arg(&data),
        "annet passord\n",
    );
    assert!(!ok, "names are unique");
    assert!(err.contains("taken") || err.contains("exists"), "{err}");
    let (ok, _, err) = run(
        tavla()
            .args(["teacher", "add", "Per", "--password-stdin", "--data-dir"])
            .arg(&data),
        "kort\n",
    );
    assert!(!ok);
    assert!(err.contains("password"), "{err}");
    let (ok, out, _) = run(
        tavla()
            .args(["teacher", "add", "Per", "--data-dir"])
            .arg(&data),
        "",
    );
    assert!(ok);
    assert!(out.contains("/setup?token="), "{out}");

    // The server sees the teacher: it prints no first-teacher link.
    let mut server = tavla()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            "--sync-listen",
            "127.0.0.1:0",
            "--media-udp-port",
            "0",
            "--data-dir",
        ])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains("http:");
        printed.push(line);
        if done {
            break;
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        printed
            .iter()
            .any(|l| l.contains("Tavla is running at https://127.0.0.1:")),
        "{printed:?}"
    );
    assert!(
        !printed.iter().any(|l| l.contains("one-time link")),
        "{printed:?}"
    );
}

#[test]
fn the_vpn_is_set_up_from_the_command_line_and_names_what_it_cannot_find() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, out, err) = run(tavla().args(["vpn", "init", "--data-dir"]).arg(&data), "");
    assert!(ok, "{err}");
    assert!(out.contains("10.8.0.1/24"), "{out}");
    let file = data.join("vpn").join("wg-tavla.conf");
    let interface = std::fs::read_to_string(&file).unwrap();
    assert!(interface.contains("ListenPort = 51820"), "{interface}");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600,
        "the file holds the box's private key"
    );
    let (ok, _, err) = run(
        tavla()
            .args(["vpn", "add-pupil", "9Z", "Nobody", "--data-dir"])
            .arg(&data),
        "",
    );
    assert!(!ok);
    assert!(err.contains("0 classes are called \"9Z\""), "{err}");
    let (ok, out, err) = run(tavla().args(["vpn", "list", "--data-dir"]).arg(&data), "");
    assert!(ok, "{err}");
    assert!(out.contains("wg-tavla.conf"), "{out}");
}
