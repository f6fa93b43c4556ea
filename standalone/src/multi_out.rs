//! AUDIO THREAD (the device callback) and MAIN THREAD (setup): `trax play
//! --outputs MAP`: the plugin on a multichannel device with every bus on
//! the device channels the channel map gives ([`ChannelMap`]), because
//! nice-plug's cpal backend (ALSA, CoreAudio) only plays the main output.
//! Headless: songs start from MIDI (`--midi-input`, note `base_note + n`
//! plays song `n + 1`, a program change cues) or `--start-song`; each song
//! ends as the setlist says. `--backend dummy` needs no device: it plays at
//! real time into nothing, or with `--capture FILE` renders offline (exact,
//! as fast as the disk allows) the device's channels into a WAV file.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use trax::bridge::BUS_CHANNELS;
use trax::{Outputs, Trax};

use crate::channel_map::ChannelMap;

/// The standalone options `--outputs` mode reads (nice-plug's names).
#[derive(Parser, Debug)]
#[command(no_binary_name = true)]
struct DeviceArgs {
    /// auto (the system's default audio), alsa, coreaudio or dummy.
    #[arg(long, default_value = "auto")]
    backend: String,
    /// The output device's name (default: the system's default).
    #[arg(long)]
    output_device: Option<String>,
    /// Sample rate, Hz.
    #[arg(long, default_value_t = 48_000)]
    sample_rate: u32,
    /// Frames per device period.
    #[arg(long, default_value_t = 512)]
    period_size: u32,
    /// The MIDI input port's name (midir).
    #[arg(long)]
    midi_input: Option<String>,
}

/// What `trax play` hands to this mode.
pub struct MultiOut {
    /// The channel map (`--outputs`).
    pub map: ChannelMap,
    /// `--capture FILE` (dummy backend): the device channels, as WAV.
    pub capture: Option<PathBuf>,
    /// `--seconds`: how long the dummy backend runs (capture: frames
    /// rendered), else until interrupted.
    pub seconds: Option<f64>,
    /// `--start-song N` (1-based): play song N once the setlist is loaded.
    pub start_song: Option<u8>,
    /// The standalone options given after the setlist.
    pub device_args: Vec<String>,
}

/// A MIDI message for the audio thread (status, data 1, data 2).
type Midi = [u8; 3];

/// What runs on the audio thread: the plugin, its bus buffers, the map.
struct Renderer {
    trax: Trax,
    map: ChannelMap,
    buses: Vec<Vec<f32>>,
    midi: Option<rtrb::Consumer<Midi>>,
    start_key: Option<u8>,
}

impl Renderer {
    /// Renders `device.len() / channels` frames into the interleaved
    /// `device` buffer. Realtime-safe (offline, the plugin may wait).
    fn render(&mut self, device: &mut [f32], channels: usize) {
        let frames = device.len() / channels.max(1);
        let capacity = self.buses[0].len();
        let mut done = 0;
        while done < frames {
            let n = (frames - done).min(capacity);
            self.trax.begin_block();
            if let Some(key) = self.start_key.take() {
                self.trax.midi_note_on(0, key);
            }
            while let Some(Ok(msg)) = self.midi.as_mut().map(rtrb::Consumer::pop) {
                match msg[0] & 0xF0 {
                    0x90 if msg[2] > 0 => self.trax.midi_note_on(msg[0] & 0x0F, msg[1]),
                    0xC0 => self.trax.midi_program_change(msg[1]),
                    _ => {}
                }
            }
            {
                let mut refs: [&mut [f32]; BUS_CHANNELS] = Default::default();
                for (r, c) in refs.iter_mut().zip(self.buses.iter_mut()) {
                    *r = &mut c[..n];
                }
                self.trax.render_block_buses(&mut Outputs::new(refs));
            }
            let buses: [&[f32]; BUS_CHANNELS] = std::array::from_fn(|c| &self.buses[c][..n]);
            self.map.route(
                &buses,
                n,
                &mut device[done * channels..(done + n) * channels],
                channels,
            );
            done += n;
        }
    }
}

/// Runs `trax play --outputs` until interrupted (or `--seconds`).
///
/// # Errors
/// Bad standalone options, no such device or MIDI port, a device without
/// the channels the map needs, or a capture that cannot be written.
pub fn run(setup: MultiOut) -> Result<()> {
    let args = DeviceArgs::try_parse_from(&setup.device_args)
        .context("trax play --outputs: standalone options")?;
    let routes: Vec<String> = trax::bridge::Bus::ALL
        .iter()
        .filter_map(|&b| {
            setup.map.target(b).map(|t| match t {
                crate::channel_map::Target::Stereo(l, r) => {
                    format!("{} -> {}-{}", b.key(), l + 1, r + 1)
                }
                crate::channel_map::Target::Mono(c) => format!("{} -> {} (mono)", b.key(), c + 1),
            })
        })
        .collect();
    tracing::info!("trax: outputs {}", routes.join(", "));
    let unmapped: Vec<&str> = setup.map.unmapped().iter().map(|b| b.key()).collect();
    if !unmapped.is_empty() {
        tracing::warn!(
            "trax: no device channel for bus {}: stems routed there are not heard",
            unmapped.join(", ")
        );
    }
    let offline = setup.capture.is_some();
    if offline && args.backend != "dummy" {
        bail!("--capture needs --backend dummy");
    }
    let mut trax = Trax::default();
    if !trax.start(args.sample_rate, offline) {
        bail!("the player cannot start at {} Hz", args.sample_rate);
    }
    let base_note = trax.params_arc().base_note.value();
    let start_key = setup
        .start_song
        .map(|n| i32::from(n.max(1)) - 1 + base_note)
        .and_then(|k| u8::try_from(k).ok())
        .filter(|&k| k < 128);
    let period = args.period_size.clamp(16, 8192) as usize;
    let (midi_tx, midi_rx) = rtrb::RingBuffer::<Midi>::new(256);
    let mut renderer = Renderer {
        trax,
        map: setup.map.clone(),
        buses: vec![vec![0.0; period]; BUS_CHANNELS],
        midi: Some(midi_rx),
        start_key,
    };
    let _midi = match &args.midi_input {
        Some(name) => Some(connect_midi(name, midi_tx)?),
        None => None,
    };
    if args.backend == "dummy" {
        return run_dummy(&mut renderer, &setup, args.sample_rate, period);
    }
    run_device(renderer, &setup.map, &args, period)
}

/// The dummy backend: `--capture` renders offline into a WAV file of the
/// device channels the map uses; else real time into nothing.
fn run_dummy(renderer: &mut Renderer, setup: &MultiOut, rate: u32, period: usize) -> Result<()> {
    let channels = setup.map.channels_needed().max(1);
    let mut device = vec![0.0f32; period * channels];
    let total = setup.seconds.map(|s| (s * f64::from(rate)) as u64);
    let mut writer = match &setup.capture {
        Some(path) => {
            let spec = hound::WavSpec {
                channels: u16::try_from(channels).context("too many channels")?,
                sample_rate: rate,
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
            };
            Some(
                hound::WavWriter::create(path, spec)
                    .with_context(|| format!("{}: cannot write the capture", path.display()))?,
            )
        }
        None => None,
    };
    tracing::info!(
        "trax: dummy output, {channels} channels at {rate} Hz{}",
        setup
            .capture
            .as_ref()
            .map_or(String::new(), |p| format!(", capture to {}", p.display()))
    );
    let start = Instant::now();
    let mut rendered = 0u64;
    while total.is_none_or(|t| rendered < t) {
        renderer.render(&mut device, channels);
        if let Some(w) = writer.as_mut() {
            for &s in &device {
                w.write_sample(s).context("writing the capture")?;
            }
        } else {
            let due = start
                + Duration::from_secs_f64((rendered + period as u64) as f64 / f64::from(rate));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        rendered += period as u64;
    }
    if let Some(w) = writer {
        w.finalize().context("finishing the capture")?;
    }
    Ok(())
}

/// A cpal device (ALSA on Linux, CoreAudio on macOS) with at least the
/// channels the map needs, 32-bit float, at the rate and period asked.
fn run_device(
    mut renderer: Renderer,
    map: &ChannelMap,
    args: &DeviceArgs,
    period: usize,
) -> Result<()> {
    let host = cpal::default_host();
    let device = match &args.output_device {
        Some(name) => host
            .output_devices()
            .context("cannot list the audio output devices")?
            .find(|d| d.description().map(|n| n.name() == name).unwrap_or(false))
            .with_context(|| {
                let names: Vec<String> = host
                    .output_devices()
                    .map(|ds| {
                        ds.filter_map(|d| d.description().map(|d| d.name().to_string()).ok())
                            .collect()
                    })
                    .unwrap_or_default();
                format!("no output device {name:?}; there are: {}", names.join(", "))
            })?,
        None => host
            .default_output_device()
            .context("no default audio output device")?,
    };
    let needed = map.channels_needed();
    let range = device
        .supported_output_configs()
        .context("cannot read the device's configurations")?
        .filter(|c| c.sample_format() == cpal::SampleFormat::F32)
        .filter(|c| (c.min_sample_rate()..=c.max_sample_rate()).contains(&args.sample_rate))
        .filter(|c| usize::from(c.channels()) >= needed)
        .min_by_key(|c| c.channels())
        .with_context(|| {
            format!(
                "the output device has no 32-bit float configuration of at least {needed} channels \
                 at {} Hz (the channel map needs {needed})",
                args.sample_rate
            )
        })?;
    let channels = usize::from(range.channels());
    let buffer_size = match range.buffer_size() {
        cpal::SupportedBufferSize::Range { min, max }
            if (*min..=*max).contains(&(period as u32)) =>
        {
            cpal::BufferSize::Fixed(period as u32)
        }
        _ => cpal::BufferSize::Default,
    };
    let config = cpal::StreamConfig {
        channels: range.channels(),
        sample_rate: args.sample_rate,
        buffer_size,
    };
    tracing::info!(
        "trax: {channels}-channel output at {} Hz, the map uses {needed}",
        args.sample_rate
    );
    let stream = device
        .build_output_stream(
            config,
            move |data: &mut [f32], _| renderer.render(data, channels),
            |e| tracing::error!("trax: audio device error: {e}"),
            None,
        )
        .context("cannot open the output stream")?;
    stream.play().context("cannot start the output stream")?;
    loop {
        std::thread::park();
    }
}

/// Opens MIDI input port `name` (midir); its note-ons and program changes
/// go to the audio thread through `tx`. Keep the connection alive.
fn connect_midi(
    name: &str,
    tx: rtrb::Producer<Midi>,
) -> Result<midir::MidiInputConnection<rtrb::Producer<Midi>>> {
    let input = midir::MidiInput::new("trax").context("cannot open MIDI input")?;
    let ports = input.ports();
    let port = ports
        .iter()
        .find(|p| input.port_name(p).as_deref() == Ok(name))
        .with_context(|| {
            let names: Vec<String> = ports
                .iter()
                .filter_map(|p| input.port_name(p).ok())
                .collect();
            format!("no MIDI input {name:?}; there are: {}", names.join(", "))
        })?
        .clone();
    input
        .connect(
            &port,
            "trax-input",
            |_, msg, tx: &mut rtrb::Producer<Midi>| {
                if let [status, a, rest @ ..] = msg {
                    let b = rest.first().copied().unwrap_or(0);
                    let _ = tx.push([*status, *a, b]);
                }
            },
            tx,
        )
        .map_err(|e| anyhow::anyhow!("cannot connect to MIDI input {name:?}: {e}"))
}
