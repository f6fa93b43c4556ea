//! CONTROL THREAD: [`Player`], the handle the CLI, the plugin glue and the
//! editor use to load setlists and drive the transport.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::disallowed_macros
)]

use crate::thread::TraxThread;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use crate::bridge::{EngineStats, StemMix, Waker};
use crate::engine::{
    Engine, EngineConfig, ProcessMode, COMMAND_QUEUE_CAPACITY, EVENT_QUEUE_CAPACITY,
};
use crate::loader::cache_link::CacheLink;
use crate::loader::coordinator::{Control, Coordinator, LoaderStats};
use crate::loader::prepare::{prepare, PreparedSetlist, StemProblem};
use crate::loader::worker::{Progress, Workers};
use crate::setlist::Setlist;

/// Settings of a [`Player`].
#[derive(Clone, Copy, Debug)]
pub struct PlayerConfig {
    /// The engine rate, Hz.
    pub engine_rate_hz: u32,
    /// Realtime (never wait) or offline (render may wait for the loader).
    pub mode: ProcessMode,
    /// Loader decoding threads; 0 = one per core.
    pub loader_threads: usize,
    /// Whether the engine's output runs through the auto-master chain
    /// (see [`EngineConfig::mastering`]).
    pub mastering: bool,
    /// Decoding waits for room in the chunk cache writer's queue, so every
    /// decoded chunk the policy covers is cached (offline renders, warming);
    /// otherwise a full queue drops the copy (realtime, analysis).
    pub cache_writes_wait: bool,
    /// Read the chunk cache but never write it (analysis: measuring must
    /// not change what the cache holds).
    pub cache_read_only: bool,
    /// Run the loader's threads at the lowest OS priority (analysis and
    /// other background work beside a playing engine).
    pub background: bool,
    /// Delay the loader adds after every decoded block of ≤ 4096 frames:
    /// simulates slow storage or an overloaded machine, to test and
    /// demonstrate underrun handling. Zero in normal use.
    pub read_delay: Duration,
    /// Delay the loader adds before opening a stem's source (not when it
    /// reuses an open one): simulates a cold disk spinning up or a network
    /// share's first access, which makes a song's first frames late while
    /// the rest streams at full speed. Zero in normal use.
    pub open_delay: Duration,
}

impl PlayerConfig {
    /// Realtime settings at `engine_rate_hz`.
    pub fn realtime(engine_rate_hz: u32) -> Self {
        Self {
            engine_rate_hz,
            mode: ProcessMode::Realtime,
            loader_threads: 0,
            mastering: false,
            background: false,
            cache_writes_wait: false,
            cache_read_only: false,
            read_delay: Duration::ZERO,
            open_delay: Duration::ZERO,
        }
    }

    /// Offline settings at `engine_rate_hz`.
    pub fn offline(engine_rate_hz: u32) -> Self {
        Self {
            mode: ProcessMode::Offline,
            cache_writes_wait: true,
            ..Self::realtime(engine_rate_hz)
        }
    }
}

/// Why a player cannot start.
#[derive(Debug, thiserror::Error)]
pub enum PlayerError {
    /// The loader's decoding pool could not be started.
    #[error("cannot start the loader's decoding threads: {0}")]
    Pool(#[source] rayon::ThreadPoolBuildError),
    /// The loader's coordinator thread could not be started.
    #[error("cannot start the loader's coordinator thread: {0}")]
    Thread(#[source] std::io::Error),
    /// The engine rate is 0 or absurd.
    #[error("invalid engine rate {0} Hz (1000 ..= 768000)")]
    Rate(u32),
}

/// The control handle: loads setlists, drives the transport, reports
/// problems and figures. Not realtime-safe; use it from a control, GUI or
/// main thread. Dropping it stops the loader.
pub struct Player {
    config: PlayerConfig,
    control: Sender<Control>,
    problems_rx: Receiver<StemProblem>,
    problems: Mutex<Vec<StemProblem>>,
    stats: Arc<EngineStats>,
    loader_stats: Arc<LoaderStats>,
    progress: Arc<Progress>,
    waker: Arc<Waker>,
    pool: Arc<rayon::ThreadPool>,
    next_epoch: Mutex<u16>,
    cache: Mutex<Option<Arc<CacheLink>>>,
    /// Set when the player is being shut down: a load stops probing.
    cancel_loads: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Player {
    /// Starts the loader and returns the control handle with the engine to
    /// move to the audio thread.
    ///
    /// # Errors
    /// [`PlayerError`] if the rate is invalid or threads cannot start.
    pub fn new(config: PlayerConfig) -> Result<(Player, Engine), PlayerError> {
        if !(1000..=768_000).contains(&config.engine_rate_hz) {
            return Err(PlayerError::Rate(config.engine_rate_hz));
        }
        let threads = if config.loader_threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            config.loader_threads
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| TraxThread::Loader.name(i))
            .start_handler(move |_| {
                if crate::thread::lowered(TraxThread::Loader, config.background) {
                    crate::thread::lower_priority();
                }
            })
            // Jobs catch their own panics; this keeps any other panic from
            // aborting the host.
            .panic_handler(|p| {
                tracing::error!("loader task panicked: {}", crate::thread::panic_message(&p));
            })
            .build()
            .map_err(PlayerError::Pool)?;
        let pool = Arc::new(pool);
        let (cmd_tx, cmd_rx) = rtrb::RingBuffer::new(COMMAND_QUEUE_CAPACITY);
        let (ev_tx, ev_rx) = rtrb::RingBuffer::new(EVENT_QUEUE_CAPACITY);
        let stats = Arc::new(EngineStats::default());
        let waker = Arc::new(Waker::default());
        let engine = Engine::new(
            EngineConfig {
                engine_rate_hz: config.engine_rate_hz,
                mode: config.mode,
                mastering: config.mastering,
            },
            cmd_rx,
            ev_tx,
            Arc::clone(&stats),
            Arc::clone(&waker),
        );
        let (control, control_rx) = crossbeam_channel::unbounded();
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let (problems_tx, problems_rx) = crossbeam_channel::unbounded();
        let progress = Arc::new(Progress::default());
        let workers = Workers::new(
            Arc::clone(&pool),
            done_tx,
            problems_tx,
            Arc::clone(&progress),
            Arc::clone(&waker),
            super::loader::worker::FaultDelays {
                read: config.read_delay,
                open: config.open_delay,
            },
        );
        let loader_stats = Arc::new(LoaderStats::default());
        let coordinator = Coordinator::new(
            control_rx,
            done_rx,
            cmd_tx,
            ev_rx,
            Arc::clone(&stats),
            Arc::clone(&loader_stats),
            workers,
            Arc::clone(&waker),
        );
        let thread = crate::thread::spawn(TraxThread::Coordinator, config.background, move || {
            coordinator.run()
        })
        .map_err(PlayerError::Thread)?;
        Ok((
            Player {
                config,
                control,
                problems_rx,
                problems: Mutex::new(Vec::new()),
                stats,
                loader_stats,
                progress,
                waker,
                pool,
                next_epoch: Mutex::new(0),
                cache: Mutex::new(None),
                cancel_loads: Arc::default(),
                thread: Some(thread),
            },
            engine,
        ))
    }

    fn send(&self, c: Control) -> Result<(), crossbeam_channel::SendError<Control>> {
        let r = self.control.send(c);
        self.waker.wake();
        r
    }

    /// The settings.
    pub fn config(&self) -> PlayerConfig {
        self.config
    }

    /// Probes `setlist`'s stems (in parallel, blocking the caller for ≈ 1 ms
    /// per stem) and hands it to the loader and the engine. Broken stems are
    /// reported in [`Self::problems`] and skipped; the rest plays. Returns
    /// the prepared setlist.
    pub fn load(&self, setlist: &Setlist) -> Arc<PreparedSetlist> {
        let epoch = {
            let mut e = self.next_epoch.lock();
            let epoch = *e;
            *e = if epoch >= crate::bridge::ChunkKey::MAX_EPOCH {
                0
            } else {
                epoch + 1
            };
            epoch
        };
        let (mut prepared, problems) = prepare(
            setlist,
            self.config.engine_rate_hz,
            epoch,
            &self.pool,
            &self.cancel_loads,
        );
        if let Some(link) = self.cache.lock().clone() {
            let rate = self.config.engine_rate_hz;
            prepared.cache_entries = prepared
                .songs
                .iter()
                .flat_map(|song| song.stems.iter())
                .map(|stem| link.entry_for(stem, rate))
                .collect();
            prepared.cache = Some(link);
            prepared.cache_wait = self.config.cache_writes_wait;
            prepared.cache_read_only = self.config.cache_read_only;
        }
        for p in &problems {
            tracing::warn!("{p}");
        }
        {
            let mut all = self.problems.lock();
            all.clear();
            all.extend(problems);
        }
        let prepared = Arc::new(prepared);
        let (reply, done) = crossbeam_channel::bounded(1);
        let _ = self.send(Control::Load {
            prepared: Arc::clone(&prepared),
            reply,
        });
        let _ = done.recv_timeout(Duration::from_secs(10));
        prepared
    }

    /// A flag that, once set, makes a running [`Player::load`] (and every
    /// later one) stop probing and return at once: the player is about to
    /// be dropped, and whoever owns it must not be kept waiting (a host's
    /// main thread re-activating the plugin). Another thread may set it.
    pub fn load_canceller(&self) -> Arc<std::sync::atomic::AtomicBool> {
        Arc::clone(&self.cancel_loads)
    }

    /// Uses `cache` (or none) for the setlists loaded from now on: chunks
    /// its policy covers are read from it when present and written to it
    /// when decoded. Without a cache every chunk is decoded from its source.
    pub fn set_cache(&self, cache: Option<Arc<CacheLink>>) {
        *self.cache.lock() = cache;
    }

    /// Plays `song` from its start (crossfading if something plays).
    pub fn play_song(&self, song: usize) {
        self.play_song_at(song, 0);
    }

    /// Plays `song` from `frame` on its timeline.
    pub fn play_song_at(&self, song: usize, frame: u64) {
        let _ = self.send(Control::Play { song, frame });
    }

    /// Seeks the current song to `frame`: the old position plays until the
    /// target is ready, then a 10 ms equal-power crossfade. While paused the
    /// position moves and playback stays paused; while stopped the current
    /// song starts playing from `frame`.
    pub fn seek(&self, frame: u64) {
        let _ = self.send(Control::Seek(frame));
    }

    /// Pauses with a 10 ms fade.
    pub fn pause(&self) {
        let _ = self.send(Control::Pause);
    }

    /// Resumes with a 10 ms fade.
    pub fn resume(&self) {
        let _ = self.send(Control::Resume);
    }

    /// Stops.
    pub fn stop(&self) {
        let _ = self.send(Control::Stop);
    }

    /// Plays the song after the current one.
    pub fn next(&self) {
        if let Some(s) = self.stats.active_song() {
            self.play_song(s + 1);
        }
    }

    /// Plays the song before the current one (or restarts the first).
    pub fn previous(&self) {
        if let Some(s) = self.stats.active_song() {
            self.play_song(s.saturating_sub(1));
        }
    }

    /// Sets a stem's mix (gain ramps over 10 ms).
    pub fn set_stem_mix(&self, song: usize, stem: usize, mix: StemMix) {
        let _ = self.send(Control::Mix { song, stem, mix });
    }

    /// Sets song `song`'s auto-master settings for the setlist load
    /// `epoch` ([`PreparedSetlist::epoch`]; ignored for another load).
    pub fn set_song_master(&self, epoch: u16, song: usize, master: crate::bridge::SongMaster) {
        let _ = self.send(Control::SongMaster {
            epoch,
            song,
            master,
        });
    }

    /// Switches the auto-master (the engine must have been made with
    /// [`PlayerConfig::mastering`]): `on` crossfades to the mastered sound,
    /// `ab_match` plays the original at the mastered loudness.
    pub fn set_auto_master(&self, on: bool, ab_match: bool) {
        let _ = self.send(Control::AutoMaster { on, ab_match });
    }

    /// Changes what happens at the end of `song` (the setlist's `end`),
    /// from now on: stop, continue or fade.
    pub fn set_song_end(&self, song: usize, end: crate::bridge::SongEnd) {
        let _ = self.send(Control::SongEnd { song, end });
    }

    /// Queues a jump to `frame` of `song` landing at `timing` (see
    /// [`crate::engine::Engine::queue_jump`]); replaces a queued jump or a
    /// vamp. The published state is [`EngineStats::jumps`].
    pub fn queue_jump(&self, song: usize, frame: u64, timing: crate::bridge::JumpTiming) {
        let _ = self.send(Control::Jump {
            song,
            frame,
            timing,
        });
    }

    /// Cancels the queued jump (not a vamp).
    pub fn cancel_jump(&self) {
        let _ = self.send(Control::CancelJump);
    }

    /// Starts a vamp of the playing song (`Some(length)`) or releases it
    /// (`None`: playback goes on after the current pass); see
    /// [`crate::engine::Engine::vamp`].
    pub fn vamp(&self, length: Option<crate::bridge::VampLength>) {
        let _ = self.send(Control::Vamp(length));
    }

    /// Whether songs advance to the next one at their end (default on;
    /// off, every song ends as [`crate::bridge::SongEnd::Stop`] without
    /// cueing the next: renders of one song, analysis, warming).
    pub fn set_auto_advance(&self, on: bool) {
        let _ = self.send(Control::AutoAdvance(on));
    }

    /// Asks the loader to look at play positions now.
    pub fn nudge(&self) {
        let _ = self.send(Control::Nudge);
    }

    /// Waits until the loader publishes more frames or `timeout` passes
    /// (offline renders call this when the engine waits for data).
    pub fn wait_for_progress(&self, timeout: Duration) {
        self.progress.wait(timeout);
    }

    /// The engine's counters.
    pub fn engine_stats(&self) -> &Arc<EngineStats> {
        &self.stats
    }

    /// The loader's figures.
    pub fn loader_stats(&self) -> &Arc<LoaderStats> {
        &self.loader_stats
    }

    /// Peak bytes of chunk slots in use since the setlist was loaded.
    pub fn peak_resident_bytes(&self) -> u64 {
        self.loader_stats
            .peak_resident_bytes
            .load(Ordering::Relaxed)
    }

    /// Every problem reported since the setlist was loaded, each once.
    pub fn problems(&self) -> Vec<StemProblem> {
        let mut all = self.problems.lock();
        while let Ok(p) = self.problems_rx.try_recv() {
            // Each kind of problem is reported once per stem.
            if !all
                .iter()
                .any(|q| (q.song, q.stem, q.kind) == (p.song, p.stem, p.kind))
            {
                tracing::warn!("{p}");
                all.push(p);
            }
        }
        all.clone()
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        let _ = self.send(Control::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
