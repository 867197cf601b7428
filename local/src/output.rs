//! What the commands print. A write to stdout fails once its reader has gone (`dashboard show |
//! head`): [`outln!`] returns that error instead of panicking like `println!`, so it travels up like
//! any other and the command still closes what it opened (the cluster it started); `main` then ends
//! quietly, with success, as `cat` or `ripgrep` do when nobody reads any more.

/// `println!` that returns the write's `io::Result` instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// `eprintln!` that returns the write's `io::Result` instead of panicking.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stderr().lock(), $($arg)*)
    }};
}

pub(crate) use {errln, outln};

/// Whether `error` is, or was caused by, a write into a pipe nobody reads.
pub fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
