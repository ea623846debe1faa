//! Progress reporting: an indicatif bar on a terminal, plain periodic lines otherwise
//! (indicatif hides its bar when stderr is not a terminal, so logs would stay silent).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Plain-line reporting: at most every `PLAIN_STEP_PERCENT` percent or every `PLAIN_INTERVAL`.
const PLAIN_STEP_PERCENT: usize = 10;
const PLAIN_INTERVAL: Duration = Duration::from_secs(10);

/// Where progress goes.
#[derive(Debug)]
enum Sink {
    Off,
    Bar(ProgressBar),
    Plain { last_line: Mutex<(Instant, usize)> },
}

/// A thread-safe progress counter for `total` items.
#[derive(Debug)]
pub struct Progress {
    label: String,
    total: usize,
    done: AtomicUsize,
    start: Instant,
    sink: Sink,
}

impl Progress {
    /// A bar on a terminal, plain lines on a non-terminal stderr, nothing when `enabled` is
    /// false or `total` is 0.
    pub fn new(label: &str, total: usize, enabled: bool) -> Progress {
        let sink = if !enabled || total == 0 {
            Sink::Off
        } else if std::io::stderr().is_terminal() {
            let style =
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed}, eta {eta})")
                    .map(|s| s.progress_chars("=> "))
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            let bar = ProgressBar::new(total as u64).with_style(style);
            bar.set_message(label.to_owned());
            Sink::Bar(bar)
        } else {
            eprintln!("{label}: 0/{total}");
            Sink::Plain {
                last_line: Mutex::new((Instant::now(), 0)),
            }
        };
        Progress {
            label: label.to_owned(),
            total,
            done: AtomicUsize::new(0),
            start: Instant::now(),
            sink,
        }
    }

    /// One more item done.
    pub fn inc(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        match &self.sink {
            Sink::Off => {}
            Sink::Bar(bar) => bar.inc(1),
            Sink::Plain { last_line } => {
                let Ok(mut last) = last_line.lock() else {
                    return;
                };
                let pct = done * 100 / self.total;
                let due = pct >= last.1 + PLAIN_STEP_PERCENT || last.0.elapsed() >= PLAIN_INTERVAL;
                if due && done < self.total {
                    eprintln!(
                        "{}: {done}/{} ({pct}%, {:.1} s)",
                        self.label,
                        self.total,
                        self.start.elapsed().as_secs_f64()
                    );
                    *last = (Instant::now(), pct);
                }
            }
        }
    }

    /// Ends the report with a final line.
    pub fn finish(&self) {
        let elapsed = self.start.elapsed().as_secs_f64();
        match &self.sink {
            Sink::Off => {}
            Sink::Bar(bar) => {
                bar.finish_and_clear();
                eprintln!("{}: {} done in {elapsed:.1} s", self.label, self.total);
            }
            Sink::Plain { .. } => {
                eprintln!(
                    "{}: {}/{} done in {elapsed:.1} s",
                    self.label,
                    self.done.load(Ordering::Relaxed),
                    self.total
                );
            }
        }
    }
}
