//! AUDIO THREAD (the layouts: any thread): the plugin's audio I/O: its
//! port layouts (main and the aux buses), the host's buffers as the
//! engine's [`Outputs`], the master gain over every bus, and one render
//! that waits for the loader offline.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use nice_plug::prelude::*;

use super::params::TraxParams;
use crate::bridge::{AUX_BUS_COUNT, AUX_BUS_NAMES, BUS_CHANNELS};
use crate::engine::output::sanitize;
use crate::{Engine, Outputs};

/// Main and the eight aux buses ([`AUX_BUS_NAMES`]): the default layout.
pub const BUS_LAYOUT: AudioIOLayout = AudioIOLayout {
    main_input_channels: None,
    main_output_channels: NonZeroU32::new(2),
    aux_input_ports: &[],
    aux_output_ports: &[new_nonzero_u32(2); AUX_BUS_COUNT],
    names: PortNames {
        layout: Some("Main + 8 aux"),
        // nice-plug 0.4.2 names the main output after `main_input`.
        main_input: Some("Main"),
        main_output: Some("Main"),
        aux_inputs: &[],
        aux_outputs: &AUX_BUS_NAMES,
    },
};

/// Main only, for hosts that will not give the aux buses buffers (they
/// choose it through CLAP's audio-ports-config or VST3's bus
/// arrangements): stems on aux buses are then not heard.
pub const MAIN_ONLY_LAYOUT: AudioIOLayout = AudioIOLayout {
    main_input_channels: None,
    main_output_channels: NonZeroU32::new(2),
    aux_input_ports: &[],
    aux_output_ports: &[],
    names: PortNames {
        layout: Some("Main only"),
        main_input: Some("Main"),
        main_output: Some("Main"),
        aux_inputs: &[],
        aux_outputs: &[],
    },
};

/// The host's main and aux buffers as the engine's [`Outputs`] (bus `b` is
/// aux port `b - 1`; a port the host gave no stereo buffer is not
/// connected). Realtime-safe.
pub(super) fn bus_outputs<'c, 'a: 'c, 'b: 'c>(
    buffer: &mut Buffer<'a>,
    aux: &mut AuxiliaryBuffers<'b>,
) -> Outputs<'c> {
    let mut channels: [&'c mut [f32]; BUS_CHANNELS] = Default::default();
    if let [l, r] = buffer.as_slice() {
        channels[0] = std::mem::take(l);
        channels[1] = std::mem::take(r);
    }
    for (pair, port) in channels[2..]
        .chunks_exact_mut(2)
        .zip(aux.outputs.iter_mut())
    {
        if let [l, r] = port.as_slice() {
            pair[0] = std::mem::take(l);
            pair[1] = std::mem::take(r);
        }
    }
    Outputs::new(channels)
}

/// Zeroes every connected bus of `out`. Realtime-safe.
pub(super) fn silence(out: &mut Outputs) {
    for c in out.channels_mut().iter_mut() {
        c.fill(0.0);
    }
}

/// The master gain (`gain_db`, smoothed) on every bus of `out` (the
/// plugin's output level: main and aux alike, so click stays at its level
/// against the music in the in-ears), and the output's sanitising. 0 dB is
/// exactly unity (10^0): a host that hands the parameter back normalised
/// lands on its 0.1 dB step. Realtime-safe.
pub(super) fn apply_master_gain(params: &TraxParams, out: &mut Outputs) {
    let smoothed = &params.gain_db.smoothed;
    let channels = out.channels_mut();
    if smoothed.is_smoothing() {
        let frames = channels[0].len();
        for i in 0..frames {
            let g = util::db_to_gain(smoothed.next());
            for c in channels.iter_mut() {
                if let Some(x) = c.get_mut(i) {
                    *x = sanitize(*x * g);
                }
            }
        }
    } else {
        let g = util::db_to_gain(smoothed.next());
        for c in channels.iter_mut() {
            for x in c.iter_mut() {
                *x = sanitize(*x * g);
            }
        }
    }
}

/// Renders every bus of `out`. Offline (`wait`: the limit of one wait),
/// waits for the loader where data is not resident, up to the limit; then
/// (and always in realtime) late data is silence. Nothing playing is
/// silence. Returns the time spent waiting.
pub(super) fn render(engine: &mut Engine, wait: Option<Duration>, out: &mut Outputs) -> Duration {
    let n = out.frames();
    let Some(limit) = wait else {
        engine.process_buses(out);
        return Duration::ZERO;
    };
    let mut driver =
        crate::offline::Driver::new(crate::offline::Wait::Sleep).with_stall_limit(limit);
    let start = Instant::now();
    match driver.render_buses(engine, out) {
        Ok(r) => {
            if r.idle {
                // Offline and idle: the engine renders nothing; the rest is
                // silence, through the auto-master's delay like any frame
                // (what it still holds comes out, and its latency stays
                // constant).
                engine.render_tail_buses(&mut out.range(r.frames, n));
            }
            r.waited
        }
        Err(
            crate::offline::Stop::Stalled { frames } | crate::offline::Stop::Cancelled { frames },
        ) => {
            // Give up: render the rest as realtime would (late data is
            // silence, counted as underruns in the engine's stats).
            engine.stop_waiting();
            engine.set_mode(crate::ProcessMode::Realtime);
            engine.process_buses(&mut out.range(frames, n));
            engine.set_mode(crate::ProcessMode::Offline);
            start.elapsed()
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_types)]
mod tests {
    use super::*;
    use crate::{Trax, TraxVst3};

    #[test]
    fn clap_offers_every_bus_first_and_vst3_main_only_first() {
        let clap = Trax::AUDIO_IO_LAYOUTS[0];
        assert_eq!(clap.main_output_name(), "Main");
        let names: Vec<String> = (0..clap.aux_output_ports.len())
            .filter_map(|i| clap.aux_output_name(i))
            .collect();
        assert_eq!(
            names,
            ["Click", "Guide", "Drums", "Bass", "Keys", "Vocals", "Aux 1", "Aux 2"]
        );
        assert!(clap.aux_output_ports.iter().all(|c| c.get() == 2));
        assert!(Trax::AUDIO_IO_LAYOUTS[1].aux_output_ports.is_empty());
        let vst3 = TraxVst3::AUDIO_IO_LAYOUTS;
        assert!(vst3[0].aux_output_ports.is_empty(), "VST3: main only first");
        assert_eq!(vst3[0].main_output_name(), "Main");
        assert_eq!(vst3[1].aux_output_ports.len(), AUX_BUS_COUNT);
    }
}
