//! LOADER THREADS: a source's timestamps in frames, and the correction
//! of symphonia 0.6's early stamps on an Ogg stream's first page.

use symphonia::core::packet::Packet;
use symphonia::core::units::Timestamp;

use super::SourceReader;
use crate::loader::error::StemError;

impl SourceReader {
    /// A duration in the track's time base, in frames at the file's rate.
    pub(super) fn ts_to_frames(&self, ts: u64) -> u64 {
        match self.time_base {
            Some(tb) if !(tb.numer.get() == 1 && tb.denom.get() == self.info.sample_rate_hz) => {
                (u128::from(ts) * u128::from(tb.numer.get()) * u128::from(self.info.sample_rate_hz)
                    / u128::from(tb.denom.get())) as u64
            }
            _ => ts,
        }
    }

    /// Like [`Self::ts_to_frames`] for a timestamp, which may be negative
    /// (e.g. an Ogg stream whose first granule position is negative, or an
    /// MP3's encoder delay).
    pub(super) fn ts_to_frames_signed(&self, ts: Timestamp) -> i64 {
        let ts = ts.get();
        let frames = self.ts_to_frames(ts.unsigned_abs()) as i64;
        if ts < 0 {
            -frames
        } else {
            frames
        }
    }

    /// The frame of the first sample the decoder outputs for `packet`: its
    /// presentation timestamp plus the encoder delay the decoder trims
    /// (gapless).
    pub(super) fn first_frame(&self, packet: &Packet) -> i64 {
        let shift = match self.early_stamp_shift {
            Some((before_ts, frames)) if packet.pts.get() < before_ts => frames,
            _ => 0,
        };
        self.ts_to_frames_signed(packet.pts)
            + self.ts_to_frames(packet.trim_start.get()) as i64
            + shift
    }

    pub(super) fn frames_to_ts(&self, frames: u64) -> Timestamp {
        let ts = match self.time_base {
            Some(tb) if !(tb.numer.get() == 1 && tb.denom.get() == self.info.sample_rate_hz) => {
                (u128::from(frames) * u128::from(tb.denom.get())
                    / (u128::from(tb.numer.get()) * u128::from(self.info.sample_rate_hz)))
                    as u64
            }
            _ => frames,
        };
        Timestamp::new(i64::try_from(ts).unwrap_or(i64::MAX))
    }

    /// symphonia 0.6 stamps the packets of an Ogg stream's first page back
    /// from the page's granule position counting the first packet's
    /// encoder-delay trim, which the decoder never outputs (a Vorbis first
    /// packet decodes to nothing): they come out `-stamped_start_ts` frames
    /// too early, and the second page's timestamps, taken from the file,
    /// jump forward by as much. The decoded frames are contiguous and add
    /// up to the granule length, so the jump is a stamping error, not a
    /// hole: when the first forward jump within the first pages equals the
    /// frames stamped before 0, the packets before it are shifted by it.
    /// Reads a few packets (demuxing only), then rewinds.
    pub(super) fn find_early_stamp_shift(
        &mut self,
        stamped_start_ts: i64,
    ) -> Result<(), StemError> {
        const MAX_PACKETS: usize = 256;
        let mut expected: Option<i64> = None;
        for _ in 0..MAX_PACKETS {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) if p.track_id == self.track_id => p,
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => break,
            };
            let start = packet.pts.get() + packet.trim_start.get() as i64;
            if let Some(expected) = expected {
                if start > expected {
                    if start - expected == -stamped_start_ts {
                        self.early_stamp_shift = Some((
                            packet.pts.get(),
                            self.ts_to_frames(stamped_start_ts.unsigned_abs()) as i64,
                        ));
                    }
                    break;
                }
            }
            expected = Some(start + packet.dur.get() as i64);
        }
        self.rewind()
    }
}
