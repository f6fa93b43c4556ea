//! LOADER THREADS (the coordinator): the outbox to the audio thread. Commands
//! go through the engine's bounded `rtrb` queue; when it is full (a host that
//! stops calling `process()` while the user keeps moving faders, or the
//! analysis fits twenty songs at once), they wait here in order and go at the
//! next wake-up, so no command is ever lost. Commands where only the latest
//! value matters (a stem's mix, a song's auto-master settings, the
//! auto-master switch, auto-advance) replace an earlier one still waiting, so
//! the backlog stays as small as what differs.

use std::collections::VecDeque;

use crate::bridge::Command;

/// Commands waiting beyond this are the oldest dropped (and counted): far
/// more than the queue's 1024, reached only if the audio thread never
/// runs while the loader is asked for thousands of distinct changes.
pub const MAX_BACKLOG_COMMANDS: usize = 65_536;

/// Commands on their way to the audio thread.
pub(crate) struct Outbox {
    queue: rtrb::Producer<Command>,
    backlog: VecDeque<Command>,
}

/// Whether `later` makes `earlier` pointless (the same setting, newer).
fn supersedes(later: &Command, earlier: &Command) -> bool {
    match (later, earlier) {
        (
            Command::SetStemMix { song, stem, .. },
            Command::SetStemMix {
                song: s2, stem: t2, ..
            },
        ) => song == s2 && stem == t2,
        (
            Command::SetSongMaster { epoch, song, .. },
            Command::SetSongMaster {
                epoch: e2,
                song: s2,
                ..
            },
        ) => epoch == e2 && song == s2,
        (Command::SetSongEnd { song, .. }, Command::SetSongEnd { song: s2, .. }) => song == s2,
        (Command::SetAutoMaster { .. }, Command::SetAutoMaster { .. })
        | (Command::SetAutoAdvance(_), Command::SetAutoAdvance(_)) => true,
        _ => false,
    }
}

impl Outbox {
    pub(crate) fn new(queue: rtrb::Producer<Command>) -> Self {
        Self {
            queue,
            backlog: VecDeque::new(),
        }
    }

    /// Sends `cmd` after everything still waiting. Returns how many
    /// commands had to be dropped (0 unless the backlog is at
    /// [`MAX_BACKLOG_COMMANDS`]).
    pub(crate) fn send(&mut self, cmd: Command) -> u64 {
        self.flush();
        if self.backlog.is_empty() {
            match self.queue.push(cmd) {
                Ok(()) => return 0,
                Err(rtrb::PushError::Full(cmd)) => return self.wait(cmd),
            }
        }
        self.wait(cmd)
    }

    fn wait(&mut self, cmd: Command) -> u64 {
        self.backlog.retain(|earlier| !supersedes(&cmd, earlier));
        self.backlog.push_back(cmd);
        let mut dropped = 0;
        while self.backlog.len() > MAX_BACKLOG_COMMANDS {
            self.backlog.pop_front();
            dropped += 1;
        }
        dropped
    }

    /// Moves waiting commands into the queue, in order, while it has room.
    pub(crate) fn flush(&mut self) {
        while let Some(cmd) = self.backlog.pop_front() {
            if let Err(rtrb::PushError::Full(cmd)) = self.queue.push(cmd) {
                self.backlog.push_front(cmd);
                break;
            }
        }
    }

    /// Commands waiting for room in the queue.
    pub(crate) fn waiting(&self) -> usize {
        self.backlog.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::StemMix;

    fn mix(gain_db: f32) -> Command {
        Command::SetStemMix {
            song: 0,
            stem: 1,
            mix: StemMix {
                gain_db,
                ..StemMix::default()
            },
        }
    }

    #[test]
    fn a_full_queue_keeps_commands_in_order_and_the_latest_of_a_setting() {
        let (tx, mut rx) = rtrb::RingBuffer::new(2);
        let mut out = Outbox::new(tx);
        assert_eq!(out.send(Command::Pause), 0);
        assert_eq!(out.send(Command::Resume), 0);
        assert_eq!(out.send(mix(0.5)), 0);
        assert_eq!(out.send(Command::Stop), 0);
        assert_eq!(out.send(mix(0.25)), 0);
        assert_eq!(out.waiting(), 2, "the older mix of the same stem is gone");
        let mut got = Vec::new();
        while let Ok(c) = rx.pop() {
            got.push(c);
        }
        out.flush();
        while let Ok(c) = rx.pop() {
            got.push(c);
        }
        let shown: Vec<String> = got
            .iter()
            .map(|c| match c {
                Command::Pause => "pause".into(),
                Command::Resume => "resume".into(),
                Command::Stop => "stop".into(),
                Command::SetStemMix { mix, .. } => format!("mix {}", mix.gain_db),
                _ => "other".into(),
            })
            .collect();
        assert_eq!(shown, ["pause", "resume", "stop", "mix 0.25"]);
        assert_eq!(out.waiting(), 0);
    }
}
