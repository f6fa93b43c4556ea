//! ANY THREAD: the output buses a stem can go to: the stereo main output
//! (front of house) and eight stereo aux outputs named by role (the band's
//! in-ears: click, spoken guide cues, stem groups). Names are fixed at
//! compile time because plugin formats fix port names when the plugin is
//! scanned (nice-plug never asks the host to rescan its ports).

/// One output bus. Every stem goes to exactly one; [`Bus::Main`] is the
/// default and the only bus the auto-master processes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Bus {
    /// The main stereo output (front of house), through the auto-master.
    #[default]
    Main,
    /// Click (metronome) for in-ears; also where the generated count-in
    /// and click play.
    Click,
    /// Spoken guide cues ("chorus in 2, 3, 4").
    Guide,
    /// Drums.
    Drums,
    /// Bass.
    Bass,
    /// Keys.
    Keys,
    /// Vocals.
    Vocals,
    /// Anything else, first spare pair.
    #[serde(alias = "aux 1", alias = "aux_1", alias = "aux-1")]
    Aux1,
    /// Anything else, second spare pair.
    #[serde(alias = "aux 2", alias = "aux_2", alias = "aux-2")]
    Aux2,
}

/// Buses in all (main included).
pub const BUS_COUNT: usize = 9;

/// Aux buses (every bus but main): the plugin's aux output ports, in
/// [`Bus::ALL`] order after main.
pub const AUX_BUS_COUNT: usize = BUS_COUNT - 1;

/// Output channels in all: two per bus (left, right), bus after bus.
pub const BUS_CHANNELS: usize = 2 * BUS_COUNT;

/// The aux buses' port names, in port order (what hosts show: REAPER's
/// pins, Bitwig's chains, JACK's port names).
pub const AUX_BUS_NAMES: [&str; AUX_BUS_COUNT] = [
    "Click", "Guide", "Drums", "Bass", "Keys", "Vocals", "Aux 1", "Aux 2",
];

impl Bus {
    /// Every bus, in port order: main, then the aux buses.
    pub const ALL: [Bus; BUS_COUNT] = [
        Bus::Main,
        Bus::Click,
        Bus::Guide,
        Bus::Drums,
        Bus::Bass,
        Bus::Keys,
        Bus::Vocals,
        Bus::Aux1,
        Bus::Aux2,
    ];

    /// Index in [`Bus::ALL`] (0 = main; aux port `i` is bus `i + 1`).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The bus at `index` in [`Bus::ALL`], if any.
    pub fn from_index(index: usize) -> Option<Bus> {
        Bus::ALL.get(index).copied()
    }

    /// Display and port name ("Main", "Click", …, "Aux 1").
    pub const fn name(self) -> &'static str {
        match self {
            Bus::Main => "Main",
            Bus::Click => AUX_BUS_NAMES[0],
            Bus::Guide => AUX_BUS_NAMES[1],
            Bus::Drums => AUX_BUS_NAMES[2],
            Bus::Bass => AUX_BUS_NAMES[3],
            Bus::Keys => AUX_BUS_NAMES[4],
            Bus::Vocals => AUX_BUS_NAMES[5],
            Bus::Aux1 => AUX_BUS_NAMES[6],
            Bus::Aux2 => AUX_BUS_NAMES[7],
        }
    }

    /// The name in setlists and on the command line ("main", "click", …,
    /// "aux1").
    pub const fn key(self) -> &'static str {
        match self {
            Bus::Main => "main",
            Bus::Click => "click",
            Bus::Guide => "guide",
            Bus::Drums => "drums",
            Bus::Bass => "bass",
            Bus::Keys => "keys",
            Bus::Vocals => "vocals",
            Bus::Aux1 => "aux1",
            Bus::Aux2 => "aux2",
        }
    }

    /// Parses a bus name as [`Bus::key`] or [`Bus::name`] write it, case
    /// and space insensitive ("Click", "aux 1", "AUX-2"). Allocation-free.
    pub fn parse(text: &str) -> Option<Bus> {
        Bus::ALL
            .into_iter()
            .find(|b| folded(b.key()).eq(folded(text)))
    }

    /// The bus a stem goes to by default in a folder setlist, from its file
    /// name: a word starting with "click" or "metronome" (or the words
    /// "metro", "met") goes to [`Bus::Click`]; a word starting with "guide"
    /// or "cue", or the words "count", "counts", "countin", "countoff",
    /// "counting" go to [`Bus::Guide`] ("Country Guitar" stays on main);
    /// everything else to [`Bus::Main`]. Words split at anything not a
    /// letter and at lower-to-upper case changes ("ClickTrack", "07_cues").
    /// Allocation-free.
    pub fn from_file_name(name: &str) -> Bus {
        let (mut click, mut guide) = (false, false);
        let mut word = Word::default();
        let mut prev_lower = false;
        for c in name.chars() {
            if !c.is_alphabetic() || (c.is_uppercase() && prev_lower) {
                click |= word.is_click();
                guide |= word.is_guide();
                word = Word::default();
            }
            if c.is_alphabetic() {
                word.push(c);
            }
            prev_lower = c.is_lowercase();
        }
        click |= word.is_click();
        guide |= word.is_guide();
        if click {
            Bus::Click
        } else if guide {
            Bus::Guide
        } else {
            Bus::Main
        }
    }
}

/// `s`'s letters and digits, lowercased (ASCII): what [`Bus::parse`]
/// compares.
fn folded(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
}

/// The first 16 letters of a word, lowercased (ASCII), and its length.
#[derive(Default)]
struct Word {
    letters: [u8; 16],
    len: usize,
}

impl Word {
    fn push(&mut self, c: char) {
        if let Some(slot) = self.letters.get_mut(self.len) {
            *slot = if c.is_ascii() {
                c.to_ascii_lowercase() as u8
            } else {
                b'?'
            };
        }
        self.len += 1;
    }

    fn text(&self) -> &[u8] {
        &self.letters[..self.len.min(self.letters.len())]
    }

    /// The whole word is `w` (not only its first 16 letters).
    fn is(&self, w: &str) -> bool {
        self.len == w.len() && self.text() == w.as_bytes()
    }

    fn is_click(&self) -> bool {
        let t = self.text();
        t.starts_with(b"click") || t.starts_with(b"metronome") || self.is("metro") || self.is("met")
    }

    fn is_guide(&self) -> bool {
        let t = self.text();
        t.starts_with(b"guide")
            || t.starts_with(b"cue")
            || ["count", "counts", "countin", "countoff", "counting"]
                .into_iter()
                .any(|w| self.is(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keys_and_indices_agree() {
        for (i, b) in Bus::ALL.into_iter().enumerate() {
            assert_eq!(b.index(), i);
            assert_eq!(Bus::from_index(i), Some(b));
            assert_eq!(Bus::parse(b.key()), Some(b));
            assert_eq!(Bus::parse(b.name()), Some(b));
            if i > 0 {
                assert_eq!(AUX_BUS_NAMES[i - 1], b.name());
            }
        }
        assert_eq!(Bus::parse("AUX-2"), Some(Bus::Aux2));
        assert_eq!(Bus::parse("aux 1"), Some(Bus::Aux1));
        assert_eq!(Bus::parse("monitor"), None);
        assert_eq!(Bus::from_index(BUS_COUNT), None);
    }

    #[test]
    fn file_names_choose_click_and_guide() {
        for (name, bus) in [
            ("click", Bus::Click),
            ("07_Click Track", Bus::Click),
            ("ClickTrack", Bus::Click),
            ("Metronome", Bus::Click),
            ("Guide Vox", Bus::Guide),
            ("cues", Bus::Guide),
            ("Count-In", Bus::Guide),
            ("CountIn", Bus::Guide),
            ("counting", Bus::Guide),
            ("Country Guitar", Bus::Main),
            ("Rescue Pad", Bus::Main),
            ("drums", Bus::Main),
            ("Lead Vocals", Bus::Main),
            ("", Bus::Main),
        ] {
            assert_eq!(Bus::from_file_name(name), bus, "{name}");
        }
    }
}
