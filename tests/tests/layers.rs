//! The layout doc in `server/src/lib.rs` is held against the code: the layers it lists are the
//! only direction imports go (every `crate::` path in a module names a module on a lower
//! line), every module is on one line, nothing below `http` knows axum, and only `auth` and
//! `service` ask `auth::can`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn server_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/src")
}

/// Every `.rs` file of a top-level module (a file, or a folder of them).
fn files_of(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).expect("a module folder").flatten() {
            files.extend(files_of(&entry.path()));
        }
        files
    } else if path.extension().is_some_and(|e| e == "rs") {
        vec![path.to_path_buf()]
    } else {
        Vec::new()
    }
}

/// A file's code without its comments (line and doc comments), so words in prose count not.
fn code_of(file: &Path) -> String {
    std::fs::read_to_string(file)
        .expect("a source file")
        .lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string (a URL) is code; these files write none before `"`.
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The layers as lib.rs lists them: module → its line's number (1 is the top).
fn layers() -> HashMap<String, usize> {
    let lib = std::fs::read_to_string(server_src().join("lib.rs")).expect("lib.rs");
    let mut layer_of = HashMap::new();
    for line in lib.lines() {
        let Some(rest) = line.strip_prefix("//! ") else {
            continue;
        };
        let Some((number, modules)) = rest.split_once(". ") else {
            continue;
        };
        let Ok(number) = number.parse::<usize>() else {
            continue;
        };
        for module in modules.split(',') {
            let module = module.trim().trim_matches('`');
            assert!(
                layer_of.insert(module.to_string(), number).is_none(),
                "{module} is listed twice"
            );
        }
    }
    layer_of
}

fn modules() -> HashMap<String, PathBuf> {
    std::fs::read_dir(server_src())
        .expect("server/src")
        .flatten()
        .map(|entry| entry.path())
        .filter_map(|path| {
            let name = path.file_stem()?.to_str()?.to_string();
            (name != "lib" && name != "main").then_some((name, path))
        })
        .collect()
}

/// The top-level modules a piece of code names with `crate::`.
fn named(code: &str, modules: &HashMap<String, PathBuf>) -> Vec<String> {
    code.match_indices("crate::")
        .filter_map(|(at, _)| {
            let rest = &code[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            modules.contains_key(&name).then_some(name)
        })
        .collect()
}

#[test]
fn imports_go_down_the_layers_of_the_layout_doc() {
    let layer_of = layers();
    let modules = modules();
    for name in modules.keys() {
        assert!(
            layer_of.contains_key(name),
            "`{name}` is on no line of lib.rs's layout"
        );
    }
    for listed in layer_of.keys() {
        assert!(
            modules.contains_key(listed),
            "lib.rs lists `{listed}`, which is no module"
        );
    }
    let mut wrong = Vec::new();
    for (name, path) in &modules {
        for file in files_of(path) {
            for used in named(&code_of(&file), &modules) {
                if used != *name && layer_of[&used] <= layer_of[name] {
                    wrong.push(format!(
                        "{} (layer {}) names `{used}` (layer {})",
                        file.display(),
                        layer_of[name],
                        layer_of[&used]
                    ));
                }
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn nothing_below_http_knows_axum_and_only_auth_and_service_ask_can() {
    let layer_of = layers();
    let modules = modules();
    let http = layer_of["http"];
    let mut wrong = Vec::new();
    for (name, path) in &modules {
        for file in files_of(path) {
            let code = code_of(&file);
            if layer_of[name] > http && code.contains("axum") {
                wrong.push(format!("{} knows axum", file.display()));
            }
            let asks = code.match_indices("can(").any(|(at, _)| {
                !code[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            });
            let decides = name == "auth" || name == "service";
            if asks && !decides {
                wrong.push(format!("{} asks can()", file.display()));
            }
        }
    }
    wrong.sort();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
