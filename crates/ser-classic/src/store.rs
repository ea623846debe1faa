//! The saved-model layout (format 2): the structure in a small JSON file, every large array in
//! a safetensors file beside it.
//!
//! Why: format 1 kept the arrays inside the JSON as base64 strings (or number lists), so every
//! prediction parsed a multi-megabyte JSON document, decoded base64 and converted values one by
//! one before the first sample could be scored, and no tool outside this crate could read the
//! weights. safetensors is a standard container (an 8-byte header length, a JSON header naming
//! each tensor's dtype, shape and byte range, then the raw little-endian bytes) that numpy,
//! PyTorch and `safetensors` in any language read directly, and loading it is a copy.
//!
//! The JSON keeps everything a reader needs to interpret the tensors (format version,
//! configuration, seed, shapes, scalars such as the SVM's `gamma` and offsets, training
//! epochs) and names each tensor where the array used to be (`"w1": "mlp.member.0.w1"`), so
//! the pair is self-describing. Arrays are stored at the precision the model holds them:
//! `f32` arrays whose every value is a half-precision number (the rounded SVM support vectors
//! and perceptron weights) as `F16`, exactly, other `f32` arrays as `F32`, `f64` as `F64`,
//! indices and labels as `U32`. [`TensorReader`] checks each tensor's dtype, shape and
//! finiteness before a model sees it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use half::f16;
use half::slice::HalfFloatSliceExt as _;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{ClassicError, Result};

/// Collects named arrays while a model is turned into its format-2 JSON, then serialises them.
#[derive(Debug, Default)]
pub(crate) struct TensorWriter {
    tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)>,
}

impl TensorWriter {
    fn push(&mut self, name: String, dtype: Dtype, shape: Vec<usize>, bytes: Vec<u8>) -> String {
        self.tensors.push((name.clone(), dtype, shape, bytes));
        name
    }

    /// Stores `values` as `F16` when every value is exactly a half-precision number, else as
    /// `F32` (both exact); returns the name.
    pub(crate) fn f32_compact(
        &mut self,
        name: String,
        shape: Vec<usize>,
        values: &[f32],
    ) -> String {
        let is_half = values
            .iter()
            .all(|&v| f16::from_f32(v).to_f32().to_bits() == v.to_bits());
        if is_half {
            let bytes = values
                .iter()
                .flat_map(|&v| f16::from_f32(v).to_le_bytes())
                .collect();
            self.push(name, Dtype::F16, shape, bytes)
        } else {
            self.f32(name, shape, values)
        }
    }

    /// Stores `values` as `F32`; returns the name.
    pub(crate) fn f32(&mut self, name: String, shape: Vec<usize>, values: &[f32]) -> String {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.push(name, Dtype::F32, shape, bytes)
    }

    /// Stores `values` as `F64`; returns the name.
    pub(crate) fn f64(&mut self, name: String, shape: Vec<usize>, values: &[f64]) -> String {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.push(name, Dtype::F64, shape, bytes)
    }

    /// Stores `values` as `U32`; returns the name.
    pub(crate) fn u32(&mut self, name: String, shape: Vec<usize>, values: &[u32]) -> String {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.push(name, Dtype::U32, shape, bytes)
    }

    /// The safetensors file of every array pushed, the one metadata entry `key: value` in its
    /// header. One: safetensors writes its metadata map in the map's iteration order, which
    /// `HashMap` randomises per process, so two entries would make the same model's bytes
    /// (and checksum) differ from one save to the next. The tensors themselves are written in
    /// a fixed order (by alignment, then name).
    ///
    /// # Errors
    /// [`ClassicError::Weights`] (a duplicate name, which would be a bug here) with `path`.
    pub(crate) fn to_bytes(&self, path: &Path, key: &str, value: &str) -> Result<Vec<u8>> {
        let metadata = HashMap::from([(key.to_owned(), value.to_owned())]);
        let views = self
            .tensors
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                TensorView::new(*dtype, shape.clone(), bytes).map(|view| (name.as_str(), view))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .and_then(|views| safetensors::serialize(views, Some(metadata)));
        views.map_err(|source| ClassicError::Weights {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// One dimension a tensor must have: a fixed size, or any.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Dim {
    /// Exactly this size.
    Is(usize),
    /// Any size (the count of support vectors, samples, nodes).
    Any,
}

/// Reads the arrays a format-2 JSON names out of its safetensors file, checking each.
pub(crate) struct TensorReader<'a> {
    tensors: SafeTensors<'a>,
    path: PathBuf,
}

impl<'a> TensorReader<'a> {
    /// Parses the header of `bytes`, the content of `path`.
    ///
    /// # Errors
    /// [`ClassicError::Weights`] when `bytes` is not a safetensors file.
    pub(crate) fn new(bytes: &'a [u8], path: &Path) -> Result<TensorReader<'a>> {
        let tensors = SafeTensors::deserialize(bytes).map_err(|source| ClassicError::Weights {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(TensorReader {
            tensors,
            path: path.to_path_buf(),
        })
    }

    /// The [`ClassicError::Tensor`] of tensor `name` of this file.
    pub(crate) fn error(&self, name: &str, reason: String) -> ClassicError {
        ClassicError::Tensor {
            path: self.path.clone(),
            name: name.to_owned(),
            reason,
        }
    }

    /// The tensor `name` with one of `dtypes` and the shape `shape`; returns its dtype, shape
    /// and bytes.
    fn view(
        &self,
        name: &str,
        dtypes: &[Dtype],
        shape: &[Dim],
    ) -> Result<(Dtype, Vec<usize>, &'a [u8])> {
        let view = self
            .tensors
            .tensor(name)
            .map_err(|_| self.error(name, "not in the weights file".to_owned()))?;
        if !dtypes.contains(&view.dtype()) {
            return Err(self.error(
                name,
                format!("dtype {:?}, expected one of {dtypes:?}", view.dtype()),
            ));
        }
        let fits = view.shape().len() == shape.len()
            && view.shape().iter().zip(shape).all(|(&n, dim)| match dim {
                Dim::Is(m) => n == *m,
                Dim::Any => true,
            });
        if !fits {
            return Err(self.error(
                name,
                format!("shape {:?}, expected {shape:?}", view.shape()),
            ));
        }
        Ok((view.dtype(), view.shape().to_vec(), view.data()))
    }

    fn finite<T: Copy + Into<f64>>(&self, name: &str, values: &[T]) -> Result<()> {
        match values.iter().position(|&v| !v.into().is_finite()) {
            None => Ok(()),
            Some(i) => Err(self.error(
                name,
                format!(
                    "value {i} of {} is {}, not a finite number",
                    values.len(),
                    values[i].into()
                ),
            )),
        }
    }

    /// An `F16` or `F32` tensor as `f32` values (half precision widened exactly), finite;
    /// returns the values and the shape.
    ///
    /// # Errors
    /// [`ClassicError::Tensor`] naming the tensor: missing, another dtype or shape, a
    /// non-finite value.
    pub(crate) fn f32(&self, name: &str, shape: &[Dim]) -> Result<(Vec<f32>, Vec<usize>)> {
        let (dtype, shape, bytes) = self.view(name, &[Dtype::F16, Dtype::F32], shape)?;
        let values = if dtype == Dtype::F16 {
            let halves: Vec<f16> = bytes
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]))
                .collect();
            let mut values = vec![0.0f32; halves.len()];
            // F16C when the CPU has it (runtime detection): the same exact widening.
            halves.convert_to_f32_slice(&mut values);
            values
        } else {
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        };
        self.finite(name, &values)?;
        Ok((values, shape))
    }

    /// An `F64` tensor, finite.
    ///
    /// # Errors
    /// As [`TensorReader::f32`].
    pub(crate) fn f64(&self, name: &str, shape: &[Dim]) -> Result<Vec<f64>> {
        let (_, _, bytes) = self.view(name, &[Dtype::F64], shape)?;
        let values: Vec<f64> = bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect();
        self.finite(name, &values)?;
        Ok(values)
    }

    /// A `U32` tensor; returns the values and the shape.
    ///
    /// # Errors
    /// As [`TensorReader::f32`] (without the finiteness check).
    pub(crate) fn u32(&self, name: &str, shape: &[Dim]) -> Result<(Vec<u32>, Vec<usize>)> {
        let (_, shape, bytes) = self.view(name, &[Dtype::U32], shape)?;
        let values = bytes
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok((values, shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_round_trip_at_their_precision() {
        let mut writer = TensorWriter::default();
        let halves = [0.5f32, -2.0, 1.0e-3_f32, 65504.0];
        let halves: Vec<f32> = halves.iter().map(|&v| f16::from_f32(v).to_f32()).collect();
        let singles = [0.1f32, 1.0, 2.0, 3.0];
        writer.f32_compact("h".into(), vec![2, 2], &halves);
        writer.f32_compact("s".into(), vec![4], &singles);
        writer.f64("d".into(), vec![2], &[0.1, -1e300]);
        writer.u32("u".into(), vec![3], &[0, 7, u32::MAX]);
        writer.f32("empty".into(), vec![0, 5], &[]);
        let path = Path::new("w.safetensors");
        let bytes = writer.to_bytes(path, "k", "v").unwrap();
        let reader = TensorReader::new(&bytes, path).unwrap();
        assert_eq!(reader.tensors.tensor("h").unwrap().dtype(), Dtype::F16);
        assert_eq!(reader.tensors.tensor("s").unwrap().dtype(), Dtype::F32);
        let (h, shape) = reader.f32("h", &[Dim::Is(2), Dim::Any]).unwrap();
        assert_eq!(shape, vec![2, 2]);
        assert!(
            h.iter()
                .zip(&halves)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert_eq!(reader.f32("s", &[Dim::Is(4)]).unwrap().0, singles);
        assert_eq!(reader.f64("d", &[Dim::Any]).unwrap(), vec![0.1, -1e300]);
        assert_eq!(
            reader.u32("u", &[Dim::Is(3)]).unwrap().0,
            vec![0, 7, u32::MAX]
        );
        assert!(
            reader
                .f32("empty", &[Dim::Any, Dim::Is(5)])
                .unwrap()
                .0
                .is_empty()
        );

        let message = |e: ClassicError| e.to_string();
        let err = message(reader.f32("h", &[Dim::Is(4)]).unwrap_err());
        assert!(
            err.contains("w.safetensors: tensor `h`: shape [2, 2]"),
            "{err}"
        );
        let err = message(reader.f64("s", &[Dim::Is(4)]).unwrap_err());
        assert!(err.contains("tensor `s`: dtype F32"), "{err}");
        let err = message(reader.u32("nope", &[Dim::Any]).unwrap_err());
        assert!(
            err.contains("tensor `nope`: not in the weights file"),
            "{err}"
        );
        assert!(matches!(
            TensorReader::new(b"not a safetensors file", path),
            Err(ClassicError::Weights { .. })
        ));
    }

    #[test]
    fn non_finite_values_are_refused() {
        let mut writer = TensorWriter::default();
        writer.f32("nan".into(), vec![3], &[0.0, f32::NAN, 1.0]);
        writer.f64("inf".into(), vec![1], &[f64::INFINITY]);
        let path = Path::new("w.safetensors");
        let bytes = writer.to_bytes(path, "k", "v").unwrap();
        let reader = TensorReader::new(&bytes, path).unwrap();
        let err = reader.f32("nan", &[Dim::Any]).unwrap_err().to_string();
        assert!(err.contains("value 1 of 3 is NaN"), "{err}");
        let err = reader.f64("inf", &[Dim::Any]).unwrap_err().to_string();
        assert!(err.contains("value 0 of 1 is inf"), "{err}");
    }
}
