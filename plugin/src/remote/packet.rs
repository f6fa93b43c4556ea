//! REMOTE THREAD: one UDP datagram as the OSC messages it carries, and
//! what is wrong with it when it is not OSC Trax takes ([`Malformed`]).
//! Bundles are flattened in order; their timetags are ignored (every
//! message acts at once). Pure: no I/O, no clock.
//!
//! `rosc` decodes, after a structural check of ours: its decoder recurses
//! once per nested bundle and builds nested arrays whose drop recurses
//! too, so a 64 KiB datagram of 3000 nested bundles (or of `[[[[…]]]]`
//! type tags) could overflow the thread's stack. Bundles nested deeper
//! than [`MAX_BUNDLE_DEPTH`] and array arguments (no address takes one)
//! are refused before `rosc` sees them.

use rosc::{OscMessage, OscPacket};

/// How deep bundles may nest (a bundle inside a bundle is depth 2). OSC
/// senders nest one or two levels at most.
pub const MAX_BUNDLE_DEPTH: usize = 8;

/// The largest datagram the remote reads, bytes: the largest UDP payload
/// over IPv4 (65 535 − 8 − 20).
pub const MAX_DATAGRAM_BYTES: usize = 65_507;

/// Why a datagram or a message is not one Trax takes. Each one counts
/// once in [`super::RemoteCounters::malformed`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// Not OSC at all (or truncated): rosc's reason.
    #[error("not an OSC packet ({0})")]
    NotOsc(String),
    /// Bundles nested deeper than [`MAX_BUNDLE_DEPTH`].
    #[error("OSC bundles nested more than {MAX_BUNDLE_DEPTH} deep")]
    TooDeep,
    /// An array argument (`[` in the type tags): no address takes one.
    #[error("{0}: array arguments are not taken")]
    Array(String),
    /// An address Trax does not answer.
    #[error("unknown OSC address {0}")]
    UnknownAddress(String),
    /// A known address with arguments of the wrong type or count, or a
    /// value out of range (`why` says which).
    #[error("{address}: {why}")]
    Arguments {
        /// The message's address.
        address: String,
        /// What was expected.
        why: &'static str,
    },
}

/// The messages of one datagram, in order (a bundle's, flattened,
/// timetags ignored).
///
/// # Errors
/// [`Malformed::NotOsc`] for bytes that are not one OSC packet,
/// [`Malformed::TooDeep`] and [`Malformed::Array`] for what is refused
/// before decoding (see the module's comment). Bytes after the packet are
/// ignored.
pub fn decode(bytes: &[u8]) -> Result<Vec<OscMessage>, Malformed> {
    check(bytes, 1)?;
    let (_, packet) =
        rosc::decoder::decode_udp(bytes).map_err(|e| Malformed::NotOsc(e.to_string()))?;
    let mut messages = Vec::new();
    flatten(packet, &mut messages);
    Ok(messages)
}

fn flatten(packet: OscPacket, out: &mut Vec<OscMessage>) {
    match packet {
        OscPacket::Message(m) => out.push(m),
        OscPacket::Bundle(b) => {
            for p in b.content {
                flatten(p, out);
            }
        }
    }
}

/// The bundle header: `#bundle\0` and an 8-byte timetag.
const BUNDLE_TAG: &[u8] = b"#bundle\0";
const BUNDLE_HEADER_BYTES: usize = 16;

/// Refuses what `rosc` must not see: bundles deeper than
/// [`MAX_BUNDLE_DEPTH`] (`depth`: this packet's) and array arguments.
/// Anything else wrong is left to `rosc`, which reports it.
fn check(bytes: &[u8], depth: usize) -> Result<(), Malformed> {
    if !bytes.starts_with(BUNDLE_TAG) {
        return check_message(bytes);
    }
    if depth > MAX_BUNDLE_DEPTH {
        return Err(Malformed::TooDeep);
    }
    let mut rest = bytes.get(BUNDLE_HEADER_BYTES..).unwrap_or_default();
    while let Some((size, after)) = rest.split_first_chunk::<4>() {
        let size = u32::from_be_bytes(*size) as usize;
        let Some(element) = after.get(..size) else {
            // Shorter than it says: rosc reports it.
            return Ok(());
        };
        check(element, depth + 1)?;
        rest = &after[size..];
    }
    Ok(())
}

/// A message's type tags (the string after its address) hold no `[`.
fn check_message(bytes: &[u8]) -> Result<(), Malformed> {
    let Some(address_end) = bytes.iter().position(|&b| b == 0) else {
        return Ok(());
    };
    // The address, its NUL and padding to a multiple of 4 bytes.
    let tags_start = (address_end + 4) & !3;
    let tags = bytes.get(tags_start..).unwrap_or_default();
    let tags = &tags[..tags.iter().position(|&b| b == 0).unwrap_or(tags.len())];
    if tags.first() == Some(&b',') && tags.contains(&b'[') {
        let address = String::from_utf8_lossy(&bytes[..address_end]).into_owned();
        return Err(Malformed::Array(address));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rosc::{OscBundle, OscTime, OscType};

    fn message(addr: &str, args: Vec<OscType>) -> OscPacket {
        OscPacket::Message(OscMessage {
            addr: addr.into(),
            args,
        })
    }

    fn bundle(content: Vec<OscPacket>) -> OscPacket {
        OscPacket::Bundle(OscBundle {
            // A time in the future: ignored, the messages act at once.
            timetag: OscTime::from((4_000_000_000, 0)),
            content,
        })
    }

    fn bytes(p: &OscPacket) -> Vec<u8> {
        rosc::encoder::encode(p).unwrap()
    }

    #[test]
    fn a_message_and_a_nested_bundle_come_out_in_order() {
        let m = message("/trax/song", vec![OscType::Int(2)]);
        assert_eq!(decode(&bytes(&m)).unwrap().len(), 1);
        let b = bundle(vec![
            message("/trax/song", vec![OscType::Int(2)]),
            bundle(vec![message("/trax/play", vec![])]),
            message("/trax/vamp", vec![OscType::Float(1.0)]),
        ]);
        let addrs: Vec<String> = decode(&bytes(&b))
            .unwrap()
            .into_iter()
            .map(|m| m.addr)
            .collect();
        assert_eq!(addrs, ["/trax/song", "/trax/play", "/trax/vamp"]);
        assert_eq!(decode(&bytes(&bundle(vec![]))).unwrap(), []);
    }

    #[test]
    fn garbage_truncation_and_deep_nesting_are_malformed_not_a_crash() {
        for garbage in [
            &b""[..],
            b"hello",
            b"\xff\xfe\x00\x00",
            b"/trax/play",
            b"#bundle\0",
        ] {
            assert!(
                matches!(decode(garbage), Err(Malformed::NotOsc(_))),
                "{garbage:?}"
            );
        }
        let full = bytes(&message("/trax/jump/section", vec![OscType::Int(2)]));
        for cut in 1..full.len() {
            assert!(decode(&full[..cut]).is_err(), "cut at {cut}");
        }
        // Nested exactly as deep as allowed, then one deeper.
        let mut p = message("/trax/play", vec![]);
        for _ in 0..MAX_BUNDLE_DEPTH {
            p = bundle(vec![p]);
        }
        assert_eq!(decode(&bytes(&p)).unwrap().len(), 1);
        assert_eq!(decode(&bytes(&bundle(vec![p]))), Err(Malformed::TooDeep));
        // 3000 levels in one datagram: refused without recursing.
        let mut deep = Vec::new();
        for _ in 0..3000 {
            let mut b = BUNDLE_TAG.to_vec();
            b.extend_from_slice(&[0; 8]);
            if !deep.is_empty() {
                b.extend_from_slice(&(deep.len() as u32).to_be_bytes());
                b.extend_from_slice(&deep);
            }
            deep = b;
        }
        assert!(deep.len() < MAX_DATAGRAM_BYTES);
        assert_eq!(decode(&deep), Err(Malformed::TooDeep));
    }

    #[test]
    fn array_arguments_are_refused_before_decoding() {
        // `,[[[[...]]]]`: 10 000 nested arrays would drop recursively.
        let mut raw = b"/trax/song\0\0".to_vec();
        let mut tags = b",".to_vec();
        tags.extend(std::iter::repeat_n(b'[', 10_000));
        tags.extend(std::iter::repeat_n(b']', 10_000));
        tags.push(0);
        while !tags.len().is_multiple_of(4) {
            tags.push(0);
        }
        raw.extend_from_slice(&tags);
        assert_eq!(decode(&raw), Err(Malformed::Array("/trax/song".into())));
        let one = message(
            "/trax/song",
            vec![OscType::Array(rosc::OscArray {
                content: vec![OscType::Int(1)],
            })],
        );
        assert!(matches!(decode(&bytes(&one)), Err(Malformed::Array(_))));
    }
}
