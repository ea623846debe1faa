//! Standard output of the binaries without a panic when it is closed or full.
//!
//! `println!` panics ("failed printing to stdout", exit 101) when standard output is a closed
//! pipe (`| head -c0`) or a full device (`> /dev/full`). These functions write through the
//! locked handle instead and flush after every call, so a failure is seen at once: the first
//! error is kept, later output is dropped (the program's work, files included, goes on), and
//! [`finish`] returns the error for `main` to print as `error: ...` with a failure exit.

use std::fmt::Display;
use std::io::Write;
use std::sync::Mutex;

/// The first failed write to standard output, if any.
static FAILED: Mutex<Option<std::io::Error>> = Mutex::new(None);

/// Writes `text` to standard output (no newline added) and flushes it.
pub fn print(text: impl Display) {
    let mut failed = FAILED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if failed.is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = write!(out, "{text}").and_then(|()| out.flush()) {
        *failed = Some(e);
    }
}

/// Writes `text` and a newline to standard output (see [`print`]).
pub fn println(text: impl Display) {
    print(format_args!("{text}\n"));
}

/// The first write error of the run, as an error naming standard output.
pub fn finish() -> anyhow::Result<()> {
    let mut failed = FAILED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match failed.take() {
        Some(e) => Err(anyhow::Error::new(e).context("cannot write to standard output")),
        None => Ok(()),
    }
}

/// `println!` through [`println`]: never panics.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::stdout::println(format_args!($($arg)*))
    };
}

/// `print!` through [`print`]: never panics.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::print(format_args!($($arg)*))
    };
}
