//! ANY THREAD: the identity of one chunk of one stem, packed in 64 bits so it
//! can live in an atomic.

/// Identifies chunk `chunk` of stem `stem` of song `song` in the setlist
/// loaded as `epoch`.
///
/// Packed as `epoch:16 | song:12 | stem:8 | chunk:28`. A chunk is
/// [`super::CHUNK_FRAMES`] frames, so 2^28 chunks cover ≈ 26 hours at
/// 192 kHz: far beyond any stem the setlist limits allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkKey(u64);

impl ChunkKey {
    /// The raw value no real key has; a slot holding it is empty.
    pub const NONE: u64 = u64::MAX;
    /// The raw value a slot holds while its content is being replaced.
    pub const BUSY: u64 = u64::MAX - 1;

    /// Largest epoch; epochs wrap to 0 after it, so no key ever equals
    /// [`Self::NONE`] or [`Self::BUSY`].
    pub const MAX_EPOCH: u16 = 0xfffe;

    /// Songs a key can tell apart (12 bits).
    pub const MAX_SONGS: usize = 1 << 12;
    /// Stems per song a key can tell apart (8 bits).
    pub const MAX_STEMS: usize = 1 << 8;
    /// Chunks per stem a key can tell apart (28 bits).
    pub const MAX_CHUNKS: u64 = 1 << 28;

    /// Packs a key. Realtime-safe. Fields wider than their bit budget are
    /// masked; the setlist limits keep real values inside it.
    #[inline]
    pub const fn new(epoch: u16, song: u16, stem: u8, chunk: u32) -> Self {
        Self(
            ((epoch as u64) << 48)
                | (((song as u64) & 0xfff) << 36)
                | ((stem as u64) << 28)
                | ((chunk as u64) & 0x0fff_ffff),
        )
    }

    /// The packed value stored in a slot. Realtime-safe.
    #[inline]
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// The key a slot's packed value holds (not [`Self::NONE`] or
    /// [`Self::BUSY`], which are not keys). Realtime-safe.
    #[inline]
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// Setlist epoch. Realtime-safe.
    #[inline]
    pub const fn epoch(self) -> u16 {
        (self.0 >> 48) as u16
    }

    /// Song index in the setlist. Realtime-safe.
    #[inline]
    pub const fn song(self) -> u16 {
        ((self.0 >> 36) & 0xfff) as u16
    }

    /// Stem index in the song. Realtime-safe.
    #[inline]
    pub const fn stem(self) -> u8 {
        ((self.0 >> 28) & 0xff) as u8
    }

    /// Chunk index in the stem. Realtime-safe.
    #[inline]
    pub const fn chunk(self) -> u32 {
        (self.0 & 0x0fff_ffff) as u32
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_macros, clippy::disallowed_methods)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let k = ChunkKey::new(ChunkKey::MAX_EPOCH, 4095, 255, (1 << 28) - 1);
        assert_eq!(
            (k.epoch(), k.song(), k.stem(), k.chunk()),
            (ChunkKey::MAX_EPOCH, 4095, 255, (1 << 28) - 1)
        );
        assert_ne!(k.raw(), ChunkKey::NONE);
        assert_ne!(k.raw(), ChunkKey::BUSY);
        let k = ChunkKey::new(3, 17, 29, 1234);
        assert_eq!(
            (k.epoch(), k.song(), k.stem(), k.chunk()),
            (3, 17, 29, 1234)
        );
    }
}
