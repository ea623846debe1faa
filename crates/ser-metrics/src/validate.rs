//! Input validation shared by the public entry points.

use crate::error::{MetricsError, Result};

/// Checks that `y_true` and `y_pred` are non-empty, equally long and in `0..n_classes`.
pub(crate) fn check_labels(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<()> {
    if n_classes < 2 {
        return Err(MetricsError::TooFewClasses { n_classes });
    }
    if y_true.len() != y_pred.len() {
        return Err(MetricsError::LengthMismatch {
            left: "y_true",
            left_len: y_true.len(),
            right: "y_pred",
            right_len: y_pred.len(),
        });
    }
    if y_true.is_empty() {
        return Err(MetricsError::Empty { input: "y_true" });
    }
    check_range("y_true", y_true, n_classes)?;
    check_range("y_pred", y_pred, n_classes)
}

/// Checks that every label of `labels` is in `0..n_classes`.
pub(crate) fn check_range(input: &'static str, labels: &[usize], n_classes: usize) -> Result<()> {
    match labels.iter().position(|&l| l >= n_classes) {
        Some(index) => Err(MetricsError::LabelOutOfRange {
            input,
            index,
            label: labels[index],
            n_classes,
        }),
        None => Ok(()),
    }
}

/// Copies class names, rejecting fewer than two classes and duplicates.
pub(crate) fn class_names<S: AsRef<str>>(names: &[S]) -> Result<Vec<String>> {
    if names.len() < 2 {
        return Err(MetricsError::TooFewClasses {
            n_classes: names.len(),
        });
    }
    let owned: Vec<String> = names.iter().map(|n| n.as_ref().to_owned()).collect();
    for (second, name) in owned.iter().enumerate() {
        if let Some(first) = owned[..second].iter().position(|n| n == name) {
            return Err(MetricsError::DuplicateClassName {
                name: name.clone(),
                first,
                second,
            });
        }
    }
    Ok(owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_checks() {
        assert!(check_labels(&[0, 1], &[1, 1], 2).is_ok());
        assert_eq!(
            check_labels(&[0, 1, 2], &[1, 1], 3),
            Err(MetricsError::LengthMismatch {
                left: "y_true",
                left_len: 3,
                right: "y_pred",
                right_len: 2
            })
        );
        assert_eq!(
            check_labels(&[], &[], 3),
            Err(MetricsError::Empty { input: "y_true" })
        );
        assert_eq!(
            check_labels(&[0, 1], &[1, 5], 3),
            Err(MetricsError::LabelOutOfRange {
                input: "y_pred",
                index: 1,
                label: 5,
                n_classes: 3
            })
        );
        assert_eq!(
            check_labels(&[3], &[0], 3),
            Err(MetricsError::LabelOutOfRange {
                input: "y_true",
                index: 0,
                label: 3,
                n_classes: 3
            })
        );
        assert_eq!(
            check_labels(&[0], &[0], 1),
            Err(MetricsError::TooFewClasses { n_classes: 1 })
        );
    }

    #[test]
    fn name_checks() {
        assert_eq!(class_names(&["a", "b"]).unwrap(), ["a", "b"]);
        assert_eq!(
            class_names(&["a"]),
            Err(MetricsError::TooFewClasses { n_classes: 1 })
        );
        assert_eq!(
            class_names(&["a", "b", "a"]),
            Err(MetricsError::DuplicateClassName {
                name: "a".into(),
                first: 0,
                second: 2
            })
        );
    }
}
