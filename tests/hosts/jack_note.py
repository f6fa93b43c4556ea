#!/usr/bin/env python3
"""JACK helper for tests/jack.rs: one client with a frame-counter audio port
and a MIDI out port that sends a single note-on.

usage: jack_note.py TARGET_MIDI_PORT [--name N] [--note 36] [--vel 100]
                    [--delay-frames 4800] [--timeout 30]

* `N:frames` (audio out) carries the absolute JACK frame of every sample,
  ((frame) % 2**20) / 2**20 -- exact in f32. A recorder (jack_capture) that
  records it beside the plugin's outputs stamps every captured sample with
  its frame, so the capture can be aligned to the note to the frame.
* `N:midi_out` is connected to TARGET_MIDI_PORT at start. Once `N:frames` is
  connected to something (the recorder has started), the note-on is sent
  --delay-frames after the next cycle start, at that exact frame, and
  `note_on_frame=F` is printed. No note-off: Trax ignores them.
* Prints `ready` once active and connected; exits when `N:frames` is
  disconnected again (the recorder finished) or after --timeout seconds.
  Needs the PyPI package JACK-Client (`import jack`) and libjack; no numpy.
"""
import argparse
import sys
import threading
import time
from array import array

import jack

ap = argparse.ArgumentParser()
ap.add_argument('target')
ap.add_argument('--name', default='jack_note')
ap.add_argument('--note', type=int, default=36)
ap.add_argument('--vel', type=int, default=100)
ap.add_argument('--delay-frames', type=int, default=4800)
ap.add_argument('--timeout', type=float, default=30.0)
a = ap.parse_args()

WRAP = 1 << 20
client = jack.Client(a.name, no_start_server=True)
frames_port = client.outports.register('frames')
midi_port = client.midi_outports.register('midi_out')
armed = threading.Event()       # set by the main thread: schedule the note
sent = threading.Event()        # set by the process thread once written
note = {}                       # 'on': the absolute frame of the note-on


@client.set_process_callback
def process(nframes):
    f0 = client.last_frame_time             # absolute frame of this cycle's first sample
    out = memoryview(frames_port.get_buffer()).cast('f')
    out[:] = array('f', (((f0 + i) % WRAP) / WRAP for i in range(nframes)))
    midi_port.clear_buffer()                # must be cleared every cycle
    if not armed.is_set() or sent.is_set():
        return
    if 'on' not in note:
        note['on'] = f0 + a.delay_frames
    on = note['on']
    if on < f0 + nframes:
        midi_port.write_midi_event(on - f0, bytes([0x90, a.note, a.vel]))
        sent.set()


def wait_until(cond, timeout):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.005)
    return True


with client:                                # activates: process runs from here
    client.connect(midi_port, a.target)     # connect after activation
    print('ready', flush=True)
    if not wait_until(lambda: client.get_all_connections(frames_port), a.timeout):
        sys.exit('jack_note: nobody connected to %s:frames' % a.name)
    armed.set()
    if not sent.wait(a.timeout):
        sys.exit('jack_note: the note-on was never written')
    print('note_on_frame=%d' % note['on'], flush=True)
    wait_until(lambda: not client.get_all_connections(frames_port), a.timeout)
