//! The host's side of the CLAP GUI extension: embedding the plugin's editor
//! in an X11 window (any window id, e.g. an Xvfb root), resizing it and
//! closing it, as Bitwig and Reaper do.

use std::sync::atomic::Ordering;

use clack_extensions::gui::{
    GuiApiType, GuiConfiguration, GuiSize, HostGuiImpl, PluginGui, Window,
};
use clack_host::prelude::HostError;

use super::{ClapInstance, HostResult, HostShared};

impl HostGuiImpl for HostShared {
    fn resize_hints_changed(&self) {}

    fn request_resize(&self, _new_size: GuiSize) -> Result<(), HostError> {
        self.gui_resize_requests.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }

    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }

    fn closed(&self, _was_destroyed: bool) {
        self.gui_closed.fetch_add(1, Ordering::AcqRel);
    }
}

const EMBEDDED_X11: GuiConfiguration<'static> = GuiConfiguration {
    api_type: GuiApiType::X11,
    is_floating: false,
};

impl ClapInstance {
    fn gui(&self) -> HostResult<PluginGui> {
        self.instance
            .plugin_shared_handle()
            .get_extension::<PluginGui>()
            .ok_or_else(|| "the plugin has no CLAP GUI extension".to_string())
    }

    /// Creates the editor embedded in X11 window `parent` and shows it;
    /// returns its size (physical pixels).
    ///
    /// # Safety
    /// `parent` must be an X11 window that outlives the editor (until
    /// [`Self::gui_close`]).
    #[allow(unsafe_code)]
    pub unsafe fn gui_open_x11(&mut self, parent: u64) -> HostResult<GuiSize> {
        let gui = self.gui()?;
        let handle = self.instance.plugin_handle();
        if !gui.is_api_supported(&handle, EMBEDDED_X11) {
            return Err("X11 (embedded) is not supported".into());
        }
        gui.create(&handle, EMBEDDED_X11)
            .map_err(|e| format!("create: {e:?}"))?;
        // X11 sizes are physical: a plugin may refuse a scale (it reads the
        // screen's DPI instead).
        let _ = gui.set_scale(&handle, 1.0);
        let size = gui.get_size(&handle).ok_or("get_size")?;
        // SAFETY: the caller keeps `parent` alive until gui_close.
        unsafe { gui.set_parent(&handle, Window::from_x11_handle(parent)) }
            .map_err(|e| format!("set_parent: {e:?}"))?;
        gui.show(&handle).map_err(|e| format!("show: {e:?}"))?;
        Ok(size)
    }

    /// Asks the editor to take `size` (adjusted by the plugin first, as
    /// hosts do); returns the size it took.
    pub fn gui_resize(&mut self, size: GuiSize) -> HostResult<GuiSize> {
        let gui = self.gui()?;
        let handle = self.instance.plugin_handle();
        if !gui.can_resize(&handle) {
            return Err("the editor cannot be resized".into());
        }
        let adjusted = gui.adjust_size(&handle, size).unwrap_or(size);
        gui.set_size(&handle, adjusted)
            .map_err(|e| format!("set_size: {e:?}"))?;
        gui.get_size(&handle).ok_or_else(|| "get_size".into())
    }

    /// Hides and destroys the editor.
    pub fn gui_close(&mut self) -> HostResult<()> {
        let gui = self.gui()?;
        let handle = self.instance.plugin_handle();
        let _ = gui.hide(&handle);
        gui.destroy(&handle);
        Ok(())
    }
}
