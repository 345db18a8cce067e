fn main() -> std::process::ExitCode {
    ndr_doctor::run(std::env::args_os())
}
