//! `tavla-bench`: Tavla side by side with the reference Node server `@y/websocket-server`, in
//! one run, on this machine. Prints a table and writes it to `docs/BENCHMARKS.md`.
//!
//! ```text
//! cargo build --release -p tavla && (cd tests/bench/node && npm ci)
//! cargo run --release -p tavla-bench
//! ```

mod boxes;
mod load;
mod media;
mod messages;
mod relay;
mod report;
mod servers;
mod store;

use std::path::PathBuf;

use clap::Parser;

use load::{IdleResult, TypingResult};
use servers::{BoxError, Layout, Server};

#[derive(Parser)]
#[command(about = "Tavla beside @y/websocket-server: fan-out latency, CPU, memory, loss")]
struct Args {
    /// Tavla's release binary (default: <target dir>/release/tavla).
    #[arg(long)]
    tavla: Option<PathBuf>,
    /// Where `@y/websocket-server` is installed (`npm ci` there first).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/node"))]
    node_dir: PathBuf,
    /// Seconds each typing scenario types for.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Scenarios to run (class, year, assembly, idle, hands30, hands300, viewers, rewrite,
    /// boxes, relay). Sections of scenarios not run are kept from the report as it was.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "class,year,assembly,idle,hands30,hands300,viewers,rewrite,boxes,relay"
    )]
    only: Vec<String>,
    /// Where to write the Markdown report ("-" for nowhere).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/BENCHMARKS.md"))]
    out: PathBuf,
}

/// A typing scenario: clients in one document, characters per second each.
pub struct Typing {
    pub key: &'static str,
    pub title: &'static str,
    pub clients: usize,
    pub rate: f64,
}

const TYPING: [Typing; 3] = [
    Typing {
        key: "class",
        title: "A class: 30 pupils × 3 chars/s",
        clients: 30,
        rate: 3.0,
    },
    Typing {
        key: "year",
        title: "A year group: 300 × 0.5 chars/s",
        clients: 300,
        rate: 0.5,
    },
    Typing {
        key: "assembly",
        title: "An assembly: 1,000 × 0.1 chars/s",
        clients: 1000,
        rate: 0.1,
    },
];
const IDLE_DOCS: usize = 1000;
const VIEWERS: [usize; 4] = [1, 10, 30, 100];

fn default_tavla() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")));
    target.join("release/tavla")
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let tavla = args.tavla.clone().unwrap_or_else(default_tavla);
    if !tavla.exists() {
        return Err(format!(
            "{} is missing: run `cargo build --release -p tavla`",
            tavla.display()
        )
        .into());
    }
    let mut typing: Vec<(&Typing, TypingResult, TypingResult)> = Vec::new();
    for scenario in TYPING
        .iter()
        .filter(|s| args.only.iter().any(|o| o == s.key))
    {
        eprintln!("{} …", scenario.title);
        let layout = Layout::OneDoc(scenario.clients);
        let (server, seats) = Server::tavla(&tavla, &layout).await?;
        let ours = load::typing(&server, &seats, scenario.rate, args.seconds).await?;
        server.stop().await;
        let (server, seats) = Server::node(&args.node_dir, &layout).await?;
        let theirs = load::typing(&server, &seats, scenario.rate, args.seconds).await?;
        server.stop().await;
        typing.push((scenario, ours, theirs));
    }
    let mut idle: Option<(IdleResult, IdleResult)> = None;
    if args.only.iter().any(|o| o == "idle") {
        eprintln!("{IDLE_DOCS} idle documents …");
        let layout = Layout::OwnDocs(IDLE_DOCS);
        let (server, seats) = Server::tavla(&tavla, &layout).await?;
        let ours = load::idle_docs(&server, &seats).await?;
        server.stop().await;
        let (server, seats) = Server::node(&args.node_dir, &layout).await?;
        let theirs = load::idle_docs(&server, &seats).await?;
        server.stop().await;
        idle = Some((ours, theirs));
    }
    let mut bursts = Vec::new();
    for (key, pupils) in [("hands30", 30), ("hands300", 300)] {
        if !args.only.iter().any(|o| o == key) {
            continue;
        }
        eprintln!("lesson start with {pupils} pupils …");
        let (server, _) = Server::tavla(&tavla, &Layout::OneDoc(pupils)).await?;
        bursts.push(messages::lesson_start(&server).await?);
        server.stop().await;
    }
    let mut viewers = Vec::new();
    if args.only.iter().any(|o| o == "viewers") {
        for n in VIEWERS {
            eprintln!("live lesson with {n} viewers …");
            let (server, _) = Server::tavla(&tavla, &Layout::OneDoc(n)).await?;
            viewers.push(media::viewers(&server, n, args.seconds).await?);
            server.stop().await;
        }
    }
    let mut rewrites = Vec::new();
    if args.only.iter().any(|o| o == "rewrite") {
        for records in store::RECORDS {
            eprintln!("rewriting a store of {records} records …");
            rewrites.push(store::rewrite(records)?);
        }
    }
    let mut catch_up = None;
    if args.only.iter().any(|o| o == "boxes") {
        eprintln!("catch-up between two paired boxes …");
        catch_up = Some(boxes::catch_up(&tavla).await?);
    }
    let mut relays = Vec::new();
    if args.only.iter().any(|o| o == "relay") {
        for n in relay::VIEWERS {
            eprintln!("{n} viewers on box A itself …");
            relays.push(relay::direct(&tavla, n, args.seconds).await?);
            eprintln!("{n} viewers on box B, relaying A …");
            relays.push(relay::relayed(&tavla, n, args.seconds).await?);
        }
    }
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let results = report::Results {
        typing,
        idle,
        bursts,
        viewers,
        rewrites,
        catch_up,
        relays,
    };
    let fresh = report::markdown(&results, &command);
    let earlier = std::fs::read_to_string(&args.out).unwrap_or_default();
    let text = report::merged(&earlier, &fresh, &command);
    println!("{text}");
    if args.out.as_os_str() != "-" {
        std::fs::write(&args.out, &text)?;
        eprintln!("wrote {}", args.out.display());
    }
    Ok(())
}
