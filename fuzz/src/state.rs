//! The plugin state: what nice-plug hands our parameters when a host
//! restores a session or a preset. Its JSON (`PluginState`) is parsed as
//! nice-plug does, our persisted fields are restored from it (the setlist
//! path, the mix, the recent setlists), and the mix must come out as
//! values the engine can take.

use nice_plug::prelude::Params;
use trax::plugin::params::TraxParams;

/// One state: the JSON a host stores.
pub fn plugin_state(data: &[u8]) {
    let Ok(state) = serde_json::from_slice::<nice_plug::prelude::PluginState>(data) else {
        return;
    };
    let params = TraxParams::default();
    params.deserialize_fields(&state.fields);
    let (mix, _) = params.mix.get();
    for stems in &mix {
        for m in stems {
            let m = m.to_mix();
            assert!(
                m.gain_db.is_finite() && (-144.0..=24.0).contains(&m.gain_db),
                "{m:?}"
            );
            assert!(m.pan.is_finite() && (-1.0..=1.0).contains(&m.pan), "{m:?}");
        }
    }
    let (path, _) = params.setlist.get();
    let _ = path.len();
    // What nice-plug writes back must parse again (a state saved after a
    // load is loaded by the next session).
    let fields = params.serialize_fields();
    let again = TraxParams::default();
    again.deserialize_fields(&fields);
    assert_eq!(
        again.mix.get().0.len(),
        mix.len(),
        "the mix did not survive a save"
    );
}
