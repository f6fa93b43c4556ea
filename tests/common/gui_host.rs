//! A host's GUI side for driving the editor without a host: parameter
//! changes from the editor are applied at once (as a host's main thread
//! does before the next block).

use std::sync::Arc;

use nice_plug::context::gui::{GuiContext, GuiContextInner};
use nice_plug::context::PluginApi;
use nice_plug::prelude::{ParamPtr, PluginState};

/// Applies every parameter change to the parameter at once.
pub struct ImmediateHost;

// The trait's methods are unsafe (a wrapper's contract); this host only
// forwards to the parameter's own setter.
#[allow(unsafe_code)]
impl GuiContextInner for ImmediateHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }

    unsafe fn raw_begin_set_parameter(&self, _param: ParamPtr) {}

    unsafe fn raw_set_parameter_normalized(&self, param: ParamPtr, normalized: f32) {
        // SAFETY: `param` points into the parameters of the plugin the
        // caller drives, which outlive the editor using this context.
        unsafe {
            param._internal_set_normalized_value(normalized);
        }
    }

    unsafe fn raw_end_set_parameter(&self, _param: ParamPtr) {}

    fn get_state(&self) -> PluginState {
        unreachable!("the editor never reads the whole state")
    }

    fn set_state(&self, _state: PluginState) {}

    fn request_restart(&self) {}
}

/// A GUI context on [`ImmediateHost`].
pub fn immediate_gui_context() -> GuiContext {
    GuiContext::new(Arc::new(ImmediateHost))
}
