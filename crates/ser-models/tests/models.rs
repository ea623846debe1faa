//! Shapes, persistence and configuration of every architecture.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

use burn::module::Module;
use burn::tensor::Device;
use burn::tensor::{Distribution, Tensor, TensorData, Tolerance};
use ser_models::{
    EmotionModel, MODEL_CONFIG_FILE, MODEL_WEIGHTS_FILE, ModelConfig, ModelError, ModelPreset,
    RecurrentCell, TemporalPooling, load_model, save_model,
};

const N_CLASSES: usize = 8;
const N_FRAMES: usize = 128;

#[test]
fn every_preset_outputs_batch_by_classes_logits() {
    let device = Device::flex();
    for preset in ModelPreset::ALL {
        for n_features in [174, 40] {
            let model = ModelConfig::preset(preset, n_features, N_CLASSES)
                .init(&device)
                .unwrap()
                .valid();
            assert_eq!(model.n_features(), n_features);
            assert_eq!(model.n_classes(), N_CLASSES);
            for batch in [1, 3] {
                let x = Tensor::<3>::random(
                    [batch, n_features, N_FRAMES],
                    Distribution::Default,
                    &device,
                );
                let logits = model.forward(x);
                assert_eq!(logits.dims(), [batch, N_CLASSES], "{preset} {n_features}");
                let values = logits.into_data().try_into_vec::<f32>().unwrap();
                assert!(values.iter().all(|v| v.is_finite()), "{preset}");
            }
        }
    }
}

#[test]
fn training_mode_forward_on_autodiff_device_has_the_same_shape() {
    let device = Device::flex().autodiff();
    for preset in [
        ModelPreset::Cnn,
        ModelPreset::Gru,
        ModelPreset::CnnLstmAttention,
    ] {
        let model = ModelConfig::preset(preset, 40, N_CLASSES)
            .init(&device)
            .unwrap();
        let x = Tensor::<3>::random([3, 40, 32], Distribution::Default, &device);
        assert_eq!(model.forward(x).dims(), [3, N_CLASSES]);
    }
}

#[test]
fn shortest_accepted_input_works_and_shorter_is_rejected() {
    let device = Device::flex();
    for preset in ModelPreset::ALL {
        let config = ModelConfig::preset(preset, 40, N_CLASSES);
        let model = config.init(&device).unwrap().valid();
        let min = model.min_frames();
        assert_eq!(min, config.min_frames());
        assert!(model.check_input(40, min).is_ok());
        let logits = model.forward(Tensor::zeros([2, 40, min], &device));
        assert_eq!(logits.dims(), [2, N_CLASSES]);
        if min > 1 {
            assert!(matches!(
                model.check_input(40, min - 1),
                Err(ModelError::InputShape { got_frames, .. }) if got_frames == min - 1
            ));
        }
        assert!(matches!(
            model.check_input(41, min),
            Err(ModelError::InputShape {
                expected_features: 40,
                got_features: 41,
                ..
            })
        ));
    }
}

/// Trains the batch-norm running statistics away from their initial values so the round trip
/// really covers them.
fn model_with_updated_running_stats(
    preset: ModelPreset,
    n_features: usize,
) -> ser_models::SerModel {
    let device = Device::flex().autodiff();
    let model = ModelConfig::preset(preset, n_features, N_CLASSES)
        .init(&device)
        .unwrap();
    for _ in 0..3 {
        let x = Tensor::<3>::random([4, n_features, 24], Distribution::Normal(2.0, 3.0), &device);
        let _ = model.forward(x);
    }
    model
}

#[test]
fn save_then_load_gives_identical_eval_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Device::flex();
    for preset in ModelPreset::ALL {
        let n_features = 40;
        let config = ModelConfig::preset(preset, n_features, N_CLASSES);
        let model = model_with_updated_running_stats(preset, n_features);
        let folder = dir.path().join(preset.name());
        save_model(&folder, &config, &model).unwrap();
        assert!(folder.join(MODEL_CONFIG_FILE).is_file());
        assert!(folder.join(MODEL_WEIGHTS_FILE).is_file());

        let (loaded_config, loaded) = load_model(&folder, &plain).unwrap();
        assert_eq!(loaded_config, config);

        let x = Tensor::<3>::random([3, n_features, 40], Distribution::Default, &plain);
        let expected = model.valid().forward(x.clone()).into_data();
        let got = loaded.valid().forward(x).into_data();
        got.assert_approx_eq::<f32>(&expected, Tolerance::absolute(0.0));
    }
}

#[test]
fn eval_mode_is_deterministic_and_training_mode_uses_dropout() {
    let device = Device::flex().autodiff();
    let model = ModelConfig::preset(ModelPreset::CnnLstmOriginal, 40, N_CLASSES)
        .init(&device)
        .unwrap();
    let x = Tensor::<3>::random([2, 40, 16], Distribution::Default, &device);
    let train_a = model.forward(x.clone()).into_data();
    let train_b = model.forward(x.clone()).into_data();
    assert_ne!(
        train_a, train_b,
        "dropout should make training passes differ"
    );

    let eval = model.valid();
    let x = x.inner();
    let eval_a = eval.forward(x.clone()).into_data();
    let eval_b = eval.forward(x).into_data();
    assert_eq!(eval_a, eval_b);
}

#[test]
fn loading_weights_of_another_architecture_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let lstm = ModelConfig::preset(ModelPreset::Lstm, 40, N_CLASSES);
    let model = lstm.init(&device).unwrap();
    save_model(dir.path(), &lstm, &model).unwrap();
    // Pretend the folder describes a GRU: same parameter names, different shapes.
    let gru = ModelConfig::preset(ModelPreset::Gru, 40, N_CLASSES);
    std::fs::write(dir.path().join(MODEL_CONFIG_FILE), gru.to_json().unwrap()).unwrap();
    let err = load_model(dir.path(), &device).unwrap_err();
    assert!(matches!(err, ModelError::Record { .. }), "{err}");
}

#[test]
fn corrupt_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let config = ModelConfig::preset(ModelPreset::Cnn, 40, N_CLASSES);
    let model = config.init(&device).unwrap();
    save_model(dir.path(), &config, &model).unwrap();

    let weights = dir.path().join(MODEL_WEIGHTS_FILE);
    std::fs::write(&weights, b"not a burnpack").unwrap();
    // The checksum saved beside the weights catches the replaced file first...
    assert!(matches!(
        load_model(dir.path(), &device),
        Err(ModelError::Checksum { .. })
    ));
    // ...and without one (a run saved before checksums) the decoder does.
    std::fs::remove_file(ser_models::checksum_path(&weights)).unwrap();
    assert!(matches!(
        load_model(dir.path(), &device),
        Err(ModelError::Record { .. })
    ));
    std::fs::write(
        dir.path().join(MODEL_CONFIG_FILE),
        b"{\"architecture\": \"nope\"}",
    )
    .unwrap();
    assert!(matches!(
        load_model(dir.path(), &device),
        Err(ModelError::ConfigJson { .. })
    ));
}

#[test]
fn configs_round_trip_through_json_with_an_architecture_tag() {
    for preset in ModelPreset::ALL {
        let config = ModelConfig::preset(preset, 174, N_CLASSES);
        let json = config.to_json().unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["architecture"], config.architecture());
        assert_eq!(ModelConfig::from_json(&json).unwrap(), config);
    }
}

#[test]
fn preset_names_parse_back() {
    for preset in ModelPreset::ALL {
        assert_eq!(preset.name().parse::<ModelPreset>().unwrap(), preset);
    }
    assert!("cnn-transformer".parse::<ModelPreset>().is_err());
}

#[test]
fn original_preset_matches_the_published_architecture() {
    let ModelConfig::CnnRecurrent(config) =
        ModelConfig::preset(ModelPreset::CnnLstmOriginal, 174, 8)
    else {
        panic!("cnn-lstm-original should be a cnn-recurrent model");
    };
    let blocks: Vec<_> = config
        .blocks
        .iter()
        .map(|b| (b.channels, b.kernel_size, b.stride, b.max_pool))
        .collect();
    assert_eq!(blocks, vec![(256, 5, 1, 1), (128, 5, 1, 1), (64, 3, 1, 1)]);
    assert_eq!(config.conv_dropout, 0.3);
    assert_eq!(config.cell, RecurrentCell::Lstm);
    assert_eq!((config.hidden, config.layers), (128, 2));
    assert_eq!(config.recurrent_dropout, 0.3);
    assert_eq!(config.pooling, TemporalPooling::Last);
    assert_eq!((config.fc_hidden, config.fc_dropout), (64, 0.3));

    // Parameter count of the Keras/PyTorch original (convs + BN affine + BiLSTM with two bias
    // vectors per gate block + FC layers).
    let conv = |c_in: usize, c_out: usize, k: usize| c_in * c_out * k + c_out + 2 * c_out;
    let lstm = |d_in: usize, h: usize| 2 * (4 * h * (d_in + h) + 8 * h);
    let expected = conv(174, 256, 5)
        + conv(256, 128, 5)
        + conv(128, 64, 3)
        + lstm(64, 128)
        + lstm(256, 128)
        + (256 * 64 + 64)
        + (64 * 8 + 8);
    let model = ModelConfig::CnnRecurrent(config)
        .init(&Device::flex())
        .unwrap();
    // `num_params` also counts the batch-norm running statistics (2 per channel).
    let running_stats = 2 * (256 + 128 + 64);
    assert_eq!(model.num_params(), expected + running_stats);
}

#[test]
fn invalid_configs_are_rejected_with_reasons() {
    let device = Device::flex();
    let bad = [
        ModelConfig::preset(ModelPreset::Cnn, 0, 8),
        ModelConfig::preset(ModelPreset::Lstm, 40, 1),
        match ModelConfig::preset(ModelPreset::Cnn, 40, 8) {
            ModelConfig::Cnn(config) => {
                ModelConfig::Cnn(config.with_pooling(TemporalPooling::Last))
            }
            other => other,
        },
        match ModelConfig::preset(ModelPreset::CnnLstmOriginal, 40, 8) {
            ModelConfig::CnnRecurrent(config) => {
                ModelConfig::CnnRecurrent(config.with_conv_dropout(1.5))
            }
            other => other,
        },
    ];
    for config in bad {
        let err = config.init(&device).unwrap_err();
        assert!(matches!(err, ModelError::InvalidConfig { .. }), "{err}");
    }
}

#[test]
fn batch_items_do_not_influence_each_other_in_eval_mode() {
    let device = Device::flex();
    for preset in [
        ModelPreset::Cnn,
        ModelPreset::Rnn,
        ModelPreset::CnnLstmAttention,
    ] {
        let model = ModelConfig::preset(preset, 40, N_CLASSES)
            .init(&device)
            .unwrap()
            .valid();
        let x = Tensor::<3>::random([3, 40, 20], Distribution::Default, &device);
        let all = model.forward(x.clone()).narrow(0, 2, 1).into_data();
        let single = model.forward(x.narrow(0, 2, 1)).into_data();
        single.assert_approx_eq::<f32>(&all, Tolerance::absolute(1e-5));
        let _: TensorData = single;
    }
}
