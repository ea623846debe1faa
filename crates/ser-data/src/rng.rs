//! The seeded generator of splits and augmentation: [`SplitMix64`] of `ser-stdx` (one
//! implementation for the whole workspace, golden-tested there).
//!
//! Streams are derived from a key (seed, purpose, utterance index, copy or epoch) with
//! [`SplitMix64::for_key`], so neighbouring keys give unrelated streams; integers are drawn
//! with the exactly uniform [`SplitMix64::below`] / [`SplitMix64::shuffle`].

pub use ser_stdx::rng::SplitMix64;
