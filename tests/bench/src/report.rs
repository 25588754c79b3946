//! The benchmark's table: every scenario, both servers, and Tavla's ratios to the reference.

use std::fmt::Write;

use crate::boxes::{self, CatchUpResult};
use crate::load::{IdleResult, TypingResult};
use crate::media::ViewersResult;
use crate::messages::BurstResult;
use crate::relay::Served;
use crate::store::RewriteResult;
use crate::Typing;

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
}

/// Server CPU per keystroke delivered to one other client, in microseconds.
fn cpu_per_delivery_us(r: &TypingResult) -> f64 {
    let deliveries = r.keystrokes as f64 * (r.clients.saturating_sub(1)) as f64;
    r.cpu_seconds * 1e6 / deliveries.max(1.0)
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    format!("{cores} cores ({model}), Node {}", node.trim())
}

fn row(out: &mut String, name: &str, r: &TypingResult) {
    let l = &r.latencies_us;
    let _ = writeln!(
        out,
        "| {name} | {:.2} | {:.2} | {:.1} | {:.0} | {:.0} | {:.2} | {:.2} | {:.1} | {} | {} |",
        percentile(l, 50.0),
        percentile(l, 99.0),
        percentile(l, 100.0),
        r.frames_per_second,
        r.bytes_per_second / 1024.0,
        r.cpu_seconds,
        cpu_per_delivery_us(r),
        r.peak_rss_mib,
        r.lost,
        r.diverged,
    );
}

/// What one run measured, scenario by scenario (empty or `None` where it did not run).
pub struct Results<'a> {
    pub typing: Vec<(&'a Typing, TypingResult, TypingResult)>,
    pub idle: Option<(IdleResult, IdleResult)>,
    pub bursts: Vec<BurstResult>,
    pub viewers: Vec<ViewersResult>,
    pub rewrites: Vec<RewriteResult>,
    pub catch_up: Option<CatchUpResult>,
    pub relays: Vec<Served>,
}

pub fn markdown(results: &Results<'_>, command: &str) -> String {
    let Results {
        typing,
        idle,
        bursts,
        viewers,
        rewrites,
        catch_up,
        relays,
    } = results;
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Tavla (release build, HTTPS with its own CA, session cookies) beside the reference Node \
         server `@y/websocket-server` 0.1.1 (its `y-websocket` binary, plain ws, no auth, no \
         persistence), started fresh for every scenario on loopback and driven by the same load \
         generator (`tests/bench`, yrs + tokio-tungstenite, plain y-protocols). Each simulated \
         pupil types one character at a random place per keystroke and sends a cursor \
         (awareness) update with it. Latency is from a keystroke's send to its arrival at each \
         other client. CPU is the server process's user+system time while typing; \"µs/delivery\" \
         divides it by keystrokes × (clients − 1). Frames and KiB/s are what all clients \
         received. Lost: clients missing keystrokes 30 s after typing stopped; diverged: clients \
         whose final text differs.\n"
    );
    let _ = writeln!(
        out,
        "Machine: {}. Load generator and server share it.\n",
        machine()
    );
    let _ = writeln!(out, "Command: `{command}`\n");
    for (scenario, ours, theirs) in typing {
        let _ = writeln!(
            out,
            "## {} ({:.0} s, {} keystrokes by Tavla's clients, {} by the reference's)\n",
            scenario.title, ours.seconds, ours.keystrokes, theirs.keystrokes
        );
        let _ = writeln!(out, "| Server | p50 ms | p99 ms | max ms | frames/s | KiB/s | CPU s | µs/delivery | peak RSS MiB | lost | diverged |");
        let _ = writeln!(
            out,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        row(&mut out, "Tavla", ours);
        row(&mut out, "@y/websocket-server", theirs);
        let p99 = |r: &TypingResult| percentile(&r.latencies_us, 99.0);
        let _ = writeln!(
            out,
            "\nTavla / reference: p99 {:.2}×, CPU per delivery {:.2}×, peak RSS {:.2}×. \
             Connections that fell behind and were sent the whole document: {}.\n",
            p99(ours) / p99(theirs),
            cpu_per_delivery_us(ours) / cpu_per_delivery_us(theirs),
            ours.peak_rss_mib / theirs.peak_rss_mib,
            ours.catch_ups.unwrap_or(0)
        );
    }
    if let Some((ours, theirs)) = idle {
        let _ = writeln!(
            out,
            "## {} idle documents (one client each wrote 100 characters, then stayed connected)\n",
            ours.docs
        );
        let _ = writeln!(
            out,
            "| Server | RSS loaded MiB | of them asleep | RSS after all left MiB | documents still loaded |"
        );
        let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: |");
        let reported = |n: Option<u64>| {
            n.map(|n| n.to_string())
                .unwrap_or_else(|| "(not reported)".into())
        };
        for (server, r) in [("Tavla", ours), ("@y/websocket-server", theirs)] {
            let _ = writeln!(
                out,
                "| {server} | {:.1} | {} | {:.1} | {} |",
                r.rss_loaded_mib,
                reported(r.docs_asleep_loaded),
                r.rss_after_close_mib,
                reported(r.docs_loaded_after_close)
            );
        }
        let _ = writeln!(
            out,
            "\nTavla / reference RSS with the documents loaded: {:.2}×. Tavla puts an open \
             document nobody edits to sleep (snapshotted, held as one encoded update, cursors \
             still live) and drops one nobody has open from memory, here after 1 s (30 s by \
             default); \"of them asleep\" counts the sleeping ones when RSS was read. The \
             reference server without persistence discards a document when its last client \
             leaves.\n",
            ours.rss_loaded_mib / theirs.rss_loaded_mib
        );
    }
    if !bursts.is_empty() {
        let _ = writeln!(
            out,
            "## Lesson start on `/ws`: hands and private messages\n\n\
             Within one second every pupil raises a hand with a question (stored in their \
             private thread), and half a second later sends the teacher a private message. \
             Latency is from a pupil's send to the teacher's socket receiving it; every message \
             is written to the store and flushed (group commit) before it is delivered. Every \
             change of the queue also goes to the teacher (the whole queue) and to each pupil \
             whose place changed. No reference server speaks this protocol, so these are \
             Tavla's own numbers.\n"
        );
        let _ = writeln!(
            out,
            "| Pupils | messages | p50 ms | p99 ms | max ms | CPU s | µs CPU/message | peak RSS MiB | lost |"
        );
        let _ = writeln!(
            out,
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for b in bursts {
            let l = &b.latencies_us;
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {:.2} | {:.1} | {:.2} | {:.0} | {:.1} | {} |",
                b.pupils,
                l.len(),
                percentile(l, 50.0),
                percentile(l, 99.0),
                percentile(l, 100.0),
                b.cpu_seconds,
                b.cpu_seconds * 1e6 / (l.len().max(1) as f64),
                b.peak_rss_mib,
                b.lost
            );
        }
        let _ = writeln!(out);
    }
    if !viewers.is_empty() {
        viewers_table(&mut out, viewers);
    }
    if !rewrites.is_empty() {
        rewrites_table(&mut out, rewrites);
    }
    if let Some(c) = catch_up {
        catch_up_table(&mut out, c);
    }
    if !relays.is_empty() {
        relay_table(&mut out, relays);
    }
    out
}

fn relay_table(out: &mut String, relays: &[Served]) {
    let _ = writeln!(
        out,
        "## Relay: a lesson's stream from box A to viewers on box B\n\n\
         The teacher publishes on box A (the synthetic camera above: ~1.5 Mbit/s of video and \
         Opus-sized audio). n pupils at home watch it either on A itself (the peer: no relay, A \
         sends a copy per viewer) or on box B, paired with A and receiving the class, which \
         takes the stream from A once and forwards it to its viewers. A's CPU is its \
         user+system time while they watch; \"A sends\" is the RTP (header and payload, before \
         SRTP and UDP) going from A towards the viewers: what the viewers received when they \
         watch on A, what reached B from A (B's `tavla_media_relay_bytes_received`) when they \
         watch on B. The ratios are relayed ÷ direct for the same n. Both boxes, the publisher \
         and the viewers share this machine.\n"
    );
    let _ = writeln!(
        out,
        "| Viewers | Watching on | A cores | A sends Mbit/s | B cores | viewers receive Mbit/s | lost | A cores relayed ÷ direct | A sends relayed ÷ direct |"
    );
    let _ = writeln!(
        out,
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in relays {
        let direct = relays.iter().find(|d| d.viewers == r.viewers && !d.relayed);
        let ratio = |f: fn(&Served) -> f64| match (r.relayed, direct) {
            (true, Some(d)) => format!("{:.2}×", f(r) / f(d).max(f64::MIN_POSITIVE)),
            _ => "—".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.3} | {:.2} | {} | {:.2} | {} of {} | {} | {} |",
            r.viewers,
            if r.relayed {
                "B (relayed from A)"
            } else {
                "A (direct)"
            },
            r.origin_cores,
            r.origin_bits_per_second / 1e6,
            r.relay_cores
                .map(|c| format!("{c:.3}"))
                .unwrap_or_else(|| "—".into()),
            r.viewers_bits_per_second / 1e6,
            r.lost,
            r.received + r.lost,
            ratio(|s| s.origin_cores),
            ratio(|s| s.origin_bits_per_second),
        );
    }
    let _ = writeln!(out);
}

fn catch_up_table(out: &mut String, c: &CatchUpResult) {
    let kib = |b: u64| b as f64 / 1024.0;
    let _ = writeln!(
        out,
        "## Paired boxes: a class catching up\n\n\
         Box A holds a class of {pupils}: each pupil's own document has {words} words, typed a \
         word at a time, and the teacher wrote {messages} messages into their private threads. \
         Box B pairs with A; A shares the class; B asks every {every} ms (the default is 10 s) \
         and takes it all. \"Crossed\" is every request and answer body of B's syncs (from B's \
         `/metrics`), without TLS and HTTP headers; \"state\" is what B had to receive: the \
         documents' encoded state plus the messages' text. Converged: from sharing until B \
         holds every word and every message (checked by reading them back on B). There is no \
         peer server that syncs Yjs documents between boxes to run beside it; the ratio is to \
         the data itself: documents cross as base64 inside JSON (4/3 of their size) and each \
         message with its origin, author and thread, so more crosses than the state holds. In \
         sync: what one round costs per document once both boxes hold the same (the class \
         list, a state vector per document, an empty answer).\n",
        pupils = boxes::PUPILS,
        words = boxes::WORDS,
        messages = boxes::MESSAGES,
        every = boxes::SYNC_EVERY_MS,
    );
    let _ = writeln!(
        out,
        "| State KiB (documents + messages) | Crossed KiB | Crossed / state | Requests | Converged s | In sync: bytes per document per round | In sync: requests per round |"
    );
    let _ = writeln!(out, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let state = c.state_bytes + c.message_bytes;
    let _ = writeln!(
        out,
        "| {:.0} ({:.0} + {:.0}) | {:.0} | {:.2}× | {} | {:.1} | {:.0} | {:.1} |\n",
        kib(state),
        kib(c.state_bytes),
        kib(c.message_bytes),
        kib(c.crossed_bytes),
        c.crossed_bytes as f64 / state.max(1) as f64,
        c.requests,
        c.seconds,
        c.in_sync_bytes_per_doc,
        c.in_sync_requests,
    );
}

/// The report with the sections of this run in place of the same sections of the earlier one
/// (a run of some scenarios keeps the others' figures, each section saying how it was made).
pub fn merged(earlier: &str, fresh: &str, command: &str) -> String {
    let (_, fresh_sections) = sections(fresh);
    let (preamble, mut kept) = sections(earlier);
    if preamble.trim().is_empty()
        || kept
            .iter()
            .all(|(h, _)| fresh_sections.iter().any(|(f, _)| same(h, f)))
    {
        return fresh.to_string();
    }
    for (heading, body) in fresh_sections {
        let body = format!(
            "\nMeasured on its own: `{command}`.\n\n{}",
            body.trim_start()
        );
        match kept.iter_mut().find(|(h, _)| same(h, &heading)) {
            Some(section) => *section = (heading, body),
            None => kept.push((heading, body)),
        }
    }
    let mut out = preamble;
    for (heading, body) in kept {
        out.push_str(&heading);
        out.push('\n');
        out.push_str(&body);
    }
    out
}

/// Two headings name the same section up to their figures (" (…)").
fn same(a: &str, b: &str) -> bool {
    let key = |h: &str| h.split(" (").next().unwrap_or(h).to_string();
    key(a) == key(b)
}

/// The text before the first `## ` heading, and each section as (heading line, the rest).
fn sections(text: &str) -> (String, Vec<(String, String)>) {
    let mut preamble = String::new();
    let mut found: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("## ") {
            found.push((line.trim_end().to_string(), String::new()));
        } else if let Some((_, body)) = found.last_mut() {
            body.push_str(line);
        } else {
            preamble.push_str(line);
        }
    }
    (preamble, found)
}

fn rewrites_table(out: &mut String, rewrites: &[RewriteResult]) {
    let _ = writeln!(
        out,
        "## Deleting for real: the store's rewrite after a deletion\n\n\
         After a pupil is deleted (or the retention sweep deleted something) Tavla copies every \
         record it keeps into a fresh sled database that replaces the old one, so no deleted \
         byte stays in a file (docs/PRIVACY.md). Other requests wait meanwhile. The stores here \
         hold 16 KiB records (2% of them just deleted); the peer is `cp -a` of the same \
         directory on the same disk, the floor for writing that many bytes again. A Raspberry \
         Pi's SD card is several times slower than this machine's disk for both.\n"
    );
    let _ = writeln!(
        out,
        "| Records | store MiB | rewrite ms | `cp -a` ms | rewrite / copy |"
    );
    let _ = writeln!(out, "| ---: | ---: | ---: | ---: | ---: |");
    for r in rewrites {
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.0} | {:.0} | {:.1}× |",
            r.records,
            r.store_mib,
            r.rewrite_ms,
            r.copy_ms,
            r.rewrite_ms / r.copy_ms.max(0.001)
        );
    }
    let _ = writeln!(out);
}

fn viewers_table(out: &mut String, viewers: &[ViewersResult]) {
    let _ = writeln!(
        out,
        "## Live lesson: one camera to n viewers (WebRTC, SFU)\n\n\
         The teacher's page is a webrtc-rs client publishing a synthetic 720p30 video \
         (~1.5 Mbit/s: 30 frames of 6 RTP packets of 1,100 bytes a second) and Opus-sized audio \
         (50 packets of 160 bytes a second); each viewer is a webrtc-rs peer connection that \
         signals over `/ws` like a pupil's page. Latency is from the publisher's write to a \
         viewer's read (both SRTP ends included); loss counts packets a viewer never got. \
         CPU is the server's user+system time per viewer; memory per viewer is (RSS watching − \
         RSS with the publisher alone) / n; \"after\" is RSS once every viewer left. No \
         reference SFU runs beside it, so these are Tavla's own numbers against the issue's \
         targets (30 viewers < 0.5 core and ≤ 2 MB each, 100 without loss).\n"
    );
    let _ = writeln!(
        out,
        "| Viewers | packets/s out | p50 ms | p99 ms | max ms | lost | server cores | cores/viewer | RSS alone MiB | RSS watching MiB | MiB/viewer | RSS after MiB | peers left |"
    );
    let _ = writeln!(
        out,
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for v in viewers {
        let l = &v.latencies_us;
        let cores = v.cpu_seconds / v.seconds.max(0.001);
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} | {:.2} | {:.1} | {} of {} | {:.3} | {:.4} | {:.1} | {:.1} | {:.2} | {:.1} | {} |",
            v.viewers,
            v.packets_per_second,
            percentile(l, 50.0),
            percentile(l, 99.0),
            percentile(l, 100.0),
            v.lost,
            v.received + v.lost,
            cores,
            cores / v.viewers as f64,
            v.rss_publisher_only_mib,
            v.rss_watching_mib,
            (v.rss_watching_mib - v.rss_publisher_only_mib) / v.viewers as f64,
            v.rss_after_leaving_mib,
            v.peers_after_leaving
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into()),
        );
    }
    let _ = writeln!(out);
}
