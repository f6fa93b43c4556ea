//! AUDIO THREAD: what the plugin turns into engine requests at the start of
//! a block and between events: a new setlist (cue the selected song), a
//! note or `play` held while the setlist loaded, MIDI notes, the editor's
//! and the OSC remote's commands, the `play`, `song` and auto-master
//! parameters (and the remote's overrides of auto-master and gain), and the
//! host transport when `follow` is on. Realtime-safe: engine calls and
//! atomics only.

use nice_plug::prelude::Transport;

use super::control::{load_state, Shared};
use super::gui_commands::GuiCommand;
use super::params::{TraxParams, MASTER_GAIN_MAX_DB, MASTER_GAIN_MIN_DB};
use super::wait_for_setlist;
use crate::Engine;

/// What `process()` remembers between blocks.
#[derive(Debug, Default)]
pub(super) struct RtState {
    pub(super) last_play: bool,
    pub(super) last_song_param: i32,
    pub(super) selected_song: usize,
    pub(super) seen_setlist: u32,
    /// A note that came before the setlist was loaded: played once it is.
    pub(super) held_song: Option<usize>,
    /// `play` turned on (automated at frame 0, or restored on with the
    /// state) before the setlist was loaded: the selected song starts once
    /// it is, if `play` is still on.
    pub(super) held_play: bool,
    /// The value the editor is setting `play` to along with a command that
    /// already did what the change would do (play a song, stop): when it
    /// arrives it is taken without acting again.
    pub(super) editor_play: Option<bool>,
    pub(super) follow: FollowState,
    /// The serial of the last state restore seen.
    pub(super) seen_restore: u64,
    /// Frames left in which `play` turning on is the host sending back the
    /// value it saved with its session (a state saved with `play` on was
    /// just restored), not a Play press.
    pub(super) play_echo_frames: u64,
    /// The `am_on` value last seen: a change ends [`Self::am_override`].
    pub(super) last_am_param: bool,
    /// The remote's auto-master switch, until `am_on` next changes.
    pub(super) am_override: Option<bool>,
    /// The `gain_db` value last seen, dB: a change ends
    /// [`Self::gain_override_db`].
    pub(super) last_gain_param_db: f32,
    /// The remote's master gain, dB, until `gain_db` next changes.
    pub(super) gain_override_db: Option<f32>,
}

/// How long after restoring a state saved with `play` on a `play` turning
/// on is taken as the host's echo of its saved value, seconds: hosts send
/// it with the session (Ardour: right after the state); a performer does
/// not press Play within a second of opening a session.
pub(super) const PLAY_ECHO_SECS: u64 = 1;

/// A state was restored: arms the `play` echo window ([`RtState`]) if it
/// was saved with `play` on. Realtime-safe (atomics).
pub(super) fn restored_state(params: &TraxParams, rt: &mut RtState, rate_hz: u32) {
    let serial = params.restored_play.serial();
    if serial == rt.seen_restore {
        return;
    }
    rt.seen_restore = serial;
    rt.play_echo_frames = if params.restored_play.is_on() {
        PLAY_ECHO_SECS * u64::from(rate_hz)
    } else {
        0
    };
}

#[derive(Debug, Default)]
pub(super) struct FollowState {
    pub(super) host_playing: bool,
    /// Where the host's position should be at the next block if it does not
    /// jump, in frames.
    pub(super) expected_pos_frames: Option<i64>,
    /// The song to start when the host, playing at a position before 0,
    /// reaches 0.
    pub(super) armed_song: Option<usize>,
}

/// A setlist arrived: cue the selected song and play a held note.
pub(super) fn new_setlist(engine: &mut Engine, rt: &mut RtState) {
    let serial = engine.setlist_serial();
    if serial == rt.seen_setlist {
        return;
    }
    rt.seen_setlist = serial;
    engine.cue_song(rt.selected_song);
}

/// Plays a note (or a `play` turned on) held while the setlist was
/// loading, once it is loaded.
pub(super) fn play_held(
    engine: &mut Engine,
    params: &TraxParams,
    shared: &Shared,
    rt: &mut RtState,
) {
    if (rt.held_song.is_none() && !rt.held_play) || shared.is_loading(params.setlist.version()) {
        return;
    }
    if shared.load_state() == load_state::READY && engine.song_count() == 0 {
        return;
    }
    let held_play = std::mem::take(&mut rt.held_play);
    if let Some(song) = rt.held_song.take() {
        // Beyond the setlist: ignored (play_song checks).
        rt.selected_song = song;
        engine.play_song(song, 0);
    } else if held_play && params.play.value() {
        engine.play_song(rt.selected_song, 0);
    }
}

/// A note-on for `song` (0-based). `wait`: offline, the limit of a wait
/// for the setlist. Returns the time spent waiting.
pub(super) fn note_on(
    engine: &mut Engine,
    wait: Option<std::time::Duration>,
    params: &TraxParams,
    shared: &Shared,
    rt: &mut RtState,
    song: usize,
) -> std::time::Duration {
    let loading = shared.is_loading(params.setlist.version());
    if loading || (engine.song_count() == 0 && shared.load_state() == load_state::READY) {
        // The setlist is on its way: keep the note (the latest one wins)
        // and play it once the setlist is there.
        rt.held_song = Some(song);
        let mut waited = std::time::Duration::ZERO;
        if let Some(limit) = wait {
            waited = wait_for_setlist(engine, params, shared, limit);
            new_setlist(engine, rt);
            play_held(engine, params, shared, rt);
        }
        return waited;
    }
    // Beyond the setlist (or no setlist): ignored.
    if song < engine.song_count() {
        rt.selected_song = song;
        engine.play_song(song, 0);
    }
    std::time::Duration::ZERO
}

/// The MIDI channel of the live controls (0-based: channel 16), notes
/// relative to `base_note`: see [`control_note`].
pub const CONTROL_CHANNEL: u8 = 15;

/// A note-on on [`CONTROL_CHANNEL`] (`offset` = key - `base_note`):
/// `offset` ≥ 0 queues a jump to section `offset + 1` of the playing song;
/// -1 the next section, -2 the previous one (all at the `jump_timing`
/// parameter's timing); -3 starts a vamp of the playing section or
/// releases a running one; -4 cancels the queued jump. Realtime-safe.
pub(super) fn control_note(engine: &mut Engine, params: &TraxParams, offset: i32) {
    let timing = params.jump_timing.value().timing();
    match offset {
        0.. => engine.jump_to_section(offset as usize, timing),
        -1 => engine.jump_by_sections(1, timing),
        -2 => engine.jump_by_sections(-1, timing),
        -3 => {
            let vamping = engine.queued_jump().is_some_and(|q| q.vamp);
            engine.vamp((!vamping).then_some(crate::bridge::VampLength::Section));
        }
        -4 => engine.cancel_jump(),
        _ => {}
    }
}

/// One editor or remote command ([`GuiCommand`]).
pub(super) fn gui_command(
    engine: &mut Engine,
    params: &TraxParams,
    rt: &mut RtState,
    command: GuiCommand,
) {
    // The `play` value the editor sets with a command, if `param_changes`
    // has not acted on it yet: the editor sets the parameter as it sends
    // the command, and the host may apply it before this block (then the
    // parameter already has it) or after; either way the change is still
    // to come relative to the last value acted on.
    let last_play = rt.last_play;
    let expect_play = move |target: bool| (last_play != target).then_some(target);
    match command {
        GuiCommand::PlaySong { song, frame } => {
            if song < engine.song_count() {
                rt.selected_song = song;
                rt.editor_play = expect_play(true);
                rt.held_play = false;
                engine.play_song(song, frame);
            }
        }
        GuiCommand::Seek(frame) => engine.seek(frame),
        GuiCommand::Stop => {
            rt.editor_play = expect_play(false);
            rt.held_play = false;
            rt.held_song = None;
            engine.stop();
        }
        GuiCommand::Jump {
            song,
            frame,
            timing,
        } => engine.queue_jump(song, frame, timing),
        GuiCommand::CancelJump => engine.cancel_jump(),
        GuiCommand::Vamp(length) => engine.vamp(length),
        GuiCommand::JumpSection { index, timing } => engine.jump_to_section(index, timing),
        GuiCommand::JumpBy { delta, timing } => engine.jump_by_sections(delta, timing),
        GuiCommand::Play => remote_play(engine, rt),
        GuiCommand::Pause => {
            rt.held_play = false;
            engine.pause();
        }
        GuiCommand::PlayPause if engine.is_playing() => engine.pause(),
        GuiCommand::PlayPause => remote_play(engine, rt),
        GuiCommand::RemoteStop => {
            rt.held_play = false;
            rt.held_song = None;
            engine.stop();
        }
        GuiCommand::RemotePlaySong(song) if song < engine.song_count() => {
            rt.selected_song = song;
            rt.held_play = false;
            engine.play_song(song, 0);
        }
        GuiCommand::Cue(song) if song < engine.song_count() => {
            rt.selected_song = song;
            engine.cue_song(song);
        }
        GuiCommand::RemotePlaySong(_) | GuiCommand::Cue(_) => {}
        GuiCommand::StepSong(delta) => step_song(engine, rt, delta),
        GuiCommand::AutoMaster(on) => {
            rt.last_am_param = params.auto_master.value();
            rt.am_override = Some(on);
            engine.set_auto_master(on, params.master_ab_match.value());
        }
        GuiCommand::MasterGainDb(db) if db.is_finite() => {
            rt.last_gain_param_db = params.gain_db.value();
            rt.gain_override_db = Some(db.clamp(MASTER_GAIN_MIN_DB, MASTER_GAIN_MAX_DB));
        }
        GuiCommand::MasterGainDb(_) => {}
    }
}

/// The remote's Play: resume if paused, else play the cued song from its
/// start (held until the setlist is loaded, like a note).
fn remote_play(engine: &mut Engine, rt: &mut RtState) {
    if engine.song_count() == 0 {
        rt.held_song = Some(rt.selected_song);
    } else if engine.is_paused() {
        engine.resume();
    } else if !engine.is_playing() {
        engine.play_song(rt.selected_song, 0);
    }
}

/// The song `delta` songs from the heard (else the cued) one, clamped to
/// the setlist: played at once while the transport plays, else cued.
fn step_song(engine: &mut Engine, rt: &mut RtState, delta: i32) {
    let count = engine.song_count();
    if count == 0 {
        return;
    }
    let current = engine.active_song().unwrap_or(rt.selected_song);
    let target = current.saturating_add_signed(delta as isize).min(count - 1);
    rt.selected_song = target;
    if engine.is_playing() {
        engine.play_song(target, 0);
    } else {
        engine.cue_song(target);
    }
}

/// The remote's master gain holds until `gain_db` next changes: the
/// parameter's smoother is aimed at it (the master gain reads that
/// smoother), again if the wrapper reset the smoother to the parameter
/// (a re-activation). A change of `gain_db` ends the override; the
/// wrapper then aims the smoother at the new value, from where it is, so
/// the change is as smooth as any. Realtime-safe (atomics).
pub(super) fn remote_gain(params: &TraxParams, rt: &mut RtState, rate_hz: u32) {
    let param_db = params.gain_db.value();
    if param_db != rt.last_gain_param_db {
        rt.last_gain_param_db = param_db;
        rt.gain_override_db = None;
        return;
    }
    let Some(db) = rt.gain_override_db else {
        return;
    };
    let smoothed = &params.gain_db.smoothed;
    if !smoothed.is_smoothing() && smoothed.previous_value() != db {
        smoothed.set_target(rate_hz as f32, db);
    }
}

/// The `play` and `song` parameters act on changes.
pub(super) fn param_changes(engine: &mut Engine, params: &TraxParams, rt: &mut RtState) {
    // The auto-master toggle takes effect here, in the block it arrives
    // (the chain ignores values it already has); the remote's switch holds
    // until `am_on` itself changes.
    let am_param = params.auto_master.value();
    if am_param != rt.last_am_param {
        rt.last_am_param = am_param;
        rt.am_override = None;
    }
    engine.set_auto_master(
        rt.am_override.unwrap_or(am_param),
        params.master_ab_match.value(),
    );
    let song_param = params.song.value();
    if song_param != rt.last_song_param {
        rt.last_song_param = song_param;
        rt.selected_song = song_param.max(1) as usize - 1;
        engine.cue_song(rt.selected_song);
    }
    let play = params.play.value();
    if play != rt.last_play {
        rt.last_play = play;
        if rt.editor_play.take() == Some(play) {
            // The editor's command did it already.
            return;
        }
        if play && std::mem::take(&mut rt.play_echo_frames) > 0 {
            // The host sending back the `play` it saved with the session
            // (the restored state had it on): opening a session does not
            // start playback.
            return;
        }
        if play {
            if engine.song_count() == 0 {
                // No setlist yet: hold it like a note (play_held).
                rt.held_play = true;
            } else if engine.is_paused() {
                engine.resume();
            } else if !engine.is_playing() {
                engine.play_song(rt.selected_song, 0);
            }
        } else {
            rt.held_play = false;
            engine.pause();
        }
    }
}

/// Follow the host transport when the `follow` parameter is on: play while
/// it plays (from its position on the selected song's timeline), stop when
/// it stops, seek when its position jumps. Starts and seeks are synced: a
/// song that takes the loader 10 ms to start comes in 10 ms into itself, in
/// step with the host.
///
/// Host positions before 0 (pre-roll, a count-in, latency compensation)
/// are silence: the song is cued and starts when the host reaches frame 0.
/// Returns the frame inside this `frames`-frame block at which the caller
/// must call [`start_at_zero`] (the block that crosses host frame 0), so
/// that song frame 0 plays at host frame 0 exactly. With `follow_out` on,
/// every host position is taken as the reported latency later (the host
/// gives the position of the plugin's output).
pub(super) fn follow_transport(
    engine: &mut Engine,
    params: &TraxParams,
    rt: &mut RtState,
    transport: &Transport,
    frames: usize,
) -> Option<usize> {
    if !params.follow.value() {
        rt.follow = FollowState::default();
        return None;
    }
    let playing = transport.playing;
    // The song frame due at this block's first frame: the host's position,
    // or (host time is output time) that plus the latency the output lags.
    let ahead = if params.follow_output_time.value() {
        engine.latency_frames() as i64
    } else {
        0
    };
    let pos = transport.pos_samples().map(|p| p.saturating_add(ahead));
    let f = &mut rt.follow;
    if playing && !f.host_playing {
        if engine.song_count() == 0 {
            // No setlist yet: start once it is there, from where the host
            // is then.
            return None;
        }
        let song = engine.active_song().unwrap_or(rt.selected_song);
        match pos.unwrap_or(0) {
            start if start >= 0 => {
                f.armed_song = None;
                engine.play_song_synced(song, start as u64);
            }
            _ => {
                // Before 0: the song's head is made resident now and the
                // song starts where the host reaches 0.
                f.armed_song = Some(song);
                engine.cue_song(song);
            }
        }
    } else if !playing && f.host_playing {
        f.armed_song = None;
        engine.stop();
    } else if playing {
        if let (Some(pos), Some(expected)) = (pos, f.expected_pos_frames) {
            // One frame of slack for hosts that round seconds to frames.
            if pos.abs_diff(expected) > 1 {
                let song = f
                    .armed_song
                    .or(engine.active_song())
                    .unwrap_or(rt.selected_song);
                if pos < 0 {
                    // Back into the pre-roll: silence until 0 again.
                    if f.armed_song.is_none() {
                        engine.stop();
                        engine.cue_song(song);
                    }
                    f.armed_song = Some(song);
                } else if f.armed_song.take().is_some() {
                    engine.play_song_synced(song, pos as u64);
                } else {
                    engine.seek_synced(pos as u64);
                }
            }
        }
    }
    f.host_playing = playing;
    f.expected_pos_frames = if playing {
        pos.map(|p| p.saturating_add(frames as i64))
    } else {
        None
    };
    // The block that crosses host frame 0: the start's frame in it.
    match (f.armed_song, pos) {
        (Some(_), Some(p)) if p <= 0 && p + frames as i64 > 0 => Some((-p) as usize),
        _ => None,
    }
}

/// Starts the song armed by [`follow_transport`] (the host reached frame
/// 0): call at the frame it returned, between the rendered parts of the
/// block. Realtime-safe.
pub(super) fn start_at_zero(engine: &mut Engine, rt: &mut RtState) {
    if let Some(song) = rt.follow.armed_song.take() {
        engine.play_song_synced(song, 0);
    }
}
