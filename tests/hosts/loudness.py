"""Independent loudness and true-peak reference for tests/mastering.

For each WAV file given, prints one line of JSON: the integrated loudness
(ITU-R BS.1770-4 / EBU R128) measured by pyloudnorm with its "DeMan" filter
(the K-weighting filter's published coefficients re-derived per rate), and
the true peak as the largest absolute value after 16x polyphase resampling
(scipy.signal.resample_poly, Kaiser window), in dBTP.

Usage: python3 loudness.py FILE.wav ...
"""
import json
import sys

import numpy as np
import pyloudnorm
from scipy.io import wavfile
from scipy.signal import resample_poly

for path in sys.argv[1:]:
    rate, x = wavfile.read(path)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    meter = pyloudnorm.Meter(rate, filter_class="DeMan")
    lufs = meter.integrated_loudness(x)
    up = resample_poly(x, 16, 1, axis=0)
    peak = float(np.max(np.abs(up)))
    print(json.dumps({
        "file": path,
        "lufs": lufs if np.isfinite(lufs) else None,
        "true_peak_dbtp": 20 * np.log10(peak) if peak > 0 else None,
    }))
