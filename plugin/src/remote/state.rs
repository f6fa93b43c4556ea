//! REMOTE THREAD: what the remote pushes to its subscribers. The state
//! ([`RemoteState::read`]) comes from the audio thread's atomics
//! ([`EngineStats`]) and the control thread's published view (the
//! setlist: names, lengths, sections); [`Pusher`] turns it into the
//! `/trax/state/…` messages that changed since they were last sent.
//! Discrete values (transport, song, section, the queued jump's target,
//! vamp) go at once; the running ones (position, time left, the jump's
//! countdown) at most every [`super::POSITION_INTERVAL`].

use std::time::Instant;

use rosc::{OscMessage, OscType};

use crate::bridge::{EngineStats, JumpTiming, TransportState};
use crate::loader::prepare::PreparedSetlist;
use crate::view::ControlView;

/// A queued jump as pushed.
#[derive(Clone, Debug, PartialEq)]
pub struct JumpView {
    /// The target section's name (a jump within the song), else the
    /// target song's.
    pub target: String,
    /// When it lands.
    pub timing: JumpTiming,
    /// Seconds until it lands (0 when the landing waits for the song
    /// that plays to reach it).
    pub secs: f32,
}

/// Everything pushed, read at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemoteState {
    /// The transport.
    pub transport: TransportState,
    /// The song heard, else the cued one (0-based) and its name; `None`
    /// without a setlist.
    pub song: Option<(usize, String)>,
    /// The section that plays (0-based) and its name; `None` when nothing
    /// plays, the song has no sections or plays before its first.
    pub section: Option<(usize, String)>,
    /// Position of the heard song, seconds (0 when none is heard).
    pub position_secs: f32,
    /// Seconds left in the song (all of the cued song when none is
    /// heard).
    pub song_left_secs: f32,
    /// Seconds left in the set: the rest of this song and every song
    /// after it, each played to its end.
    pub set_left_secs: f32,
    /// The queued jump (not a vamp).
    pub jump: Option<JumpView>,
    /// Whether a vamp runs.
    pub vamp: bool,
}

impl RemoteState {
    /// Reads the state: the engine's counters (`None` before activation),
    /// the published view and the cued song (0-based, see
    /// [`crate::plugin::control::Shared::cued_song`]).
    pub fn read(stats: Option<&EngineStats>, view: &ControlView, cued_song: usize) -> Self {
        let rate = f64::from(view.rate_hz().max(1));
        let secs = |frames: u64| (frames as f64 / rate) as f32;
        let setlist = view.setlist.as_deref();
        let songs = setlist.map_or(0, |s| s.songs.len());
        let transport = stats.map_or(TransportState::Stopped, EngineStats::transport);
        let active = stats.and_then(EngineStats::active_song);
        let position = match (stats, active) {
            (Some(s), Some(_)) => s.active_deck().map_or(0, |d| s.deck_position_frames(d)),
            _ => 0,
        };
        let index = active.or((songs > 0).then(|| cued_song.min(songs - 1)));
        let song = index.and_then(|i| Some((i, setlist?.songs.get(i)?)));
        let mut state = RemoteState {
            transport,
            song: song.map(|(i, s)| (i, s.name.clone())),
            position_secs: secs(position),
            ..RemoteState::default()
        };
        if let (Some((i, s)), Some(setlist)) = (song, setlist) {
            let left = s.length_frames.saturating_sub(position);
            let after: u64 = setlist
                .songs
                .iter()
                .skip(i + 1)
                .map(|s| s.length_frames)
                .sum();
            state.song_left_secs = secs(left);
            state.set_left_secs = secs(left.saturating_add(after));
            if active.is_some() {
                state.section = s
                    .section_at(position)
                    .map(|k| (k, s.sections[k].name.clone()));
            }
        }
        let queued = stats.and_then(|s| s.jumps().queued());
        state.vamp = queued.is_some_and(|q| q.vamp);
        state.jump = queued.filter(|q| !q.vamp).map(|q| {
            let from = usize::from(q.from_song);
            let until = if active == Some(from) {
                q.landing_frames.saturating_sub(position)
            } else {
                0
            };
            JumpView {
                target: jump_target(setlist, from, usize::from(q.song), q.frame),
                timing: q.timing,
                secs: secs(until),
            }
        });
        state
    }

    /// The state as its `/trax/state/…` messages, in [`STATE_ADDRESSES`]'
    /// order (1-based indices, 0 and "" for none).
    pub fn messages(&self) -> Vec<OscMessage> {
        let numbered = |x: &Option<(usize, String)>| match x {
            Some((i, name)) => vec![index_arg(*i + 1), OscType::String(name.clone())],
            None => vec![OscType::Int(0), OscType::String(String::new())],
        };
        let jump = match &self.jump {
            Some(j) => vec![
                OscType::String(j.target.clone()),
                OscType::String(j.timing.word().into()),
                OscType::Float(j.secs),
            ],
            None => vec![
                OscType::String(String::new()),
                OscType::String(String::new()),
                OscType::Float(0.0),
            ],
        };
        let args = [
            vec![OscType::String(transport_word(self.transport).into())],
            numbered(&self.song),
            numbered(&self.section),
            vec![OscType::Float(self.position_secs)],
            vec![
                OscType::Float(self.song_left_secs),
                OscType::Float(self.set_left_secs),
            ],
            jump,
            vec![OscType::Int(i32::from(self.vamp))],
        ];
        STATE_ADDRESSES
            .iter()
            .zip(args)
            .map(|(&(addr, _), args)| OscMessage {
                addr: addr.into(),
                args,
            })
            .collect()
    }
}

/// The messages pushed, with their arguments as the README writes them,
/// in [`RemoteState::messages`]' order.
pub const STATE_ADDRESSES: [(&str, &str); 7] = [
    ("/trax/state/transport", "s"),
    ("/trax/state/song", "i s"),
    ("/trax/state/section", "i s"),
    ("/trax/state/position", "f"),
    ("/trax/state/left", "f f"),
    ("/trax/state/jump", "s s f"),
    ("/trax/state/vamp", "i"),
];

/// The heartbeat's address (its argument counts the beats).
pub const HEARTBEAT_ADDRESS: &str = "/trax/heartbeat";

/// The word `/trax/state/transport` sends.
pub fn transport_word(t: TransportState) -> &'static str {
    match t {
        TransportState::Stopped => "stopped",
        TransportState::Starting => "starting",
        TransportState::Playing => "playing",
        TransportState::Paused => "paused",
    }
}

fn index_arg(i: usize) -> OscType {
    OscType::Int(i32::try_from(i).unwrap_or(i32::MAX))
}

/// A jump's target as named: the section starting at `frame` for a jump
/// within the song, else the target song.
fn jump_target(setlist: Option<&PreparedSetlist>, from: usize, song: usize, frame: u64) -> String {
    let Some(target) = setlist.and_then(|s| s.songs.get(song)) else {
        return String::new();
    };
    let section = target.sections.iter().find(|s| s.start_frames == frame);
    match section {
        Some(s) if song == from => s.name.clone(),
        _ => target.name.clone(),
    }
}

/// Which messages of the state changed since they were last sent
/// (position, time left and the jump's countdown at most every
/// [`super::POSITION_INTERVAL`]).
#[derive(Debug, Default)]
pub struct Pusher {
    /// The messages as last sent, in [`STATE_ADDRESSES`]' order (empty
    /// before the first push).
    sent: Vec<OscMessage>,
    /// When a running value was last sent.
    last_running: Option<Instant>,
}

impl Pusher {
    /// The messages of `state` to send now (to every subscriber), and
    /// remembers them as sent.
    pub fn changes(&mut self, state: &RemoteState, now: Instant) -> Vec<OscMessage> {
        let messages = state.messages();
        if self.sent.len() != messages.len() {
            self.sent = messages.clone();
            self.last_running = Some(now);
            return messages;
        }
        let due = self
            .last_running
            .is_none_or(|t| now.duration_since(t) >= super::POSITION_INTERVAL);
        let mut out = Vec::new();
        let mut sent_running = false;
        for (m, sent) in messages.into_iter().zip(&mut self.sent) {
            if m == *sent {
                continue;
            }
            let urgent = match m.addr.as_str() {
                "/trax/state/position" | "/trax/state/left" => false,
                // The countdown alone runs; a new target or timing is news.
                "/trax/state/jump" => m.args[..2] != sent.args[..2],
                _ => true,
            };
            if urgent || due {
                sent_running |= !urgent;
                *sent = m.clone();
                out.push(m);
            }
        }
        if sent_running {
            self.last_running = Some(now);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::Queued;
    use crate::loader::prepare::{PreparedSection, PreparedSong};
    use std::sync::Arc;
    use std::time::Duration;

    fn song(name: &str, secs: u64, sections: &[(&str, u64)]) -> PreparedSong {
        PreparedSong {
            name: name.into(),
            length_frames: secs * 1000,
            stems: Vec::new(),
            end: crate::bridge::SongEnd::default(),
            tempo: None,
            sections: sections
                .iter()
                .map(|&(n, s)| PreparedSection {
                    name: n.into(),
                    start_frames: s * 1000,
                })
                .collect(),
            section_source: crate::setlist::SectionSource::None,
            marker_errors: Vec::new(),
        }
    }

    fn view(stats: &Arc<EngineStats>) -> ControlView {
        let setlist = PreparedSetlist {
            epoch: 1,
            engine_rate_hz: 1000,
            name: "set".into(),
            songs: vec![
                song("One", 100, &[("Intro", 0), ("Verse", 10), ("Chorus", 40)]),
                song("Two", 50, &[]),
            ],
            cache: None,
            cache_entries: Vec::new(),
            cache_wait: false,
            cache_read_only: false,
        };
        ControlView {
            setlist: Some(Arc::new(setlist)),
            engine: Some(crate::view::EngineView {
                stats: Arc::clone(stats),
                loader: Arc::default(),
                rate_hz: 1000,
            }),
            ..ControlView::default()
        }
    }

    #[test]
    fn the_state_names_song_section_times_and_the_queued_jump() {
        let stats = Arc::new(EngineStats::default());
        let v = view(&stats);
        let stopped = RemoteState::read(Some(&stats), &v, 1);
        assert_eq!(stopped.song, Some((1, "Two".into())), "the cued song");
        assert_eq!(
            (stopped.song_left_secs, stopped.set_left_secs),
            (50.0, 50.0)
        );
        assert_eq!(stopped.section, None);
        stats.set_transport(TransportState::Playing);
        stats.set_active(Some(2), Some(0));
        stats.set_deck_position_frames(2, 12_500);
        stats.jumps().publish(Some(Queued {
            from_song: 0,
            landing_frames: 40_000,
            song: 0,
            frame: 40_000,
            timing: JumpTiming::SectionEnd,
            vamp: false,
        }));
        let s = RemoteState::read(Some(&stats), &v, 1);
        assert_eq!(s.song, Some((0, "One".into())), "the heard song");
        assert_eq!(s.section, Some((1, "Verse".into())));
        assert_eq!(s.position_secs, 12.5);
        assert_eq!((s.song_left_secs, s.set_left_secs), (87.5, 137.5));
        let jump = s.jump.clone().unwrap();
        assert_eq!((jump.target.as_str(), jump.secs), ("Chorus", 27.5));
        let m = s.messages();
        assert_eq!(m[0].args, [OscType::String("playing".into())]);
        assert_eq!(
            m[2].args,
            [OscType::Int(2), OscType::String("Verse".into())]
        );
        assert_eq!(m[5].args[1], OscType::String("section".into()));
        stats.jumps().publish(None);
        assert_eq!(
            RemoteState::read(None, &ControlView::default(), 0),
            RemoteState::default()
        );
    }

    #[test]
    fn the_pusher_sends_changes_at_once_and_running_values_every_100_ms() {
        let stats = Arc::new(EngineStats::default());
        let v = view(&stats);
        let t0 = Instant::now();
        let mut p = Pusher::default();
        assert_eq!(
            p.changes(&RemoteState::read(Some(&stats), &v, 0), t0).len(),
            7
        );
        assert!(p
            .changes(&RemoteState::read(Some(&stats), &v, 0), t0)
            .is_empty());
        stats.set_transport(TransportState::Playing);
        stats.set_active(Some(0), Some(0));
        stats.set_deck_position_frames(0, 20);
        let at = |ms| t0 + Duration::from_millis(ms);
        let addrs = |m: Vec<OscMessage>| m.into_iter().map(|m| m.addr).collect::<Vec<_>>();
        // 20 ms later: transport and section at once; the position waits.
        let sent = addrs(p.changes(&RemoteState::read(Some(&stats), &v, 0), at(20)));
        assert_eq!(sent, ["/trax/state/transport", "/trax/state/section"]);
        stats.set_deck_position_frames(0, 70);
        assert!(p
            .changes(&RemoteState::read(Some(&stats), &v, 0), at(70))
            .is_empty());
        let sent = addrs(p.changes(&RemoteState::read(Some(&stats), &v, 0), at(100)));
        assert_eq!(sent, ["/trax/state/position", "/trax/state/left"]);
    }
}
