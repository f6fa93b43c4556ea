//! The plugin's audio and note ports as the host sees them (counts,
//! channels, names), through clack's audio-ports and note-ports
//! extensions.

use clack_extensions::audio_ports::AudioPortInfoBuffer;
use clack_extensions::note_ports::NotePortInfoBuffer;

use super::ClapInstance;

/// What the plugin says about its ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortsSummary {
    /// Channel counts of the audio input ports.
    pub audio_inputs: Vec<u32>,
    /// Channel counts of the audio output ports.
    pub audio_outputs: Vec<u32>,
    /// Supported dialects (`CLAP_NOTE_DIALECT_*` bits) of each note input
    /// port.
    pub note_inputs: Vec<u32>,
}

impl ClapInstance {
    /// The plugin's audio and note ports.
    pub fn ports(&mut self) -> PortsSummary {
        let handle = self.instance.plugin_handle();
        let mut summary = PortsSummary {
            audio_inputs: Vec::new(),
            audio_outputs: Vec::new(),
            note_inputs: Vec::new(),
        };
        if let Some(ext) = self.audio_ports {
            let mut buf = AudioPortInfoBuffer::new();
            for is_input in [true, false] {
                for i in 0..ext.count(&handle, is_input) {
                    if let Some(info) = ext.get(&handle, i, is_input, &mut buf) {
                        if is_input {
                            summary.audio_inputs.push(info.channel_count);
                        } else {
                            summary.audio_outputs.push(info.channel_count);
                        }
                    }
                }
            }
        }
        if let Some(ext) = self.note_ports {
            let mut buf = NotePortInfoBuffer::new();
            for i in 0..ext.count(&handle, true) {
                if let Some(info) = ext.get(&handle, i, true, &mut buf) {
                    summary.note_inputs.push(info.supported_dialects.bits());
                }
            }
        }
        summary
    }

    /// Names of the audio output ports, in order.
    pub fn output_port_names(&mut self) -> Vec<String> {
        let handle = self.instance.plugin_handle();
        let Some(ext) = self.audio_ports else {
            return Vec::new();
        };
        let mut buf = AudioPortInfoBuffer::new();
        (0..ext.count(&handle, false))
            .filter_map(|i| {
                ext.get(&handle, i, false, &mut buf)
                    .map(|info| String::from_utf8_lossy(info.name).into_owned())
            })
            .collect()
    }
}
