//! REMOTE THREAD (tests): every address of the parser with ints and
//! floats, button releases, timings, subscriptions, and what is malformed:
//! unknown addresses, wrong types and counts, values out of range, and
//! whole datagrams through [`decode`] then [`parse`].

use std::net::{IpAddr, Ipv4Addr};

use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};

use super::address::{parse, RemoteCommand as C, ADDRESSES};
use super::packet::{decode, Malformed};
use crate::bridge::{JumpTiming, VampLength};

fn msg(addr: &str, args: Vec<OscType>) -> OscMessage {
    OscMessage {
        addr: addr.into(),
        args,
    }
}

fn ok(addr: &str, args: Vec<OscType>) -> Option<C> {
    parse(&msg(addr, args.clone())).unwrap_or_else(|e| panic!("{addr} {args:?}: {e}"))
}

fn bad(addr: &str, args: Vec<OscType>) -> Malformed {
    match parse(&msg(addr, args.clone())) {
        Err(e) => e,
        Ok(c) => panic!("{addr} {args:?} parsed as {c:?}"),
    }
}

fn s(text: &str) -> OscType {
    OscType::String(text.into())
}

use OscType::{Float as F, Int as I};

#[test]
fn triggers_fire_with_no_argument_or_a_pressed_button_and_not_on_release() {
    let triggers = [
        ("/trax/play", C::Play),
        ("/trax/pause", C::Pause),
        ("/trax/playpause", C::PlayPause),
        ("/trax/stop", C::Stop),
        ("/trax/next", C::Next),
        ("/trax/previous", C::Previous),
        ("/trax/jump/cancel", C::CancelJump),
    ];
    for (addr, command) in triggers {
        assert_eq!(ok(addr, vec![]), Some(command.clone()), "{addr}");
        assert_eq!(ok(addr, vec![I(1)]), Some(command.clone()), "{addr}");
        assert_eq!(ok(addr, vec![F(1.0)]), Some(command.clone()), "{addr}");
        assert_eq!(ok(addr, vec![OscType::Bool(true)]), Some(command), "{addr}");
        assert_eq!(ok(addr, vec![F(0.0)]), None, "{addr}: a release");
        assert_eq!(ok(addr, vec![I(0)]), None, "{addr}: a release");
        for args in [vec![s("now")], vec![I(1), I(2)], vec![OscType::Nil]] {
            assert!(
                matches!(bad(addr, args), Malformed::Arguments { .. }),
                "{addr}"
            );
        }
    }
}

#[test]
fn songs_sections_and_jumps_take_1_based_ints_or_floats_and_a_timing() {
    assert_eq!(ok("/trax/song", vec![I(2)]), Some(C::Cue(1)));
    assert_eq!(ok("/trax/song", vec![F(3.0)]), Some(C::Cue(2)));
    assert_eq!(ok("/trax/song", vec![F(2.6)]), Some(C::Cue(2)), "rounded");
    assert_eq!(ok("/trax/song/play", vec![I(1)]), Some(C::PlaySong(0)));
    assert_eq!(ok("/trax/song/play", vec![F(1.0)]), Some(C::PlaySong(0)));
    assert_eq!(
        ok("/trax/jump/section", vec![I(2), s("now")]),
        Some(C::JumpSection {
            index: 1,
            timing: Some(JumpTiming::Now)
        })
    );
    assert_eq!(
        ok("/trax/jump/section", vec![F(4.0)]),
        Some(C::JumpSection {
            index: 3,
            timing: None
        })
    );
    assert_eq!(
        ok("/trax/jump/section/name", vec![s(" Chorus "), s("BAR")]),
        Some(C::JumpSectionNamed {
            name: "Chorus".into(),
            timing: Some(JumpTiming::NextBar)
        })
    );
    assert_eq!(
        ok("/trax/jump/song", vec![I(3), s("song")]),
        Some(C::JumpSong {
            song: 2,
            timing: Some(JumpTiming::SongEnd)
        })
    );
    assert_eq!(
        ok("/trax/jump/next", vec![s("section")]),
        Some(C::JumpBy {
            delta: 1,
            timing: Some(JumpTiming::SectionEnd)
        })
    );
    assert_eq!(
        ok("/trax/jump/previous", vec![F(1.0), s("now")]),
        Some(C::JumpBy {
            delta: -1,
            timing: Some(JumpTiming::Now)
        })
    );
    assert_eq!(
        ok("/trax/jump/next", vec![]),
        Some(C::JumpBy {
            delta: 1,
            timing: None
        })
    );
    assert_eq!(ok("/trax/jump/previous", vec![I(0), s("bar")]), None);
    for (addr, args) in [
        ("/trax/song", vec![]),
        ("/trax/song", vec![I(0)]),
        ("/trax/song", vec![I(-3)]),
        ("/trax/song", vec![F(f32::NAN)]),
        ("/trax/song", vec![F(f32::INFINITY)]),
        ("/trax/song", vec![I(70_000)]),
        ("/trax/song", vec![s("2")]),
        ("/trax/song", vec![I(1), I(2)]),
        ("/trax/song/play", vec![s("one")]),
        ("/trax/jump/section", vec![]),
        ("/trax/jump/section", vec![s("Chorus")]),
        ("/trax/jump/section", vec![I(2), s("later")]),
        ("/trax/jump/section", vec![I(2), I(0)]),
        ("/trax/jump/section", vec![I(2), s("now"), s("now")]),
        ("/trax/jump/section/name", vec![I(2)]),
        ("/trax/jump/section/name", vec![]),
        ("/trax/jump/song", vec![s("x")]),
        ("/trax/jump/next", vec![s("soon")]),
    ] {
        assert!(
            matches!(bad(addr, args.clone()), Malformed::Arguments { .. }),
            "{addr} {args:?}"
        );
    }
}

#[test]
fn vamp_automaster_and_gain_take_numbers_of_either_type() {
    let section = Some(C::Vamp(Some(VampLength::Section)));
    assert_eq!(ok("/trax/vamp", vec![I(1)]), section);
    assert_eq!(ok("/trax/vamp", vec![F(1.0)]), section);
    assert_eq!(ok("/trax/vamp", vec![F(0.0)]), Some(C::Vamp(None)));
    assert_eq!(
        ok("/trax/vamp/bars", vec![F(4.0)]),
        Some(C::Vamp(Some(VampLength::Bars(4))))
    );
    assert_eq!(ok("/trax/vamp/bars", vec![I(0)]), Some(C::Vamp(None)));
    assert_eq!(
        ok("/trax/automaster", vec![I(1)]),
        Some(C::AutoMaster(true))
    );
    assert_eq!(
        ok("/trax/automaster", vec![F(0.0)]),
        Some(C::AutoMaster(false))
    );
    assert_eq!(ok("/trax/gain", vec![F(-6.5)]), Some(C::GainDb(-6.5)));
    assert_eq!(ok("/trax/gain", vec![I(3)]), Some(C::GainDb(3.0)));
    assert_eq!(ok("/trax/gain", vec![F(40.0)]), Some(C::GainDb(12.0)));
    assert_eq!(
        ok("/trax/gain", vec![OscType::Double(-1e9)]),
        Some(C::GainDb(-60.0))
    );
    for (addr, args) in [
        ("/trax/vamp", vec![]),
        ("/trax/vamp", vec![s("on")]),
        ("/trax/vamp/bars", vec![I(256)]),
        ("/trax/vamp/bars", vec![I(-1)]),
        ("/trax/automaster", vec![s("on")]),
        ("/trax/automaster", vec![I(1), I(1)]),
        ("/trax/gain", vec![]),
        ("/trax/gain", vec![F(f32::NAN)]),
        ("/trax/gain", vec![OscType::Blob(vec![1, 2])]),
    ] {
        assert!(
            matches!(bad(addr, args.clone()), Malformed::Arguments { .. }),
            "{addr} {args:?}"
        );
    }
}

#[test]
fn subscriptions_take_an_optional_host_and_a_port() {
    let lan = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20));
    assert_eq!(
        ok("/trax/subscribe", vec![I(9001)]),
        Some(C::Subscribe {
            host: None,
            port: 9001
        })
    );
    assert_eq!(
        ok("/trax/subscribe", vec![s("192.168.1.20"), F(9001.0)]),
        Some(C::Subscribe {
            host: Some(lan),
            port: 9001
        })
    );
    assert_eq!(
        ok("/trax/unsubscribe", vec![s("localhost"), I(9)]),
        Some(C::Unsubscribe {
            host: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            port: 9
        })
    );
    assert_eq!(
        ok("/trax/subscribe", vec![s(""), I(9001)]),
        Some(C::Subscribe {
            host: None,
            port: 9001
        })
    );
    for args in [
        vec![],
        vec![I(0)],
        vec![I(65_536)],
        vec![s("9001")],
        vec![s("tablet.local"), I(9001)],
        vec![I(1), I(9001)],
    ] {
        assert!(matches!(
            bad("/trax/subscribe", args),
            Malformed::Arguments { .. }
        ));
    }
}

#[test]
fn unknown_addresses_are_malformed_and_every_listed_address_parses() {
    for addr in [
        "/trax",
        "/trax/",
        "/trax/PLAY",
        "/trax/state/song",
        "/other",
    ] {
        assert_eq!(bad(addr, vec![]), Malformed::UnknownAddress(addr.into()));
    }
    // Each listed address answers (a release or a command, or an
    // argument error: never "unknown").
    for (addr, _) in ADDRESSES {
        let e = parse(&msg(addr, vec![]));
        assert!(!matches!(e, Err(Malformed::UnknownAddress(_))), "{addr}");
    }
}

#[test]
fn a_bundle_of_good_bad_and_released_messages_parses_message_by_message() {
    let packet = OscPacket::Bundle(OscBundle {
        timetag: OscTime::from((1, 0)),
        content: vec![
            OscPacket::Message(msg("/trax/song/play", vec![F(1.0)])),
            OscPacket::Message(msg("/trax/vamp", vec![s("yes")])),
            OscPacket::Message(msg("/trax/play", vec![F(0.0)])),
            OscPacket::Message(msg("/trax/nothing", vec![])),
            OscPacket::Message(msg("/trax/jump/section", vec![I(2), s("now")])),
        ],
    });
    let bytes = rosc::encoder::encode(&packet).unwrap();
    let parsed: Vec<_> = decode(&bytes).unwrap().iter().map(parse).collect();
    assert_eq!(parsed[0], Ok(Some(C::PlaySong(0))));
    assert!(matches!(parsed[1], Err(Malformed::Arguments { .. })));
    assert_eq!(parsed[2], Ok(None));
    assert!(matches!(parsed[3], Err(Malformed::UnknownAddress(_))));
    assert!(matches!(
        parsed[4],
        Ok(Some(C::JumpSection { index: 1, .. }))
    ));
    let e = bad("/trax/vamp", vec![s("yes")]);
    assert!(e.to_string().starts_with("/trax/vamp: expected"), "{e}");
}
