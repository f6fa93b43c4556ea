#!/usr/bin/env python3
"""Render trax.vst3 in Spotify's pedalboard (a JUCE VST3 host) from one MIDI note.

usage: vst3_render.py BUNDLE SETLIST NOTE SECONDS RATE OUT [set-all]

Loads BUNDLE (a trax.vst3 folder), points the plugin's persisted `setlist`
field at SETLIST through VST3 state, sends note-on NOTE (velocity 100) at
frame 0 and renders SECONDS of stereo at RATE Hz in 512-frame blocks. OUT
gets the raw output: little-endian f32, interleaved stereo. With `set-all`,
every parameter is also set (to another value, then back to its own) before
the render, as a host restoring a session sends them all at once. Prints
the parameter count. Used by tests/vst3.rs; exits nonzero with a message on
any error.
"""
import json
import struct
import sys
import time


def fail(msg):
    print(f"vst3_render.py: {msg}", file=sys.stderr)
    sys.exit(1)


try:
    import numpy as np
    import pedalboard
except ImportError as e:
    fail(f"{e}; install it with `python3 -m pip install pedalboard` (pulls numpy)")



def vstpreset(class_id: bytes, comp: bytes) -> bytes:
    """A minimal .vstpreset holding only the component ('Comp') state chunk."""
    return (b"VST3" + struct.pack("<i", 1) + class_id + struct.pack("<q", 48 + len(comp)) + comp
            + b"List" + struct.pack("<i", 1) + b"Comp" + struct.pack("<qq", 48, len(comp)))


def main():
    if len(sys.argv) not in (7, 8) or (len(sys.argv) == 8 and sys.argv[7] != "set-all"):
        fail("usage: vst3_render.py BUNDLE SETLIST NOTE SECONDS RATE OUT [set-all]")
    bundle, setlist, note, secs, rate, out = sys.argv[1:7]
    set_all = len(sys.argv) == 8
    note, secs, rate = int(note), float(secs), int(rate)

    t0 = time.monotonic()
    # initialization_timeout must be > 0: with 0 pedalboard renders silence.
    # Its warm-up note sounds nothing without a setlist, so it costs exactly this.
    plugin = pedalboard.VST3Plugin(bundle, initialization_timeout=0.05)
    t_load = time.monotonic() - t0

    # preset_data: b'VST3', version, 32-byte class id, offset of the chunk
    # list, then the component state (nice-plug's JSON) up to that offset.
    cur = plugin.preset_data
    if cur[:4] != b"VST3" or len(cur) < 48:
        fail(f"unexpected preset_data header {cur[:48]!r}")
    end = struct.unpack("<q", cur[40:48])[0]
    state = json.loads(cur[48:end])
    # nice-plug stores each persisted field as its own JSON text.
    state["fields"]["setlist"] = json.dumps(setlist)
    # `plugin.preset_data = ...` goes through pedalboard's __setattr__ and the
    # same parameter scan; call the property's setter directly.
    pedalboard.VST3Plugin.preset_data.__set__(plugin, vstpreset(cur[8:40], json.dumps(state).encode()))

    params = plugin.parameters
    if set_all:
        for p in params.values():
            own = p.raw_value
            p.raw_value = 1.0 if own < 0.5 else 0.0
            p.raw_value = own

    t1 = time.monotonic()
    audio = plugin([(bytes([0x90, note, 100]), 0.0)], duration=secs, sample_rate=rate,
                   num_channels=2, buffer_size=512, reset=True)
    t_render = time.monotonic() - t1
    if audio.shape != (2, round(secs * rate)):
        fail(f"rendered shape {audio.shape}, expected (2, {round(secs * rate)})")
    np.ascontiguousarray(audio.T, dtype="<f4").tofile(out)
    print(f"vst3_render.py: latency {plugin.reported_latency_samples} frames, {len(params)} parameters, load {t_load:.2f} s, render {t_render:.2f} s, "
          f"peak {float(np.abs(audio).max()):.4f}", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - any failure must be a clear nonzero exit
        fail(f"{type(e).__name__}: {e}")
