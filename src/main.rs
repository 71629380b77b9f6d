//! The `stashhog` executable: everything happens in [`stashhog::app`].

fn main() -> std::process::ExitCode {
    stashhog::app::main()
}
