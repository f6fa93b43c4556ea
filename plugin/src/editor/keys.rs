//! GUI THREAD: the performer's keyboard: Space play/pause, Enter play the
//! cued song, Esc stop, Up/Down cue the previous/next song, Left/Right
//! seek by 5 s. Keys are taken before any widget sees them (so that a
//! focused button does not also take Space or Enter), and not while a
//! text field is being typed in. Arrows repeat while held; the others act
//! once per press.

use egui::{Event, Key};

/// How far Left/Right seek, seconds.
pub const SEEK_STEP_SECS: i64 = 5;

/// The keys, as the editor's help line lists them.
pub const KEYS_HELP: &str = "Keys: Space play/pause · Enter play the cued song · Esc stop · \
                             Up/Down cue the previous/next song · Left/Right seek 5 s";

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAction {
    /// Space.
    PlayPause,
    /// Enter: play the cued song from its start now.
    PlayCued,
    /// Esc.
    Stop,
    /// Up.
    CuePrevious,
    /// Down.
    CueNext,
    /// Left: 5 s back.
    SeekBack,
    /// Right: 5 s forward.
    SeekForward,
}

impl KeyAction {
    /// The action of `key` pressed without modifiers, if it has one;
    /// whether it acts on key repeat.
    pub fn of(key: Key) -> Option<(Self, bool)> {
        Some(match key {
            Key::Space => (Self::PlayPause, false),
            Key::Enter => (Self::PlayCued, false),
            Key::Escape => (Self::Stop, false),
            Key::ArrowUp => (Self::CuePrevious, true),
            Key::ArrowDown => (Self::CueNext, true),
            Key::ArrowLeft => (Self::SeekBack, true),
            Key::ArrowRight => (Self::SeekForward, true),
            _ => return None,
        })
    }
}

/// Takes this frame's performer keys out of `ctx`'s input (no widget
/// sees them afterwards) and returns their actions in order; none while
/// a text field has the focus.
pub fn take_actions(ctx: &egui::Context) -> Vec<KeyAction> {
    if ctx.text_edit_focused() {
        return Vec::new();
    }
    let mut actions = Vec::new();
    ctx.input_mut(|input| {
        input.events.retain(|event| {
            let Event::Key {
                key,
                pressed,
                repeat,
                modifiers,
                ..
            } = event
            else {
                return true;
            };
            let Some((action, repeats)) = KeyAction::of(*key) else {
                return true;
            };
            if !modifiers.is_none() {
                return true;
            }
            if *pressed && (repeats || !*repeat) {
                actions.push(action);
            }
            false
        });
    });
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_in_the_help_has_an_action_and_others_have_none() {
        for key in [
            Key::Space,
            Key::Enter,
            Key::Escape,
            Key::ArrowUp,
            Key::ArrowDown,
            Key::ArrowLeft,
            Key::ArrowRight,
        ] {
            let name = match key {
                Key::ArrowUp => "Up",
                Key::ArrowDown => "Down",
                Key::ArrowLeft => "Left",
                Key::ArrowRight => "Right",
                Key::Escape => "Esc",
                k => k.name(),
            };
            assert!(KEYS_HELP.contains(name), "{name} is listed");
            assert!(KeyAction::of(key).is_some());
        }
        assert_eq!(KeyAction::of(Key::A), None);
        assert_eq!(
            KeyAction::of(Key::Space),
            Some((KeyAction::PlayPause, false))
        );
    }
}
