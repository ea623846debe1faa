//! The small pieces std lacks that several ser crates share (in the spirit of rust-analyzer's
//! `stdx`): one implementation of each, with no dependencies, so that any crate of the
//! workspace can use them without pulling in audio, ML or plotting crates.
//!
//! * [`rng`]: [`SplitMix64`](rng::SplitMix64), the seeded generator behind every random
//!   choice (splits, augmentation, shuffling, forests, initialisation).
//! * [`fs`]: atomic file writes ([`write_atomic`](fs::write_atomic),
//!   [`AtomicFile`](fs::AtomicFile)): a temporary file in the same folder, synced and renamed.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod fs;
pub mod rng;
