fn main() -> std::process::ExitCode {
    tavla::cli::main()
}
