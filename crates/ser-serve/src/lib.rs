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
//! 413, and so does audio longer than [`ServeOptions::max_duration_s`] (WAV, FLAC and AIFF are
//! measured from their headers, before anything is decoded; MP3, Ogg and FLAC without a
//! length are decoded only until they pass the limit, see [`ser_audio::decode_limited`]);
//! bodies that are not audio get 415 (unknown content type or content) or 400 (broken audio
//! or a malformed body), always with a JSON `{"error": ...}` saying why; a request that takes
//! longer than [`ServeOptions::timeout`] gets 503, and its model work is stopped within one
//! analysis window (as it is when the client goes away), freeing its worker. Slow clients cannot hold the server: request headers
//! must arrive within [`ServeOptions::header_timeout`] (else the connection is closed, idle
//! ones included) and the body within [`ServeOptions::body_timeout`] (else 408); at most
//! [`ServeOptions::max_connections`] connections are open at once, and a new one beyond that
//! closes the longest-open idle connection (or gets 503 when none is idle). Audio is decoded
//! in memory: nothing is written to disk. The decoded upload is held at its own rate (the
//! decoders return whole signals); each model's front end (band limit, resampling) runs over
//! it a chunk at a time, keeping only what the current analysis window needs, so the
//! resampled signal is never held whole (see [`predict::predict_audio_with`]). Predictions
//! run on the blocking thread pool, so slow requests never stall the others; each model keeps
//! a pool of up to [`ServeOptions::workers`] loaded instances.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use ser_audio::{Audio, AudioError};
use ser_run::{ErrorKind, Model, RunError, predict};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// The page served at `/`.
pub const PAGE: &str = include_str!("page.html");

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Largest accepted upload in bytes.
    pub max_upload_bytes: usize,
    /// Longest time one request may take (503 after it; its model work is then stopped).
    pub timeout: Duration,
    /// Seconds between analysis windows of long recordings (at least
    /// [`ser_run::predict::MIN_HOP_S`]).
    pub hop_s: f64,
    /// Loaded instances per model (concurrent predictions of one model).
    pub workers: usize,
    /// Longest accepted audio, in seconds of sound (the decoded upload, held at its own rate,
    /// grows with it).
    pub max_duration_s: f64,
    /// Longest wait for a request's headers, from the connection's start or the previous
    /// response; the connection is closed after it.
    pub header_timeout: Duration,
    /// Longest wait for a request's whole body once its headers arrived (408 after it).
    pub body_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

impl Default for ServeOptions {
    /// 25 MiB uploads (about 2.5 minutes of 16-bit 44.1 kHz stereo WAV), 30 s, 1 s hops, one
    /// instance per core, 600 s of audio, 10 s for headers, 30 s for a body, 256 connections.
    fn default() -> Self {
        ServeOptions {
            max_upload_bytes: 25 * MIB,
            timeout: Duration::from_secs(30),
            hop_s: 1.0,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_duration_s: 600.0,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 256,
        }
    }
}

/// One mebibyte (the unit of `--max-upload-mb`).
pub const MIB: usize = 1024 * 1024;

/// A loaded model and a pool of its instances.
#[derive(Debug)]
struct ModelPool {
    id: String,
    name: String,
    dir: PathBuf,
    description: Value,
    /// Loaded instances not in use.
    idle: Arc<Mutex<Vec<Model>>>,
    /// One per instance at work; held by the blocking task itself, so that work whose request
    /// gave up still counts until it has stopped.
    permits: Arc<Semaphore>,
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
            idle: Arc::new(Mutex::new(vec![model])),
            permits: Arc::new(Semaphore::new(workers.max(1))),
        })
    }

    /// The `ser-predict --json` object of `audio` named `name`.
    ///
    /// The work runs on the blocking pool and stops within one analysis window once `cancel`
    /// is set (the request timed out or its client left); its instance then returns to the
    /// pool and its permit is freed.
    async fn predict(
        &self,
        audio: Arc<Audio>,
        name: String,
        hop_s: f64,
        cancel: Arc<AtomicBool>,
    ) -> Result<Value, Response> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| {
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down",
            )
        })?;
        let idle = self.idle.clone();
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || -> Result<Value, RunError> {
            let _permit = permit;
            let instance = idle.lock().ok().and_then(|mut v| v.pop());
            let mut model = match instance {
                Some(m) => m,
                None => Model::load(&dir)?,
            };
            let result = predict::predict_audio_with(&mut model, &audio, hop_s, &cancel);
            let value = result.map(|prediction| {
                let mut value = prediction.to_json(&model.class_names());
                value["path"] = name.into();
                value["model"] = model.id().into();
                value
            });
            // A failed or cancelled prediction leaves the instance as it was.
            if let Ok(mut idle) = idle.lock() {
                idle.push(model);
            }
            value
        })
        .await
        .map_err(|e| {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the prediction task failed: {e}"),
            )
        })?
        .map_err(|e| run_error(&e))
    }
}

fn preset_name(model: &Model) -> String {
    ser_run::eval::preset_name(&model.info.feature_config).to_owned()
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
        anyhow::ensure!(
            options.hop_s.is_finite() && options.hop_s >= predict::MIN_HOP_S,
            "a hop of {} s between analysis windows: must be at least {} s",
            options.hop_s,
            predict::MIN_HOP_S
        );
        anyhow::ensure!(
            options.max_duration_s.is_finite() && options.max_duration_s > 0.0,
            "a maximum duration of {} s: must be a positive number of seconds",
            options.max_duration_s
        );
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

/// Serves `state` on `listener` until `shutdown` completes, then lets open requests finish
/// (for up to [`ServeOptions::timeout`]).
///
/// Each connection is served by hyper with a header read timeout
/// ([`ServeOptions::header_timeout`]); at most [`ServeOptions::max_connections`] are open at
/// once. A connection beyond the limit closes the longest-open idle connection (one with no
/// request in progress: a keep-alive client, or one that has not sent complete headers) to
/// take its place, or is answered 503 when every connection is busy; so a flood of idle
/// connections neither exhausts file descriptors nor keeps `/health` from answering.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let options = state.options.clone();
    let app = router(state);
    let connections = Arc::new(Connections::new(options.max_connections));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, or a connection reset before it was accepted: the
                // listener stays usable; retry shortly rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        match connections.admit().await {
            Some(slot) => {
                tokio::spawn(serve_connection(
                    stream,
                    app.clone(),
                    slot,
                    options.header_timeout,
                    stop_rx.clone(),
                ));
            }
            None => {
                tokio::spawn(refuse_connection(stream));
            }
        }
    }
    let _ = stop_tx.send(true);
    // Graceful: idle connections close at once, busy ones after their response.
    let all = u32::try_from(options.max_connections.max(1)).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(
        options.timeout + options.body_timeout,
        connections.permits.acquire_many(all),
    )
    .await;
    Ok(())
}

/// The open connections: a permit each, and which of them are idle.
#[derive(Debug)]
struct Connections {
    permits: Arc<Semaphore>,
    /// Open connections by accept order.
    live: Mutex<BTreeMap<u64, Arc<ConnectionState>>>,
    next_id: AtomicU64,
}

#[derive(Debug, Default)]
struct ConnectionState {
    /// Requests in progress.
    active: AtomicUsize,
    /// Asks the connection to close (to make room for a new one).
    evict: Notify,
}

/// An admitted connection's place; freed when dropped.
#[derive(Debug)]
struct Slot {
    _permit: OwnedSemaphorePermit,
    id: u64,
    state: Arc<ConnectionState>,
    connections: Arc<Connections>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut live) = self.connections.live.lock() {
            live.remove(&self.id);
        }
    }
}

impl Connections {
    fn new(max: usize) -> Self {
        Connections {
            permits: Arc::new(Semaphore::new(max.max(1))),
            live: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(0),
        }
    }

    /// A place for a new connection: a free one, or that of the longest-open idle
    /// connection, which is asked to close; `None` when every connection is busy.
    async fn admit(self: &Arc<Self>) -> Option<Slot> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let victim = self.live.lock().ok().and_then(|live| {
                    live.values()
                        .find(|c| c.active.load(Ordering::SeqCst) == 0)
                        .cloned()
                })?;
                victim.evict.notify_one();
                tokio::time::timeout(Duration::from_secs(1), self.permits.clone().acquire_owned())
                    .await
                    .ok()?
                    .ok()?
            }
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(ConnectionState::default());
        if let Ok(mut live) = self.live.lock() {
            live.insert(id, state.clone());
        }
        Some(Slot {
            _permit: permit,
            id,
            state,
            connections: self.clone(),
        })
    }
}

/// Counts a request as in progress while alive.
struct ActiveRequest(Arc<ConnectionState>);

impl ActiveRequest {
    fn new(state: &Arc<ConnectionState>) -> Self {
        state.active.fetch_add(1, Ordering::SeqCst);
        ActiveRequest(state.clone())
    }
}

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve_connection(
    stream: TcpStream,
    app: Router,
    slot: Slot,
    header_timeout: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let state = slot.state.clone();
    let service =
        hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let guard = ActiveRequest::new(&state);
            let app = app.clone();
            async move {
                let response = tower::ServiceExt::oneshot(app, request.map(Body::new)).await;
                drop(guard);
                response
            }
        });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let mut closing = false;
    loop {
        tokio::select! {
            // Ends with the connection (errors are the client's: a reset, a header timeout).
            _ = connection.as_mut() => break,
            () = slot.state.evict.notified(), if !closing => {
                if slot.state.active.load(Ordering::SeqCst) == 0 {
                    break; // idle: dropping the connection closes it
                }
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            changed = stop.changed(), if !closing => {
                let _ = changed;
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
    drop(slot);
}

/// Answers a connection beyond the limit with 503 and closes it.
async fn refuse_connection(stream: TcpStream) {
    let body = r#"{"error":"too many connections are busy; try again shortly"}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    if tokio::time::timeout(Duration::from_secs(1), stream.writable())
        .await
        .is_ok_and(|r| r.is_ok())
    {
        let _ = stream.try_write(response.as_bytes());
    }
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
/// The response to a failed prediction: 400 when the audio or a setting is at fault, 500 when
/// the model is broken or the machine failed, 503 when the work was cancelled.
fn run_error(e: &RunError) -> Response {
    let status = match e.kind() {
        ErrorKind::BadInput => match e.root() {
            RunError::Audio(audio) => audio_error_status(audio),
            _ => StatusCode::BAD_REQUEST,
        },
        ErrorKind::BrokenModel | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::Cancelled => StatusCode::SERVICE_UNAVAILABLE,
    };
    // The whole chain, as the binaries print it (`{e:#}`): "context: cause: root cause".
    let chain: Vec<String> =
        std::iter::successors(Some(e as &dyn std::error::Error), |e| e.source())
            .map(ToString::to_string)
            .collect();
    error(status, chain.join(": "))
}

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
            format!(
                "upload of {what} exceeds the limit of {limit} bytes ({} MiB, --max-upload-mb)",
                limit as f64 / MIB as f64
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|&n| n > limit as u64) {
        return too_large(format!("{n} bytes"));
    }
    // Bodies without a length are read up to the limit and refused beyond it.
    let body = match read_body(body, limit, state.options.body_timeout).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return too_large("more bytes".to_owned()),
        Err(BodyError::TimedOut) => {
            let mut response = error(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    state.options.body_timeout.as_secs_f64()
                ),
            );
            response.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
            return response;
        }
        Err(BodyError::Malformed(reason)) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("malformed request body: {reason}"),
            );
        }
    };
    let max_duration_s = state.options.max_duration_s;
    let too_long = |seconds: f64| {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the audio lasts {seconds:.1} s, more than the limit of {max_duration_s} s \
                 (--max-duration-s)"
            ),
        )
    };
    // Measured from the header before decoding: a small upload of low-rate audio can be hours.
    if let Some(seconds) = header_duration_s(&body).filter(|&d| d > max_duration_s) {
        return too_long(seconds);
    }
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
    // Set when the request times out, and when this handler is dropped (its client left):
    // the model work then stops within one window instead of running on unseen.
    let cancel = Arc::new(AtomicBool::new(false));
    let _cancel_on_drop = CancelOnDrop(cancel.clone());
    // Decoding stops once the audio passes the limit: hours of compressed sound in a small
    // upload are never held whole.
    let max_duration = Duration::try_from_secs_f64(max_duration_s).unwrap_or(Duration::MAX);
    let work = async {
        let source = name.clone();
        let audio = tokio::task::spawn_blocking(move || {
            ser_audio::decode_limited(&body, &source, max_duration)
        })
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| match e {
            AudioError::TooLong {
                frames,
                sample_rate_hz,
                whole,
                ..
            } => {
                let seconds = frames as f64 / f64::from(sample_rate_hz.max(1));
                let more = if whole { "" } else { "more than " };
                error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the audio lasts {more}{seconds:.1} s, more than the limit of \
                         {max_duration_s} s (--max-duration-s)"
                    ),
                )
            }
            e => error(audio_error_status(&e), e.to_string()),
        })?;
        if audio.duration_s() > max_duration_s {
            return Err(too_long(audio.duration_s()));
        }
        let audio = Arc::new(audio);
        let mut results = Vec::with_capacity(selected.len());
        for pool in selected {
            let value = pool
                .predict(audio.clone(), name.clone(), hop_s, cancel.clone())
                .await?;
            results.push(value);
        }
        Ok::<_, Response>(axum::Json(Value::Array(results)).into_response())
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(response)) | Ok(Err(response)) => response,
        Err(_) => {
            cancel.store(true, Ordering::SeqCst);
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the prediction took longer than {} s (--timeout-s); it was stopped",
                    timeout.as_secs_f64()
                ),
            )
        }
    }
}

/// Sets its flag when dropped.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Why a request body could not be read.
#[derive(Debug)]
enum BodyError {
    /// More bytes than the upload limit.
    TooLarge,
    /// Not complete within the body timeout.
    TimedOut,
    /// Broken framing (a bad chunk, a connection closed before the declared length).
    Malformed(String),
}

/// Reads a whole request body of at most `limit` bytes within `timeout`.
async fn read_body(body: Body, limit: usize, timeout: Duration) -> Result<Vec<u8>, BodyError> {
    use axum::body::HttpBody as _;
    let mut body = body;
    let mut bytes = Vec::new();
    let read = async {
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let frame = frame.map_err(|e| {
                let mut reason = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(inner) = source {
                    reason = format!("{reason}: {inner}");
                    source = inner.source();
                }
                BodyError::Malformed(reason)
            })?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > limit {
                    return Err(BodyError::TooLarge);
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(bytes)
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

/// The duration a WAV or FLAC file declares in its header (`None` for other formats or when
/// the header does not say), with a WAV data chunk counted only as far as the bytes go.
pub fn header_duration_s(bytes: &[u8]) -> Option<f64> {
    let u16_at = |i: usize| -> Option<u16> {
        Some(u16::from_le_bytes(bytes.get(i..i + 2)?.try_into().ok()?))
    };
    let u32_at = |i: usize| -> Option<u32> {
        Some(u32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?))
    };
    if bytes.starts_with(b"fLaC") {
        // STREAMINFO, the first metadata block: 20-bit rate, 36-bit total samples.
        let info = bytes.get(8..8 + 18)?;
        let rate =
            (u32::from(info[10]) << 12) | (u32::from(info[11]) << 4) | (u32::from(info[12]) >> 4);
        let total = (u64::from(info[13] & 0x0f) << 32)
            | u64::from(u32::from_be_bytes([info[14], info[15], info[16], info[17]]));
        return (rate > 0 && total > 0).then(|| total as f64 / f64::from(rate));
    }
    if !(bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WAVE")) {
        return None;
    }
    let mut offset = 12;
    let mut format: Option<(u32, u16)> = None; // (sample rate, block align)
    while let (Some(id), Some(size)) = (bytes.get(offset..offset + 4), u32_at(offset + 4)) {
        let start = offset + 8;
        match id {
            b"fmt " => format = Some((u32_at(start + 4)?, u16_at(start + 12)?)),
            b"data" => {
                let (rate, align) = format?;
                if rate == 0 || align == 0 {
                    return None;
                }
                let available = (bytes.len() - start.min(bytes.len())) as u64;
                let frames = u64::from(size).min(available) / u64::from(align);
                return Some(frames as f64 / f64::from(rate));
            }
            _ => {}
        }
        offset = start
            .checked_add(size as usize)?
            .checked_add(size as usize % 2)?;
    }
    None
}
