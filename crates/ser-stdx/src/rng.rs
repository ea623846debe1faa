//! A small deterministic PRNG: SplitMix64 (Steele, Lea & Flood 2014, the seeding generator of
//! `java.util.SplittableRandom` and of the xoshiro family).
//!
//! It is 64 bits of state, passes BigCrush, and is entirely specified here, so augmentation and
//! random splits are a pure function of their keys on every platform and every version of the
//! dependencies (a property `rand`'s `StdRng` does not promise across releases).
//!
//! Streams are derived from a key (seed, purpose, utterance index, copy or epoch) by hashing it
//! with the SplitMix64 finaliser, so neighbouring keys give unrelated streams.
//!
//! Two ways of drawing an integer below `n` are kept, because published figures depend on
//! each: [`SplitMix64::below`] / [`SplitMix64::shuffle`] (Lemire's method with rejection,
//! exactly uniform; used by `ser-data`'s splits and augmentation) and
//! [`SplitMix64::below_multiply_shift`] / [`SplitMix64::shuffle_multiply_shift`] (the same
//! multiply-shift without the rejection step, bias below `n / 2^64`; used by `ser-classic`'s
//! models and `ser-trainer`'s batch order). They give the same number except when the
//! rejection step fires (probability below `n / 2^64` per draw), so neither may replace the
//! other without re-running the figures that depend on it.

/// The SplitMix64 increment (the golden ratio in 64-bit fixed point).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function (a bijective 64-bit mixer).
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64 generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// An independent-looking stream for `(seed, stream)` (a tree, a fold, a network of an
    /// ensemble): the state is `mix64(seed ^ GAMMA) ^ mix64(stream + GAMMA)`. This is not
    /// [`SplitMix64::for_key`]`(seed, &[stream])`; the classical models' streams use it.
    pub fn for_stream(seed: u64, stream: u64) -> SplitMix64 {
        SplitMix64 {
            state: mix64(seed ^ GOLDEN_GAMMA) ^ mix64(stream.wrapping_add(GOLDEN_GAMMA)),
        }
    }

    /// A generator for a key: `seed` and any number of further parts (purpose tag, utterance
    /// index, copy or epoch index). Different keys give independent-looking streams.
    pub fn for_key(seed: u64, parts: &[u64]) -> SplitMix64 {
        let mut h = mix64(seed ^ GOLDEN_GAMMA);
        for (i, &p) in parts.iter().enumerate() {
            // Position-dependent so that (a, b) and (b, a) differ.
            let salt = (i as u64 + 1).wrapping_mul(GOLDEN_GAMMA);
            h = mix64(h ^ mix64(p.wrapping_add(salt)));
        }
        SplitMix64 { state: h }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)` (returns `lo` when `hi <= lo`).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        if hi <= lo {
            lo
        } else {
            lo + (hi - lo) * self.next_f64()
        }
    }

    /// Uniform integer in `0..n` (0 when `n == 0`), without modulo bias (Lemire's method with
    /// rejection).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            // Low 64 bits of the product, then the high 64 bits (both fit by construction).
            let low = m as u64;
            if low >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Integer in `0..n` by Lemire's multiply-shift without rejection (`n > 0`; 0 for `n == 0`):
    /// the high 64 bits of `next_u64() * n`. Its bias is below `n / 2^64`. See the module
    /// documentation for when to use it rather than [`SplitMix64::below`].
    pub fn below_multiply_shift(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform integer in `lo..=hi` (inclusive; `lo` when `hi <= lo`).
    pub fn range_inclusive(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.abs_diff(lo).saturating_add(1);
        lo.wrapping_add(self.below(span) as i64)
    }

    /// True with probability `p` (never for `p <= 0`, always for `p >= 1`).
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// Standard normal deviate (Box-Muller, one of the pair).
    pub fn normal(&mut self) -> f64 {
        // 1 - u is in (0, 1], so the log is finite.
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Fisher-Yates shuffle, drawing with [`SplitMix64::below`].
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// Fisher-Yates shuffle, drawing with [`SplitMix64::below_multiply_shift`].
    pub fn shuffle_multiply_shift<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below_multiply_shift(i + 1);
            items.swap(i, j);
        }
    }

    /// A uniformly chosen element (None for an empty slice).
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_splitmix64() {
        // SplitMix64 seeded with 1234567: the published reference sequence (also checked with an
        // independent Python transcription of the reference C code).
        let mut r = SplitMix64::new(1_234_567);
        let expected = [
            6_457_827_717_110_365_317_u64,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
            4_593_380_528_125_082_431,
            16_408_922_859_458_223_821,
        ];
        for e in expected {
            assert_eq!(r.next_u64(), e);
        }
    }

    #[test]
    fn keys_give_distinct_reproducible_streams() {
        let a1 = SplitMix64::for_key(7, &[1, 2]).next_u64();
        let a2 = SplitMix64::for_key(7, &[1, 2]).next_u64();
        let b = SplitMix64::for_key(7, &[2, 1]).next_u64();
        let c = SplitMix64::for_key(8, &[1, 2]).next_u64();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, c);
    }

    #[test]
    fn ranges_and_moments() {
        let mut r = SplitMix64::new(42);
        let n = 20_000;
        let mut sum = 0.0;
        let mut sum_sq = 0.0;
        for _ in 0..n {
            let x = r.normal();
            sum += x;
            sum_sq += x * x;
            let k = r.range_inclusive(-3, 3);
            assert!((-3..=3).contains(&k));
            let u = r.uniform(2.0, 5.0);
            assert!((2.0..5.0).contains(&u));
            assert!(r.below(10) < 10);
        }
        let mean = sum / n as f64;
        let var = sum_sq / n as f64 - mean * mean;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "var {var}");
        assert_eq!(r.below(0), 0);
        assert_eq!(r.range_inclusive(5, 5), 5);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: Vec<u32> = (0..100).collect();
        SplitMix64::new(3).shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(v, sorted);
    }

    // Golden values: the first outputs of each constructor and method, computed with the three
    // implementations this one replaced (ser-data's `rng.rs`, ser-classic's `samples.rs`,
    // ser-trainer's `data.rs`) before they were deleted. A change here moves published figures.

    #[test]
    fn golden_new_and_for_key_streams() {
        let take = |mut r: SplitMix64, n: usize| (0..n).map(|_| r.next_u64()).collect::<Vec<_>>();
        assert_eq!(
            take(SplitMix64::new(42), 3),
            [
                13_679_457_532_755_275_413,
                2_949_826_092_126_892_291,
                5_139_283_748_462_763_858
            ]
        );
        assert_eq!(
            take(SplitMix64::for_key(7, &[1, 2, 3]), 3),
            [
                7_838_330_894_086_247_956,
                17_140_780_118_707_225_403,
                18_309_731_622_475_648_308
            ]
        );
        assert_eq!(
            take(SplitMix64::for_key(7, &[]), 2),
            [9_048_807_721_209_015_062, 8_458_937_671_082_192_852]
        );
        // ser-trainer's `SplitMix64::new`.
        assert_eq!(
            take(SplitMix64::new(5), 3),
            [
                7_134_611_160_154_358_618,
                13_877_614_986_023_876_344,
                4_292_726_422_858_613_063
            ]
        );
        // ser-classic's `SplitMix64::for_stream`.
        assert_eq!(
            take(SplitMix64::for_stream(7, 1), 3),
            [
                4_626_852_571_372_329_720,
                8_897_122_797_772_755_997,
                12_074_311_757_379_339_477
            ]
        );
    }

    #[test]
    fn golden_draws_of_ser_data() {
        let mut r = SplitMix64::new(9);
        assert_eq!(r.next_f64().to_bits(), 4_604_321_396_663_242_252);
        assert_eq!(r.uniform(-2.0, 3.0).to_bits(), 4_610_575_766_118_885_112);
        assert_eq!(r.below(10), 2);
        assert_eq!(r.below(1 << 40), 862_911_780_503);
        assert_eq!(r.range_inclusive(-5, 5), -3);
        assert!(r.chance(0.5));
        assert_eq!(r.normal().to_bits(), 4_609_132_864_417_892_798);
        let mut v: Vec<u32> = (0..10).collect();
        SplitMix64::new(3).shuffle(&mut v);
        assert_eq!(v, [5, 7, 2, 8, 3, 9, 0, 4, 6, 1]);
        let items = [10, 20, 30, 40, 50];
        let mut r = SplitMix64::new(4);
        let chosen: Vec<i32> = (0..6).map(|_| *r.choose(&items).unwrap()).collect();
        assert_eq!(chosen, [30, 50, 50, 30, 20, 30]);
    }

    #[test]
    fn golden_multiply_shift_draws_of_ser_classic_and_ser_trainer() {
        let mut r = SplitMix64::for_stream(1, 0);
        let drawn: Vec<usize> = (0..6).map(|_| r.below_multiply_shift(7)).collect();
        assert_eq!(drawn, [1, 3, 1, 4, 2, 3]);
        let mut v: Vec<u32> = (0..10).collect();
        SplitMix64::for_stream(3, 2).shuffle_multiply_shift(&mut v);
        assert_eq!(v, [6, 8, 5, 0, 9, 7, 4, 1, 3, 2]);
        let mut r = SplitMix64::new(5);
        let drawn: Vec<usize> = (0..6).map(|_| r.below_multiply_shift(7)).collect();
        assert_eq!(drawn, [2, 5, 1, 0, 1, 2]);
        let mut v: Vec<u32> = (0..10).collect();
        SplitMix64::new(6).shuffle_multiply_shift(&mut v);
        assert_eq!(v, [1, 2, 5, 6, 8, 3, 9, 0, 4, 7]);
        assert_eq!(SplitMix64::new(1).below_multiply_shift(0), 0);
    }

    #[test]
    fn streams_of_for_stream_differ_by_stream_and_seed() {
        let first = |seed, stream| SplitMix64::for_stream(seed, stream).next_u64();
        assert_eq!(first(7, 1), first(7, 1));
        assert_ne!(first(7, 1), first(7, 2));
        assert_ne!(first(7, 1), first(8, 1));
        assert_ne!(first(7, 1), SplitMix64::for_key(7, &[1]).next_u64());
    }
}
