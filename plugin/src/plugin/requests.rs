//! AUDIO THREAD: what the plugin turns into engine requests at the start of
//! a block and between events: a new setlist (cue the selected song), a
//! note or `play` held while the setlist loaded, MIDI notes, the editor's
//! commands, the `play`, `song` and auto-master parameters, and the host
//! transport when `follow` is on. Realtime-safe: engine calls and atomics
//! only.

use nice_plug::prelude::Transport;

use super::control::{load_state, Shared};
use super::gui_commands::GuiCommand;
use super::params::TraxParams;
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
}

#[derive(Debug, Default)]
pub(super) struct FollowState {
    pub(super) host_playing: bool,
    /// Where the host's position should be at the next block if it does not
    /// jump, in frames.
    pub(super) expected_pos_frames: Option<i64>,
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

pub(super) fn note_on(
    engine: &mut Engine,
    offline: bool,
    params: &TraxParams,
    shared: &Shared,
    rt: &mut RtState,
    song: usize,
) {
    let loading = shared.is_loading(params.setlist.version());
    if loading || (engine.song_count() == 0 && shared.load_state() == load_state::READY) {
        // The setlist is on its way: keep the note (the latest one wins)
        // and play it once the setlist is there.
        rt.held_song = Some(song);
        if offline {
            wait_for_setlist(engine, params, shared);
            new_setlist(engine, rt);
            play_held(engine, params, shared, rt);
        }
        return;
    }
    // Beyond the setlist (or no setlist): ignored.
    if song < engine.song_count() {
        rt.selected_song = song;
        engine.play_song(song, 0);
    }
}

/// One editor command ([`GuiCommand`]).
pub(super) fn gui_command(
    engine: &mut Engine,
    params: &TraxParams,
    rt: &mut RtState,
    command: GuiCommand,
) {
    // The `play` value the editor sets with a command, if it has not
    // arrived yet (the host may apply it before or after this block).
    let expect_play = |target: bool| (params.play.value() != target).then_some(target);
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
    }
}

/// The `play` and `song` parameters act on changes.
pub(super) fn param_changes(engine: &mut Engine, params: &TraxParams, rt: &mut RtState) {
    // The auto-master toggle takes effect here, in the block it arrives
    // (the chain ignores values it already has).
    engine.set_auto_master(params.auto_master.value(), params.master_ab_match.value());
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
pub(super) fn follow_transport(
    engine: &mut Engine,
    params: &TraxParams,
    rt: &mut RtState,
    transport: &Transport,
    frames: usize,
) {
    if !params.follow.value() {
        rt.follow = FollowState::default();
        return;
    }
    let playing = transport.playing;
    let pos = transport.pos_samples();
    let f = &mut rt.follow;
    if playing && !f.host_playing {
        if engine.song_count() == 0 {
            // No setlist yet: start once it is there, from where the host
            // is then.
            return;
        }
        let start = pos.unwrap_or(0).max(0) as u64;
        engine.play_song_synced(engine.active_song().unwrap_or(rt.selected_song), start);
    } else if !playing && f.host_playing {
        engine.stop();
    } else if playing {
        if let (Some(pos), Some(expected)) = (pos, f.expected_pos_frames) {
            // One frame of slack for hosts that round seconds to frames.
            if pos.abs_diff(expected) > 1 {
                engine.seek_synced(pos.max(0) as u64);
            }
        }
    }
    f.host_playing = playing;
    f.expected_pos_frames = if playing {
        pos.map(|p| p.saturating_add(frames as i64))
    } else {
        None
    };
}
