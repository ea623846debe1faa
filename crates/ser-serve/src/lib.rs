//! `ser-serve`: the toolkit's local web page and JSON API.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | one self-contained page (no CDN): choose, drop or record audio, see the emotion |
//! | `POST /api/predict[?name=FILE&model=ID]` | body = the audio file's bytes (WAV, FLAC, MP3, Ogg); answers a JSON array with one object per model, each the object `ser-predict --json` prints |
//! | `GET /api/models` | the loaded models: id, name, features, classes, window |
//! | `GET /health` | `{"status": "ok", "models": N}` |
//!
//! Limits that keep it safe on a network: uploads above [`ServeOptions::max_upload_bytes`] get
//! 413; bodies that are not audio get 415 (unknown content type or content) or 400 (broken
//! audio), always with a JSON `{"error": ...}` saying why; a request that takes longer than
//! [`ServeOptions::timeout`] gets 503. Audio is decoded in memory: nothing is written to disk.
//! Predictions run on the blocking thread pool, so slow requests never stall the others;
//! each model keeps a pool of up to [`ServeOptions::workers`] loaded instances.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use ser_audio::{Audio, AudioError};
use ser_cli::{Model, predict};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The page served at `/`.
pub const PAGE: &str = include_str!("page.html");

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Largest accepted upload in bytes.
    pub max_upload_bytes: usize,
    /// Longest time one request may take.
    pub timeout: Duration,
    /// Seconds between analysis windows of long recordings.
    pub hop_s: f64,
    /// Loaded instances per model (concurrent predictions of one model).
    pub workers: usize,
}

impl Default for ServeOptions {
    /// 25 MB uploads (about 2.5 minutes of 16-bit 44.1 kHz stereo WAV), 30 s, 1 s hops, one
    /// instance per core.
    fn default() -> Self {
        ServeOptions {
            max_upload_bytes: 25 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            hop_s: 1.0,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// A loaded model and a pool of its instances.
#[derive(Debug)]
struct ModelPool {
    id: String,
    name: String,
    dir: PathBuf,
    description: Value,
    idle: Mutex<Vec<Model>>,
    permits: Semaphore,
}

impl ModelPool {
    fn load(dir: &Path, workers: usize) -> Result<ModelPool> {
        let model = Model::load(dir)?;
        if model.needs_speaker_reference() {
            anyhow::bail!(
                "{}: this model normalises per speaker (ser-train --speaker-norm) and needs \
                 reference recordings of each speaker, which the web page does not collect; \
                 serve a model trained without --speaker-norm",
                model.id()
            );
        }
        let info = &model.info;
        let name = dir
            .file_name()
            .map_or_else(|| model.id(), |n| n.to_string_lossy().into_owned());
        let description = json!({
            "id": model.id(),
            "name": name,
            "model": info.model,
            "features": format!("{}/{}", info.feature_set, preset_name(&model)),
            "protocol": info.protocol.name(),
            "classes": model.class_names(),
            "sample_rate_hz": model.sample_rate_hz(),
            "window_s": model.window_samples() as f64 / f64::from(model.sample_rate_hz()),
        });
        Ok(ModelPool {
            id: model.id(),
            name,
            dir: dir.to_owned(),
            description,
            idle: Mutex::new(vec![model]),
            permits: Semaphore::new(workers.max(1)),
        })
    }

    /// The `ser-predict --json` object of `audio` named `name`.
    async fn predict(&self, audio: Arc<Audio>, name: String, hop_s: f64) -> Result<Value> {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("server shutting down")?;
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        let dir = self.dir.clone();
        let (model, value) = tokio::task::spawn_blocking(move || -> Result<(Model, Value)> {
            let mut model = match idle {
                Some(m) => m,
                None => Model::load(&dir)?,
            };
            let result = predict::predict_audio(&mut model, &audio, hop_s);
            let names = model.class_names();
            let mut value = result?.to_json(&names);
            value["path"] = name.into();
            value["model"] = model.id().into();
            Ok((model, value))
        })
        .await
        .context("prediction task failed")??;
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(model);
        }
        Ok(value)
    }
}

fn preset_name(model: &Model) -> String {
    ser_cli::eval::preset_name(&model.info.feature_config).to_owned()
}

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    models: Vec<ModelPool>,
    options: ServeOptions,
}

impl AppState {
    /// Loads every model folder (at least one).
    pub fn load(dirs: &[PathBuf], options: ServeOptions) -> Result<AppState> {
        anyhow::ensure!(!dirs.is_empty(), "no model to serve");
        let models = dirs
            .iter()
            .map(|d| ModelPool::load(d, options.workers))
            .collect::<Result<Vec<_>>>()?;
        Ok(AppState { models, options })
    }

    /// The loaded models' descriptions, as `GET /api/models` gives them.
    pub fn models(&self) -> Vec<Value> {
        self.models.iter().map(|m| m.description.clone()).collect()
    }
}

/// The routes over a loaded state.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/health", get(health))
        .route("/api/models", get(models))
        .route("/api/predict", post(predict_handler))
        // The handler enforces the upload limit itself, with a JSON answer.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .context("server failed")
}

/// True for loopback addresses, the only ones bound without `--public`.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(json!({ "status": "ok", "models": state.models.len() })).into_response()
}

async fn models(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.models()).into_response()
}

#[derive(Debug, Deserialize)]
struct PredictQuery {
    /// File name to report (default `upload`).
    name: Option<String>,
    /// Restrict to one model: its id or name.
    model: Option<String>,
}

/// Statuses for audio the server cannot use: 415 when it is not (supported) audio at all, 400
/// when it is audio but broken.
fn audio_error_status(e: &AudioError) -> StatusCode {
    match e {
        AudioError::UnrecognisedFormat { .. }
        | AudioError::UnsupportedContainer { .. }
        | AudioError::UnsupportedCodec { .. }
        | AudioError::UnsupportedFormatTag { .. }
        | AudioError::UnsupportedSubFormat { .. }
        | AudioError::UnsupportedBitDepth { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    }
}

async fn predict_handler(
    State(state): State<Arc<AppState>>,
    Query(query): Query<PredictQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default();
        let base = ct.split(';').next().unwrap_or_default().trim();
        let base = base.to_ascii_lowercase();
        if !(base.starts_with("audio/") || base == "application/octet-stream" || base.is_empty()) {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "content type {ct:?} is not audio: send the file's bytes as audio/* or \
                     application/octet-stream"
                ),
            );
        }
    }
    let limit = state.options.max_upload_bytes;
    let too_large = |what: String| {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("upload of {what} exceeds the limit of {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = declared.filter(|&n| n > limit) {
        return too_large(format!("{n} bytes"));
    }
    // Bodies without a length are read up to the limit and refused beyond it.
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return too_large("more bytes".to_owned());
    };
    if body.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "empty body: send the audio file's bytes",
        );
    }
    let selected: Vec<&ModelPool> = match &query.model {
        None => state.models.iter().collect(),
        Some(m) => state
            .models
            .iter()
            .filter(|p| &p.id == m || &p.name == m)
            .collect(),
    };
    if selected.is_empty() {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "no loaded model is called {:?} (see /api/models)",
                query.model.unwrap_or_default()
            ),
        );
    }
    let name = query.name.unwrap_or_else(|| "upload".to_owned());
    let timeout = state.options.timeout;
    let hop_s = state.options.hop_s;
    let work = async {
        let source = name.clone();
        let audio = tokio::task::spawn_blocking(move || ser_audio::decode(&body, &source))
            .await
            .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(|e| error(audio_error_status(&e), e.to_string()))?;
        let audio = Arc::new(audio);
        let mut results = Vec::with_capacity(selected.len());
        for pool in selected {
            let value = pool
                .predict(audio.clone(), name.clone(), hop_s)
                .await
                .map_err(|e| error(StatusCode::BAD_REQUEST, format!("{e:#}")))?;
            results.push(value);
        }
        Ok::<_, Response>(axum::Json(Value::Array(results)).into_response())
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(response)) | Ok(Err(response)) => response,
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the prediction took longer than {} s",
                timeout.as_secs_f64()
            ),
        ),
    }
}
