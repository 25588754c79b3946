//! What the export archive looks like inside: `data.json`, a readable `index.html` in the
//! pupil's language, documents as HTML and text, files.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{json, Value};

use crate::docs::export::{self, escape_html, Format};
use crate::error::ServiceError;
use crate::i18n;
use crate::privacy::{Category, Held};

/// Fields of records, in the order the readable page shows them.
const FIELDS: [&str; 24] = [
    "name",
    "class",
    "on_class_list_since_ms",
    "lesson_started_ms",
    "lesson_ended_ms",
    "joined_ms",
    "from_home",
    "name_shown",
    "removed_by_teacher",
    "group",
    "members",
    "thread",
    "at_ms",
    "from",
    "kind",
    "text",
    "file",
    "deleted",
    "raised_ms",
    "question",
    "signed_in_ms",
    "runs_out_ms",
    "address",
    "created_ms",
];

/// Values that are words the page translates.
const WORDS: [&str; 8] = [
    "private",
    "class chat",
    "group chat",
    "teacher",
    "pupil",
    "message",
    "question",
    "announcement",
];

pub fn word_key(word: &str) -> String {
    format!("export.value.{}", word.replace(' ', "_"))
}

pub fn field_key(field: &str) -> String {
    format!("export.field.{field}")
}

pub fn category_key(category: Category) -> String {
    format!("export.category.{}", category.key())
}

/// Every language key the page uses (a test checks each exists in every language).
#[cfg(test)]
pub fn keys() -> Vec<String> {
    let mut keys: Vec<String> = FIELDS.iter().map(|f| field_key(f)).collect();
    keys.extend(WORDS.iter().map(|w| word_key(w)));
    keys.extend(Category::ALL.iter().map(|c| category_key(*c)));
    keys.extend(
        [
            "title", "intro", "exported", "nothing", "yes", "no", "open", "json",
        ]
        .iter()
        .map(|k| format!("export.{k}")),
    );
    keys
}

pub fn date(ms: u64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp((ms / 1000) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        at.month() as u8,
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// A file name inside the zip: letters and digits of `raw`, numbered to be unique.
fn entry_name(n: usize, raw: &str) -> String {
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(60)
        .collect();
    format!("{n:03}-{}", clean.trim_matches(['-', '.']))
}

struct Zip {
    writer: zip::ZipWriter<std::io::Cursor<Vec<u8>>>,
}

impl Zip {
    fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), ServiceError> {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        self.writer
            .start_file(path, options)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.writer
            .write_all(bytes)
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }
}

pub fn build(
    name: &str,
    class_name: &str,
    held: &[Held],
    lang: &str,
    now_ms: u64,
) -> Result<Vec<u8>, ServiceError> {
    let mut zip = Zip {
        writer: zip::ZipWriter::new(std::io::Cursor::new(Vec::new())),
    };
    let mut records: BTreeMap<Category, Vec<Value>> = BTreeMap::new();
    for (n, item) in held.iter().enumerate() {
        let entry = match item {
            Held::Record { value, .. } => value.clone(),
            Held::Document {
                name,
                title,
                at_ms,
                content,
            } => {
                let stem = format!("documents/{}", entry_name(n, title));
                let html = export::render(content, Format::Html, title, lang)?;
                let text = export::render(content, Format::Text, title, lang)?;
                zip.add(&format!("{stem}.html"), html.as_bytes())?;
                zip.add(&format!("{stem}.txt"), text.as_bytes())?;
                json!({
                    "title": title,
                    "document": name,
                    "at_ms": (*at_ms > 0).then_some(*at_ms),
                    "file": format!("{stem}.html"),
                    "text": text,
                })
            }
            Held::File {
                id,
                name,
                content_type,
                at_ms,
                bytes,
            } => {
                let path = format!("files/{}", entry_name(n, name));
                zip.add(&path, bytes)?;
                json!({
                    "name": name,
                    "id": id,
                    "content_type": content_type,
                    "at_ms": at_ms,
                    "file": path,
                })
            }
        };
        records.entry(item.category()).or_default().push(entry);
    }
    let data = json!({
        "format": "tavla-pupil-export 1",
        "exported_ms": now_ms,
        "pupil": name,
        "class": class_name,
        "data": records
            .iter()
            .map(|(c, list)| (c.key().to_string(), Value::Array(list.clone())))
            .collect::<serde_json::Map<_, _>>(),
    });
    let json_bytes =
        serde_json::to_vec_pretty(&data).map_err(|e| ServiceError::Internal(e.to_string()))?;
    zip.add("data.json", &json_bytes)?;
    zip.add("index.html", page(name, &records, lang, now_ms).as_bytes())?;
    Ok(zip
        .writer
        .finish()
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .into_inner())
}

fn t(lang: &str, key: &str) -> String {
    i18n::text(lang, key, &[])
}

fn cell(lang: &str, field: &str, value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => t(lang, if *b { "export.yes" } else { "export.no" }),
        Value::Number(n) if field.ends_with("_ms") => n.as_u64().map(date).unwrap_or_default(),
        Value::String(s) if WORDS.contains(&s.as_str()) => t(lang, &word_key(s)),
        Value::String(s) if field == "file" && s.contains('/') => format!(
            "<a href=\"{}\">{}</a>",
            escape_html(s),
            t(lang, "export.open")
        ),
        Value::String(s) => escape_html(s),
        other => escape_html(&other.to_string()),
    }
}

fn page(name: &str, records: &BTreeMap<Category, Vec<Value>>, lang: &str, now_ms: u64) -> String {
    let title = i18n::text(lang, "export.title", &[("name", name)]);
    let mut body = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<p>{} {}. <a href=\"data.json\">{}</a></p>\n",
        escape_html(&title),
        escape_html(&t(lang, "export.intro")),
        escape_html(&t(lang, "export.exported")),
        date(now_ms),
        escape_html(&t(lang, "export.json")),
    );
    for category in Category::ALL {
        body.push_str(&format!(
            "<h2>{}</h2>\n",
            escape_html(&t(lang, &category_key(category)))
        ));
        let list = records.get(&category).map(Vec::as_slice).unwrap_or(&[]);
        if list.is_empty() {
            body.push_str(&format!(
                "<p>{}</p>\n",
                escape_html(&t(lang, "export.nothing"))
            ));
            continue;
        }
        // Columns: the fields any record of this heading has, in the page's order.
        let columns: Vec<&str> = FIELDS
            .iter()
            .chain(["title", "content_type"].iter())
            .copied()
            .filter(|f| list.iter().any(|r| r.get(f).is_some_and(|v| !v.is_null())))
            .collect();
        body.push_str("<table>\n<thead><tr>");
        for column in &columns {
            body.push_str(&format!(
                "<th scope=\"col\">{}</th>",
                escape_html(&t(lang, &field_key(column)))
            ));
        }
        body.push_str("</tr></thead>\n<tbody>\n");
        for record in list {
            body.push_str("<tr>");
            for column in &columns {
                let value = record.get(column).unwrap_or(&Value::Null);
                body.push_str(&format!("<td>{}</td>", cell(lang, column, value)));
            }
            body.push_str("</tr>\n");
        }
        body.push_str("</tbody>\n</table>\n");
    }
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>body{{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.5}}table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #555;padding:.25rem .5rem;text-align:left;vertical-align:top}}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape_html(&title)
    )
}
