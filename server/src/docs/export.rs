//! A document's rich text as HTML, Markdown or plain text, for downloads and the teacher's
//! previews. Reads the Yjs XML fragment the web client's editor (y-prosemirror) writes: elements
//! named after ProseMirror nodes, text runs whose attributes are ProseMirror marks.
//!
//! Unknown elements keep their content (as a `<div>` or a paragraph), so nothing a pupil wrote
//! is lost from an export even if another Yjs editor used other names.

use yrs::types::text::YChange;
use yrs::types::xml::{XmlFragment, XmlOut};
use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Out, ReadTxn, Text, Transact, Update, Xml};

use super::DocError;

/// The Yjs XML fragment the editor keeps a document's rich text in.
pub const FRAGMENT: &str = "prosemirror";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Markdown,
    Text,
}

impl Format {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "html" => Some(Format::Html),
            "md" => Some(Format::Markdown),
            "txt" => Some(Format::Text),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Text => "txt",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Text => "text/plain; charset=utf-8",
        }
    }
}

/// One node of the document: an element with attributes and children, or a run of text.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Element {
        tag: String,
        attrs: Vec<(String, Any)>,
        children: Vec<Node>,
    },
    Text(Vec<Run>),
}

#[derive(Debug, Clone, PartialEq)]
struct Run {
    text: String,
    marks: Vec<Mark>,
}

#[derive(Debug, Clone, PartialEq)]
enum Mark {
    Strong,
    Em,
    Code,
    Link(String),
}

/// The document in `snapshot` (a Yjs update, lib0 v1) rendered as `format`.
pub fn render(
    snapshot: &[u8],
    format: Format,
    title: &str,
    lang: &str,
) -> Result<String, DocError> {
    let nodes = read(snapshot)?;
    Ok(match format {
        Format::Html => html::document(&nodes, title, lang),
        Format::Markdown => markdown::blocks(&nodes),
        Format::Text => text::blocks(&nodes),
    })
}

/// `s` safe to put into HTML text or an attribute value.
pub fn escape_html(s: &str) -> String {
    html::escape(s)
}

/// The first `max_chars` characters of the document's text, on one line (previews).
///
/// A longer text ends at the last whole word that fits, with "…", never in the middle of one.
pub fn preview(snapshot: &[u8], max_chars: usize) -> Result<String, DocError> {
    let full = text::blocks(&read(snapshot)?);
    let line = full.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max_chars {
        return Ok(line);
    }
    let cut: String = line.chars().take(max_chars.saturating_sub(1)).collect();
    let whole_words = match line.chars().nth(cut.chars().count()) {
        // The cut fell between two words.
        Some(' ') => cut.as_str(),
        _ => cut
            .rsplit_once(' ')
            .map_or(cut.as_str(), |(words, _)| words),
    };
    Ok(format!("{}…", whole_words.trim_end()))
}

fn read(snapshot: &[u8]) -> Result<Vec<Node>, DocError> {
    let doc = Doc::new();
    let fragment = doc.get_or_insert_xml_fragment(FRAGMENT);
    {
        let update = Update::decode_v1(snapshot).map_err(|e| DocError::Corrupt(e.to_string()))?;
        doc.transact_mut()
            .apply_update(update)
            .map_err(|e| DocError::Corrupt(e.to_string()))?;
    }
    let txn = doc.transact();
    Ok(fragment.children(&txn).map(|c| node(&txn, c)).collect())
}

fn node<T: ReadTxn>(txn: &T, out: XmlOut) -> Node {
    match out {
        XmlOut::Element(el) => {
            let mut attrs: Vec<(String, Any)> = el
                .attributes(txn)
                .filter_map(|(k, v)| match v {
                    Out::Any(any) => Some((k.to_string(), any)),
                    _ => None,
                })
                .collect();
            attrs.sort_by(|a, b| a.0.cmp(&b.0));
            Node::Element {
                tag: el.try_tag().map(|t| t.to_string()).unwrap_or_default(),
                attrs,
                children: el.children(txn).map(|c| node(txn, c)).collect(),
            }
        }
        XmlOut::Fragment(f) => Node::Element {
            tag: String::new(),
            attrs: Vec::new(),
            children: f.children(txn).map(|c| node(txn, c)).collect(),
        },
        XmlOut::Text(t) => Node::Text(
            t.diff(txn, YChange::identity)
                .into_iter()
                .filter_map(|d| {
                    let text = match d.insert {
                        Out::Any(Any::String(s)) => s.to_string(),
                        other => other.to_string(txn),
                    };
                    let marks = d
                        .attributes
                        .map(|a| a.iter().filter_map(|(k, v)| mark(k, v)).collect())
                        .unwrap_or_default();
                    (!text.is_empty()).then_some(Run { text, marks })
                })
                .collect(),
        ),
    }
}

/// A text attribute as a mark. y-prosemirror suffixes overlapping marks with `--<hash>`.
fn mark(name: &str, value: &Any) -> Option<Mark> {
    let base = match name.rsplit_once("--") {
        Some((base, hash)) if hash.len() == 8 => base,
        _ => name,
    };
    match base {
        "strong" => Some(Mark::Strong),
        "em" => Some(Mark::Em),
        "code" => Some(Mark::Code),
        "link" => match value {
            Any::Map(m) => match m.get("href") {
                Some(Any::String(href)) if safe_href(href) => Some(Mark::Link(href.to_string())),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// Only web and mail links survive an export; `javascript:` and the like are dropped.
fn safe_href(href: &str) -> bool {
    let lower = href.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

fn attr<'a>(attrs: &'a [(String, Any)], name: &str) -> Option<&'a Any> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn attr_str<'a>(attrs: &'a [(String, Any)], name: &str) -> Option<&'a str> {
    match attr(attrs, name) {
        Some(Any::String(s)) => Some(s),
        _ => None,
    }
}

fn attr_int(attrs: &[(String, Any)], name: &str) -> Option<i64> {
    match attr(attrs, name) {
        Some(Any::Number(yrs::any::Number::Int(n))) => Some(*n),
        Some(Any::Number(yrs::any::Number::Float(f))) => Some(*f as i64),
        Some(Any::String(s)) => s.parse().ok(),
        _ => None,
    }
}

fn heading_level(attrs: &[(String, Any)]) -> usize {
    attr_int(attrs, "level").unwrap_or(1).clamp(1, 6) as usize
}

/// Images only from the box itself (uploads) or inline data; nothing that would fetch elsewhere.
fn safe_image(src: &str) -> bool {
    src.starts_with("/api/") || src.starts_with("data:image/")
}

mod html {
    use super::*;

    pub fn document(nodes: &[Node], title: &str, lang: &str) -> String {
        let mut body = String::new();
        blocks(nodes, &mut body);
        format!(
            "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n</head>\n<body>\n{}</body>\n</html>\n",
            escape(lang),
            escape(title),
            body
        )
    }

    fn blocks(nodes: &[Node], out: &mut String) {
        for n in nodes {
            block(n, out);
        }
    }

    fn block(n: &Node, out: &mut String) {
        match n {
            Node::Text(runs) => inline(runs, out),
            Node::Element {
                tag,
                attrs,
                children,
            } => {
                let (open, close) = match tag.as_str() {
                    "paragraph" => ("<p>".to_string(), "</p>\n".to_string()),
                    "heading" => {
                        let l = heading_level(attrs);
                        (format!("<h{l}>"), format!("</h{l}>\n"))
                    }
                    "blockquote" => ("<blockquote>\n".into(), "</blockquote>\n".into()),
                    "code_block" => ("<pre><code>".into(), "</code></pre>\n".into()),
                    "bullet_list" => ("<ul>\n".into(), "</ul>\n".into()),
                    "ordered_list" => match attr_int(attrs, "order") {
                        Some(start) if start != 1 => {
                            (format!("<ol start=\"{start}\">\n"), "</ol>\n".into())
                        }
                        _ => ("<ol>\n".into(), "</ol>\n".into()),
                    },
                    "list_item" => ("<li>".into(), "</li>\n".into()),
                    "horizontal_rule" => {
                        out.push_str("<hr>\n");
                        return;
                    }
                    "hard_break" => {
                        out.push_str("<br>");
                        return;
                    }
                    "image" => {
                        if let Some(src) = attr_str(attrs, "src").filter(|s| safe_image(s)) {
                            out.push_str(&format!(
                                "<img src=\"{}\" alt=\"{}\">",
                                escape(src),
                                escape(attr_str(attrs, "alt").unwrap_or(""))
                            ));
                        }
                        return;
                    }
                    _ => ("<div>".into(), "</div>\n".into()),
                };
                out.push_str(&open);
                blocks(children, out);
                out.push_str(&close);
            }
        }
    }

    fn inline(runs: &[Run], out: &mut String) {
        for run in runs {
            let mut open = String::new();
            let mut close = String::new();
            for m in &run.marks {
                let (o, c) = match m {
                    Mark::Strong => ("<strong>".to_string(), "</strong>"),
                    Mark::Em => ("<em>".to_string(), "</em>"),
                    Mark::Code => ("<code>".to_string(), "</code>"),
                    Mark::Link(href) => (format!("<a href=\"{}\">", escape(href)), "</a>"),
                };
                open.push_str(&o);
                close.insert_str(0, c);
            }
            out.push_str(&open);
            out.push_str(&escape(&run.text));
            out.push_str(&close);
        }
    }

    pub fn escape(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                c => out.push(c),
            }
        }
        out
    }
}

/// Blocks of Markdown or plain text: the non-empty ones, a blank line between, a line end after.
fn join_blocks(blocks: impl Iterator<Item = String>) -> String {
    let parts: Vec<String> = blocks.filter(|t| !t.is_empty()).collect();
    let mut out = parts.join("\n\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

mod markdown {
    use super::*;

    pub fn blocks(nodes: &[Node]) -> String {
        join_blocks(nodes.iter().map(block))
    }

    fn block(n: &Node) -> String {
        match n {
            Node::Text(runs) => inline(runs),
            Node::Element {
                tag,
                attrs,
                children,
            } => match tag.as_str() {
                "heading" => format!("{} {}", "#".repeat(heading_level(attrs)), inlines(children)),
                "blockquote" => prefix_lines(&blocks(children), "> ", "> "),
                "code_block" => format!("```\n{}\n```", plain(children)),
                "horizontal_rule" => "---".into(),
                "bullet_list" => list(children, |_| "- ".to_string()),
                "ordered_list" => {
                    let start = attr_int(attrs, "order").unwrap_or(1);
                    list(children, |i| format!("{}. ", start + i as i64))
                }
                "image" => match attr_str(attrs, "src").filter(|s| safe_image(s)) {
                    Some(src) => format!(
                        "![{}]({})",
                        escape(attr_str(attrs, "alt").unwrap_or("")),
                        src
                    ),
                    None => String::new(),
                },
                "paragraph" => inlines(children),
                _ => blocks(children).trim_end().to_string(),
            },
        }
    }

    fn list(items: &[Node], marker: impl Fn(usize) -> String) -> String {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let body = match item {
                    Node::Element { children, .. } => blocks(children),
                    other => block(other),
                };
                let m = marker(i);
                prefix_lines(body.trim_end(), &m, &" ".repeat(m.len()))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn prefix_lines(text: &str, first: &str, rest: &str) -> String {
        text.trim_end()
            .lines()
            .enumerate()
            .map(|(i, line)| {
                let p = if i == 0 { first } else { rest };
                if line.is_empty() {
                    p.trim_end().to_string()
                } else {
                    format!("{p}{line}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn inlines(children: &[Node]) -> String {
        children
            .iter()
            .map(|c| match c {
                Node::Text(runs) => inline(runs),
                Node::Element { tag, .. } if tag == "hard_break" => "\\\n".to_string(),
                other => block(other),
            })
            .collect()
    }

    fn inline(runs: &[Run]) -> String {
        let mut out = String::new();
        for run in runs {
            let mut text = if run.marks.contains(&Mark::Code) {
                format!("`{}`", run.text.replace('`', "'"))
            } else {
                escape(&run.text)
            };
            if run.marks.contains(&Mark::Em) {
                text = format!("*{text}*");
            }
            if run.marks.contains(&Mark::Strong) {
                text = format!("**{text}**");
            }
            if let Some(Mark::Link(href)) = run.marks.iter().find(|m| matches!(m, Mark::Link(_))) {
                text = format!("[{text}](<{}>)", href.replace(['<', '>'], ""));
            }
            out.push_str(&text);
        }
        out
    }

    fn plain(children: &[Node]) -> String {
        super::text::blocks(children).trim_end().to_string()
    }

    /// Backslash-escapes what Markdown would read as formatting.
    fn escape(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if matches!(
                c,
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!'
            ) {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }
}

mod text {
    use super::*;

    pub fn blocks(nodes: &[Node]) -> String {
        join_blocks(nodes.iter().map(block))
    }

    fn block(n: &Node) -> String {
        match n {
            Node::Text(runs) => runs.iter().map(|r| r.text.as_str()).collect(),
            Node::Element {
                tag,
                attrs,
                children,
            } => match tag.as_str() {
                "bullet_list" => list(children, |_| "• ".to_string()),
                "ordered_list" => {
                    let start = attr_int(attrs, "order").unwrap_or(1);
                    list(children, |i| format!("{}. ", start + i as i64))
                }
                "hard_break" => "\n".into(),
                "horizontal_rule" => "———".into(),
                "image" => attr_str(attrs, "alt").unwrap_or("").to_string(),
                "paragraph" | "heading" => children.iter().map(block).collect(),
                _ => blocks(children).trim_end().to_string(),
            },
        }
    }

    fn list(items: &[Node], marker: impl Fn(usize) -> String) -> String {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let body = match item {
                    Node::Element { children, .. } => blocks(children),
                    other => block(other),
                };
                let m = marker(i);
                let pad = " ".repeat(m.chars().count());
                body.trim_end()
                    .lines()
                    .enumerate()
                    .map(|(j, line)| {
                        if j == 0 {
                            format!("{m}{line}")
                        } else {
                            format!("{pad}{line}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;
    use yrs::types::xml::{XmlElementPrelim, XmlTextPrelim};
    use yrs::{StateVector, XmlElementRef};

    fn any_map(pairs: &[(&str, &str)]) -> Any {
        Any::Map(Arc::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Any::String((*v).into())))
                .collect::<HashMap<_, _>>(),
        ))
    }

    /// A document as y-prosemirror would write it.
    fn sample() -> Vec<u8> {
        let doc = Doc::new();
        let frag = doc.get_or_insert_xml_fragment(FRAGMENT);
        let mut txn = doc.transact_mut();
        let h: XmlElementRef = frag.push_back(&mut txn, XmlElementPrelim::empty("heading"));
        h.insert_attribute(&mut txn, "level", Any::Number(yrs::any::Number::Int(2)));
        let ht = h.push_back(&mut txn, XmlTextPrelim::new(""));
        ht.insert(&mut txn, 0, "Vår tur <3 & #1");

        let p: XmlElementRef = frag.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
        let pt = p.push_back(&mut txn, XmlTextPrelim::new(""));
        pt.insert(&mut txn, 0, "Vi så ");
        let bold = HashMap::from([(Arc::<str>::from("strong"), Any::Map(Arc::default()))]);
        let at = pt.len(&txn);
        pt.insert_with_attributes(&mut txn, at, "elgen", bold);
        let link = HashMap::from([(
            Arc::<str>::from("link"),
            any_map(&[("href", "https://snl.no/elg")]),
        )]);
        let at = pt.len(&txn);
        pt.insert_with_attributes(&mut txn, at, " her", link);
        let evil = HashMap::from([(
            Arc::<str>::from("link"),
            any_map(&[("href", "javascript:alert(1)")]),
        )]);
        let at = pt.len(&txn);
        pt.insert_with_attributes(&mut txn, at, "!", evil);

        let ul: XmlElementRef = frag.push_back(&mut txn, XmlElementPrelim::empty("bullet_list"));
        for item in ["ett", "to"] {
            let li: XmlElementRef = ul.push_back(&mut txn, XmlElementPrelim::empty("list_item"));
            let lp: XmlElementRef = li.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            let t = lp.push_back(&mut txn, XmlTextPrelim::new(""));
            t.insert(&mut txn, 0, item);
        }
        drop(txn);
        let bytes = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        bytes
    }

    #[test]
    fn html_escapes_text_keeps_structure_and_drops_unsafe_links() {
        let html = render(&sample(), Format::Html, "Klassens <dokument>", "nb").unwrap();
        assert!(
            html.contains("<title>Klassens &lt;dokument&gt;</title>"),
            "{html}"
        );
        assert!(html.contains("<h2>Vår tur &lt;3 &amp; #1</h2>"), "{html}");
        assert!(
            html.contains(
                "<p>Vi så <strong>elgen</strong><a href=\"https://snl.no/elg\"> her</a>!</p>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<ul>\n<li><p>ett</p>\n</li>\n<li><p>to</p>\n</li>\n</ul>"),
            "{html}"
        );
        assert!(!html.contains("javascript"), "{html}");
    }

    #[test]
    fn markdown_marks_headings_and_lists() {
        let md = render(&sample(), Format::Markdown, "", "nb").unwrap();
        assert_eq!(
            md,
            "## Vår tur \\<3 & \\#1\n\nVi så **elgen**[ her](<https://snl.no/elg>)\\!\n\n- ett\n- to\n"
        );
    }

    #[test]
    fn text_is_just_the_words() {
        let text = render(&sample(), Format::Text, "", "nb").unwrap();
        assert_eq!(text, "Vår tur <3 & #1\n\nVi så elgen her!\n\n• ett\n• to\n");
        assert_eq!(preview(&sample(), 12).unwrap(), "Vår tur <3…");
        // Short enough: the whole text, no ellipsis.
        assert!(!preview(&sample(), 10_000).unwrap().ends_with('…'));
    }

    #[test]
    fn empty_and_damaged_documents() {
        let empty = Doc::new()
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        assert_eq!(render(&empty, Format::Text, "", "nb").unwrap(), "");
        assert!(matches!(
            render(&[0xff, 0xff], Format::Html, "", "nb"),
            Err(DocError::Corrupt(_))
        ));
    }
}
