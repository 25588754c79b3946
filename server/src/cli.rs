//! The command line: `tavla serve`, `tavla teacher add`. The binary only calls [`main`].

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Overrides};
use crate::datadir::DataDir;
use crate::service::offline;
use crate::store::{SledStore, Store};
use crate::tls::ServerNames;

/// Tavla: a classroom collaboration server that runs on one box in the classroom.
///
/// Pupils open it in a browser on the school network; nothing leaves the premises.
#[derive(Parser)]
#[command(name = "tavla", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (HTTPS for the app, plain HTTP for installing the certificate).
    Serve(ServeArgs),
    /// Manage teacher accounts.
    #[command(subcommand)]
    Teacher(TeacherCommand),
    /// List the Tavla boxes on this network (mDNS) and exit.
    Discover(DiscoverArgs),
    /// Write a backup of the box to FILE: the store at one moment and the certificates. Works
    /// while Tavla runs (through its admin socket) and while it is stopped.
    Backup {
        file: PathBuf,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Bring a backup back into an empty data directory (with Tavla stopped).
    Restore {
        file: PathBuf,
        /// Restore over existing data (it is moved aside to <data dir>.before-restore).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// The WireGuard VPN for pupils at home (with Tavla stopped; teachers do the same on the
    /// class page while it runs).
    #[command(subcommand)]
    Vpn(VpnCommand),
}

#[derive(Subcommand)]
enum VpnCommand {
    /// Make the box's VPN keys (once) and write its interface file; prints where it is.
    Init {
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Give a pupil VPN access: prints their WireGuard config and its QR code (shown once).
    AddPupil {
        /// The class, by name (as on the teacher's page).
        class: String,
        /// The pupil, by name (as on the class list).
        pupil: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Take a pupil's VPN access away.
    RemovePupil {
        class: String,
        pupil: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Which pupils have VPN access.
    List {
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Args)]
struct DiscoverArgs {
    /// Print JSON for scripts instead of a table.
    #[arg(long)]
    json: bool,
    /// How long to listen for boxes, in seconds.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Print each box as it is found or withdraws (one JSON object a line) for --seconds,
    /// instead of the list at the end.
    #[arg(long)]
    follow: bool,
    /// Instead: the addresses a `.local` name has (as a phone or laptop would ask).
    #[arg(long, value_name = "NAME.local")]
    resolve: Option<String>,
}

#[derive(Subcommand)]
enum TeacherCommand {
    /// Add a teacher. Without --password-stdin, prints a one-time link for them to choose one.
    Add {
        /// The teacher's name, as they will type it to log in.
        name: String,
        /// Read the password from standard input instead of printing a link.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Args)]
struct CommonArgs {
    /// A TOML file with settings (see docs/OPERATIONS.md). Flags and TAVLA_* variables win over it.
    #[arg(long, env = "TAVLA_CONFIG")]
    config: Option<PathBuf>,
    /// Where data lives [default: ./tavla-data; /var/lib/tavla under systemd].
    #[arg(long, env = "TAVLA_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// HTTPS address [default: 0.0.0.0:8443]. Port 0 picks a free port.
    #[arg(long, env = "TAVLA_LISTEN")]
    listen: Option<SocketAddr>,
    /// Plain HTTP address: redirects to HTTPS, serves the CA certificate [default: 0.0.0.0:8080].
    #[arg(long, env = "TAVLA_HTTP_LISTEN")]
    http_listen: Option<SocketAddr>,
    /// Address paired boxes connect to (mutual TLS) [default: 0.0.0.0:8444]. Port 0 picks a
    /// free port.
    #[arg(long, env = "TAVLA_SYNC_LISTEN")]
    sync_listen: Option<SocketAddr>,
    /// Certificate chain (PEM) to use instead of Tavla's own CA, e.g. the municipality's.
    #[arg(long, env = "TAVLA_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) for --tls-cert.
    #[arg(long, env = "TAVLA_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The box's network name [default: the system host name]; also answers as <name>.local.
    #[arg(long, env = "TAVLA_HOST_NAME")]
    host_name: Option<String>,
    /// Networks of pupils at home, i.e. the school's VPN (comma-separated, e.g. 10.8.0.0/24).
    #[arg(long, env = "TAVLA_HOME_NETWORKS", value_delimiter = ',')]
    home_networks: Option<Vec<IpNet>>,
    /// UDP port for all live audio and video [default: 8443]. Port 0 picks a free port.
    #[arg(long, env = "TAVLA_MEDIA_UDP_PORT")]
    media_udp_port: Option<u16>,
    /// Do not announce the box on the network (mDNS); pupils then need its address or QR code.
    #[arg(long, env = "TAVLA_NO_MDNS")]
    no_mdns: bool,
}

fn load_config(common: &CommonArgs, mut overrides: Overrides) -> Result<Config, String> {
    overrides.data_dir = common.data_dir.clone();
    Config::load(common.config.as_deref(), overrides).map_err(|e| e.to_string())
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Teacher(TeacherCommand::Add {
            name,
            password_stdin,
            common,
        }) => add_teacher(&common, &name, password_stdin),
        Command::Discover(args) => discover(&args),
        Command::Vpn(command) => vpn(command),
        Command::Backup { file, common } => backup(&common, &file),
        Command::Restore {
            file,
            force,
            common,
        } => restore(&common, &file, force),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tavla: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let overrides = Overrides {
        listen: args.listen,
        http_listen: args.http_listen,
        sync_listen: args.sync_listen,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        host_name: args.host_name,
        home_networks: args.home_networks,
        media_udp_port: args.media_udp_port,
        no_mdns: args.no_mdns,
        data_dir: None,
    };
    let config = load_config(&args.common, overrides)?;
    init_logging();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime
        .block_on(crate::app::run(config))
        .map_err(|e| e.to_string())
}

fn discover(args: &DiscoverArgs) -> Result<(), String> {
    use crate::discovery;
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 3600.0) {
        return Err("--seconds must be between 0 and 3600".into());
    }
    let wait = std::time::Duration::from_secs_f64(args.seconds);
    if let Some(host) = &args.resolve {
        if !host.ends_with(".local") {
            return Err(format!("{host}: only .local names are asked with mDNS"));
        }
        let addresses = discovery::resolve_host(host, wait).map_err(|e| e.to_string())?;
        if addresses.is_empty() {
            return Err(format!("no answer for {host} within {} s", args.seconds));
        }
        let text: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        println!("{}", text.join(" "));
        return Ok(());
    }
    if args.follow {
        return discovery::browse(wait, |seen| {
            if let Ok(line) = serde_json::to_string(&seen) {
                println!("{line}");
            }
        })
        .map_err(|e| e.to_string());
    }
    let boxes = discovery::discover(wait).map_err(|e| e.to_string())?;
    if args.json {
        let text = serde_json::to_string_pretty(&boxes).map_err(|e| e.to_string())?;
        println!("{text}");
    } else if boxes.is_empty() {
        println!("No Tavla box answered within {} s.", args.seconds);
    } else {
        for b in &boxes {
            let addresses: Vec<String> = b.addresses.iter().map(ToString::to_string).collect();
            println!(
                "{}  https://{}:{}  {}  version {}  CA {}",
                b.name,
                b.host,
                b.port,
                addresses.join(" "),
                b.version.as_deref().unwrap_or("?"),
                b.ca_sha256.as_deref().unwrap_or("-"),
            );
        }
    }
    Ok(())
}

fn backup(common: &CommonArgs, file: &std::path::Path) -> Result<(), String> {
    use std::io::{BufRead, Write};
    let config = load_config(common, Overrides::default())?;
    let target = std::path::absolute(file).map_err(|e| e.to_string())?;
    // A running box answers on its admin socket; a stopped one is read directly.
    let socket = crate::admin::socket_path(&config.data_dir);
    if let Ok(mut stream) = std::os::unix::net::UnixStream::connect(&socket) {
        writeln!(stream, "backup {}", target.display()).map_err(|e| e.to_string())?;
        let mut answer = String::new();
        std::io::BufReader::new(stream)
            .read_line(&mut answer)
            .map_err(|e| e.to_string())?;
        return match answer.trim_end().strip_prefix("ok ") {
            Some(records) => {
                println!(
                    "Backup of the running box: {} ({records} records).",
                    target.display()
                );
                Ok(())
            }
            None => Err(answer.trim_end().trim_start_matches("error ").to_string()),
        };
    }
    let data = DataDir::open(&config.data_dir).map_err(|e| e.to_string())?;
    let store = SledStore::open(&data.store_dir()).map_err(|e| e.to_string())?;
    let records = crate::backup::write(&store, data.root(), &target).map_err(|e| e.to_string())?;
    println!("Backup: {} ({records} records).", target.display());
    Ok(())
}

fn restore(common: &CommonArgs, file: &std::path::Path, force: bool) -> Result<(), String> {
    let config = load_config(common, Overrides::default())?;
    if crate::admin::socket_path(&config.data_dir).exists()
        && std::os::unix::net::UnixStream::connect(crate::admin::socket_path(&config.data_dir))
            .is_ok()
    {
        return Err("Tavla is running with this data directory; stop it first".into());
    }
    let records =
        crate::backup::restore(file, &config.data_dir, force).map_err(|e| e.to_string())?;
    println!(
        "Restored {records} records into {}. Start Tavla as before.",
        config.data_dir.display()
    );
    Ok(())
}

fn vpn(command: VpnCommand) -> Result<(), String> {
    use crate::vpn;
    let common = match &command {
        VpnCommand::Init { common }
        | VpnCommand::AddPupil { common, .. }
        | VpnCommand::RemovePupil { common, .. }
        | VpnCommand::List { common } => common,
    };
    let config = load_config(common, Overrides::default())?;
    let data = DataDir::open(&config.data_dir).map_err(|e| e.to_string())?;
    let store = SledStore::open(&data.store_dir()).map_err(|e| {
        format!("{e}\nIf Tavla is running with this data directory, use the class page, or stop Tavla first.")
    })?;
    match &command {
        VpnCommand::Init { .. } => {
            let keys = offline::vpn_init(&store, &config.vpn).map_err(|e| e.to_string())?;
            println!(
                "The box is {} in the VPN; its public key is {}.",
                keys.address, keys.public_key
            );
        }
        VpnCommand::AddPupil { class, pupil, .. } => {
            let pupil = offline::find_pupil(&store, class, pupil)?;
            let names = ServerNames::of_this_machine(config.host_name.as_deref());
            let fallback = format!("{}:{}", names.host(), config.vpn.listen_port);
            let endpoint = config.vpn.endpoint.clone().unwrap_or(fallback);
            let now = SystemClock.now_ms();
            let issued = offline::vpn_give(&store, &config.vpn, &pupil, &endpoint, now)
                .map_err(|e| e.to_string())?;
            println!("{}", issued.config);
            if let Ok(code) = qrcode::QrCode::new(issued.config.as_bytes()) {
                println!(
                    "{}",
                    code.render::<qrcode::render::unicode::Dense1x2>()
                        .quiet_zone(true)
                        .build()
                );
            }
            println!("Give this to {} once; a new one replaces it.", pupil.name);
        }
        VpnCommand::RemovePupil { class, pupil, .. } => {
            let pupil = offline::find_pupil(&store, class, pupil)?;
            if !offline::vpn_take(&store, &pupil).map_err(|e| e.to_string())? {
                return Err(format!("{} has no VPN access", pupil.name));
            }
            println!(
                "{} no longer has VPN access; their sign-ins are ended.",
                pupil.name
            );
        }
        VpnCommand::List { .. } => {
            for (address, name) in offline::vpn_list(&store).map_err(|e| e.to_string())? {
                println!("{address}  {name}");
            }
        }
    }
    vpn::write_interface_file(&store, data.root())?;
    store.flush().map_err(|e| e.to_string())?;
    data.restrict_store_permissions()
        .map_err(|e| e.to_string())?;
    println!(
        "WireGuard interface: {}",
        vpn::interface_path(data.root()).display()
    );
    Ok(())
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

fn add_teacher(common: &CommonArgs, name: &str, password_stdin: bool) -> Result<(), String> {
    let config = load_config(common, Overrides::default())?;
    let data = DataDir::open(&config.data_dir).map_err(|e| e.to_string())?;
    let store = SledStore::open(&data.store_dir()).map_err(|e| {
        format!("{e}\nIf Tavla is running with this data directory, invite the teacher from the dashboard (Teachers → Invite) or stop Tavla first.")
    })?;
    let clock = SystemClock;
    if password_stdin {
        let mut password = String::new();
        std::io::stdin()
            .read_to_string(&mut password)
            .map_err(|e| e.to_string())?;
        let password = password.trim_end_matches(['\r', '\n']);
        let teacher =
            offline::add_teacher(&store, &clock, name, password).map_err(|e| e.to_string())?;
        println!("Added teacher {:?}.", teacher.name);
    } else {
        let token = offline::invite_teacher(&store, &clock, name).map_err(|e| e.to_string())?;
        let names = ServerNames::of_this_machine(config.host_name.as_deref());
        let base = crate::http::state::base_url(config.listen.ip(), config.listen.port(), &names);
        println!("Give {name} this one-time link (valid 7 days): {base}/setup?token={token}");
    }
    store.flush().map_err(|e| e.to_string())?;
    data.restrict_store_permissions()
        .map_err(|e| e.to_string())?;
    Ok(())
}
