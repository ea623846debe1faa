//! In-memory datasets of fixed-size feature matrices, device-resident batching and the seeded
//! shuffling RNG.

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::TrainError;

/// One labelled feature matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Row-major `[n_features x n_frames]` values (feature row by feature row).
    pub features: Vec<f32>,
    /// Class index.
    pub label: usize,
}

/// A labelled set of feature matrices of one shape, stored contiguously
/// (`[n_items, n_features, n_frames]`, row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    n_features: usize,
    n_frames: usize,
    values: Vec<f32>,
    labels: Vec<usize>,
}

impl Dataset {
    /// Collects `examples` of `n_features x n_frames` values each. `split` names the dataset in
    /// errors (`train`, `val`, ...).
    pub fn new(
        split: &str,
        n_features: usize,
        n_frames: usize,
        examples: Vec<Example>,
    ) -> Result<Self, TrainError> {
        let item_len = n_features * n_frames;
        let mut values = Vec::with_capacity(examples.len() * item_len);
        let mut labels = Vec::with_capacity(examples.len());
        for (index, example) in examples.into_iter().enumerate() {
            check_item(split, index, &example.features, n_features, n_frames)?;
            values.extend_from_slice(&example.features);
            labels.push(example.label);
        }
        Ok(Self {
            n_features,
            n_frames,
            values,
            labels,
        })
    }

    /// Builds a dataset from values already laid out as `[n_items, n_features, n_frames]`.
    pub fn from_parts(
        split: &str,
        n_features: usize,
        n_frames: usize,
        values: Vec<f32>,
        labels: Vec<usize>,
    ) -> Result<Self, TrainError> {
        let item_len = n_features * n_frames;
        if item_len == 0 || values.len() != labels.len() * item_len {
            return Err(TrainError::ItemShape {
                split: split.to_owned(),
                index: 0,
                got_values: if labels.is_empty() {
                    values.len()
                } else {
                    values.len() / labels.len()
                },
                n_features,
                n_frames,
            });
        }
        for (index, item) in values.chunks_exact(item_len).enumerate() {
            check_item(split, index, item, n_features, n_frames)?;
        }
        Ok(Self {
            n_features,
            n_frames,
            values,
            labels,
        })
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Feature rows per item.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Frames per item.
    pub fn n_frames(&self) -> usize {
        self.n_frames
    }

    /// Labels, in item order.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Values of item `index` (`[n_features x n_frames]`, row-major), if it exists.
    pub fn item(&self, index: usize) -> Option<&[f32]> {
        let len = self.n_features * self.n_frames;
        self.values.get(index * len..(index + 1) * len)
    }

    /// Checks the labels against `n_classes`; `split` names the dataset in errors.
    pub(crate) fn check_labels(&self, split: &str, n_classes: usize) -> Result<(), TrainError> {
        match self.labels.iter().position(|&label| label >= n_classes) {
            Some(index) => Err(TrainError::LabelOutOfRange {
                split: split.to_owned(),
                index,
                label: self.labels[index],
                n_classes,
            }),
            None => Ok(()),
        }
    }

    /// A cheap content hash (shape, labels and every value's bits), to recognise the data of a
    /// run being resumed.
    pub fn fingerprint(&self) -> DataFingerprint {
        let mut hash = Fnv64::new();
        hash.write_u64(self.n_features as u64);
        hash.write_u64(self.n_frames as u64);
        for &label in &self.labels {
            hash.write_u64(label as u64);
        }
        for value in &self.values {
            hash.write_u64(u64::from(value.to_bits()));
        }
        DataFingerprint {
            n_items: self.len(),
            n_features: self.n_features,
            n_frames: self.n_frames,
            hash: format!("{:016x}", hash.finish()),
        }
    }

    /// Uploads the whole dataset to `device` once; batches are then gathered on the device.
    pub(crate) fn to_device(&self, device: &Device) -> DeviceDataset {
        let n = self.len();
        let features = Tensor::<3>::from_data(
            TensorData::new(self.values.clone(), [n, self.n_features, self.n_frames]),
            device,
        );
        let labels: Vec<i64> = self.labels.iter().map(|&label| label as i64).collect();
        let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [n]), device);
        DeviceDataset {
            features,
            labels,
            device: device.clone(),
        }
    }
}

fn check_item(
    split: &str,
    index: usize,
    values: &[f32],
    n_features: usize,
    n_frames: usize,
) -> Result<(), TrainError> {
    if n_features == 0 || n_frames == 0 || values.len() != n_features * n_frames {
        return Err(TrainError::ItemShape {
            split: split.to_owned(),
            index,
            got_values: values.len(),
            n_features,
            n_frames,
        });
    }
    match values.iter().position(|value| !value.is_finite()) {
        Some(position) => Err(TrainError::NonFiniteFeature {
            split: split.to_owned(),
            index,
            position,
            value: values[position],
        }),
        None => Ok(()),
    }
}

/// A dataset's identity for resume checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Number of items.
    pub n_items: usize,
    /// Feature rows per item.
    pub n_features: usize,
    /// Frames per item.
    pub n_frames: usize,
    /// 64-bit FNV-1a hash of shape, labels and values, in hex.
    pub hash: String,
}

/// A dataset resident on a device.
#[derive(Debug, Clone)]
pub(crate) struct DeviceDataset {
    features: Tensor<3>,
    labels: Tensor<1, Int>,
    device: Device,
}

impl DeviceDataset {
    /// Gathers the items `indices` as `([batch, n_features, n_frames], [batch])`.
    pub(crate) fn batch(&self, indices: &[usize]) -> (Tensor<3>, Tensor<1, Int>) {
        let index: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let index =
            Tensor::<1, Int>::from_data(TensorData::new(index, [indices.len()]), &self.device);
        (
            self.features.clone().select(0, index.clone()),
            self.labels.clone().select(0, index),
        )
    }
}

/// 64-bit FNV-1a over 64-bit words.
struct Fnv64(u64);

impl Fnv64 {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn write_u64(&mut self, word: u64) {
        for byte in word.to_le_bytes() {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The seeded generator for shuffling and for deriving per-epoch seeds (not cryptographic).
/// The trainer draws with its multiply-shift methods (`shuffle_multiply_shift`), the numbers
/// every run so far was made with.
pub(crate) use ser_stdx::rng::SplitMix64;

/// The seed for stream `stream` (e.g. an epoch number) of a run seeded with `seed`.
pub(crate) fn derive_seed(seed: u64, stream: u64) -> u64 {
    SplitMix64::new(seed ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03)).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(n: usize, label: usize, value: f32) -> Example {
        Example {
            features: vec![value; n],
            label,
        }
    }

    #[test]
    fn new_rejects_wrong_lengths_and_non_finite_values() {
        let err =
            Dataset::new("train", 2, 3, vec![example(6, 0, 1.0), example(5, 1, 1.0)]).unwrap_err();
        assert!(matches!(
            err,
            TrainError::ItemShape {
                index: 1,
                got_values: 5,
                ..
            }
        ));
        let mut bad = example(6, 0, 1.0);
        bad.features[4] = f32::NAN;
        let err = Dataset::new("val", 2, 3, vec![bad]).unwrap_err();
        assert!(matches!(
            err,
            TrainError::NonFiniteFeature {
                index: 0,
                position: 4,
                ..
            }
        ));
    }

    #[test]
    fn items_and_labels_keep_their_order() {
        let data =
            Dataset::new("train", 1, 2, vec![example(2, 3, 1.0), example(2, 0, 2.0)]).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data.labels(), &[3, 0]);
        assert_eq!(data.item(1), Some(&[2.0, 2.0][..]));
        assert_eq!(data.item(2), None);
        assert!(data.check_labels("train", 4).is_ok());
        assert!(matches!(
            data.check_labels("train", 3),
            Err(TrainError::LabelOutOfRange {
                index: 0,
                label: 3,
                ..
            })
        ));
    }

    #[test]
    fn from_parts_matches_new() {
        let a = Dataset::new("x", 1, 2, vec![example(2, 1, 1.0), example(2, 0, 2.0)]).unwrap();
        let b = Dataset::from_parts("x", 1, 2, vec![1.0, 1.0, 2.0, 2.0], vec![1, 0]).unwrap();
        assert_eq!(a, b);
        assert!(Dataset::from_parts("x", 1, 2, vec![1.0; 3], vec![1, 0]).is_err());
    }

    #[test]
    fn fingerprint_changes_with_any_value_or_label() {
        let base = Dataset::from_parts("x", 1, 2, vec![1.0, 2.0, 3.0, 4.0], vec![0, 1]).unwrap();
        let other_value =
            Dataset::from_parts("x", 1, 2, vec![1.0, 2.0, 3.0, 4.5], vec![0, 1]).unwrap();
        let other_label =
            Dataset::from_parts("x", 1, 2, vec![1.0, 2.0, 3.0, 4.0], vec![1, 1]).unwrap();
        assert_eq!(base.fingerprint(), base.clone().fingerprint());
        assert_ne!(base.fingerprint(), other_value.fingerprint());
        assert_ne!(base.fingerprint(), other_label.fingerprint());
    }

    #[test]
    fn device_batches_gather_the_requested_items() {
        let data =
            Dataset::from_parts("x", 1, 2, vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5], vec![7, 8, 9])
                .unwrap();
        let on_device = data.to_device(&Device::flex());
        let (x, y) = on_device.batch(&[2, 0]);
        assert_eq!(x.dims(), [2, 1, 2]);
        assert_eq!(
            x.into_data().try_into_vec::<f32>().unwrap(),
            vec![2.0, 2.5, 0.0, 0.5]
        );
        assert_eq!(y.into_data().try_into_vec_as::<i64>().unwrap(), vec![9, 7]);
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<usize> = (0..100).collect();
        let mut b = a.clone();
        SplitMix64::new(5).shuffle_multiply_shift(&mut a);
        SplitMix64::new(5).shuffle_multiply_shift(&mut b);
        assert_eq!(a, b);
        let mut c: Vec<usize> = (0..100).collect();
        SplitMix64::new(6).shuffle_multiply_shift(&mut c);
        assert_ne!(a, c);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(derive_seed(1, 1), derive_seed(1, 2));
        assert_ne!(derive_seed(1, 1), derive_seed(2, 1));
    }
}
