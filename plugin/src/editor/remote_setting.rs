//! GUI THREAD: the OSC remote's setting on the transport row: a small
//! button that says whether the remote listens ("OSC off", "OSC 9000" in
//! green, "OSC 9000 failed" in red when its port cannot be used) and opens a
//! popup with the port (0 = off, saved with the project as `osc_port`),
//! the status line naming the port and the cause of a failure, and the
//! remote's counters (packets, malformed, subscribers).

use egui::{self, Color32, RichText};

use super::setlist_panel::{PLAYING_GREEN, PROBLEM_RED};
use super::{Snapshot, TraxEditor};
use crate::remote::RemoteStatus;

/// The port the popup suggests when the remote is off: OSC's customary
/// 9000 (TouchOSC's default outgoing port).
pub const SUGGESTED_OSC_PORT: u16 = 9000;

/// The button on the transport row and its popup.
pub fn show(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    let (text, color) = match &snap.view.remote {
        RemoteStatus::Off => ("OSC off".to_string(), Color32::GRAY),
        RemoteStatus::Listening { port } => (format!("OSC {port}"), PLAYING_GREEN),
        RemoteStatus::Failed { port, .. } => (format!("OSC {port} failed"), PROBLEM_RED),
    };
    let response = ui.button(RichText::new(&text).color(color));
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, "OSC remote"));
    // Stays open while the port is typed or dragged; a click outside
    // closes it.
    egui::Popup::from_toggle_button_response(&response)
        .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside)
        .show(|ui| popup(editor, ui, snap));
    response.on_hover_text(match &snap.view.remote {
        RemoteStatus::Off => "OSC remote off: click to set its UDP port".to_string(),
        RemoteStatus::Listening { port } => {
            format!("OSC remote listening on UDP port {port} (every network interface)")
        }
        RemoteStatus::Failed { error, .. } => error.clone(),
    });
}

fn popup(editor: &mut TraxEditor, ui: &mut egui::Ui, snap: &Snapshot) {
    ui.set_min_width(300.0);
    let (saved, _) = editor.params.osc_port.get();
    let mut port = editor.remote_port_draft.unwrap_or(if saved == 0 {
        SUGGESTED_OSC_PORT
    } else {
        saved
    });
    ui.horizontal(|ui| {
        ui.label("UDP port");
        let field = ui.add(egui::DragValue::new(&mut port).range(1024..=65535).speed(1));
        field.widget_info(|| egui::WidgetInfo::labeled(egui::Role::SpinButton, true, "OSC port"));
        editor.remote_port_draft = Some(port);
    });
    ui.horizontal(|ui| {
        let on = saved != 0;
        let listen = if on && saved != port {
            "Move"
        } else {
            "Listen"
        };
        if ui
            .add_enabled(!on || saved != port, egui::Button::new(listen))
            .clicked()
        {
            set_port(editor, port);
        }
        if ui.add_enabled(on, egui::Button::new("Turn off")).clicked() {
            set_port(editor, 0);
        }
    });
    let status = match &snap.view.remote {
        RemoteStatus::Off => RichText::new("Off (saved with the project)").color(Color32::GRAY),
        RemoteStatus::Listening { port } => {
            RichText::new(format!("Listening on UDP port {port}")).color(PLAYING_GREEN)
        }
        RemoteStatus::Failed { error, .. } => RichText::new(error).color(PROBLEM_RED),
    };
    ui.label(status);
    let c = &editor.shared.remote.counters;
    ui.label(
        RichText::new(format!(
            "{} packets · {} malformed · {} subscribers",
            c.packets(),
            c.malformed(),
            c.subscribers()
        ))
        .small()
        .color(Color32::GRAY),
    );
    ui.label(
        RichText::new("Addresses: README, \"OSC remote\". Only on the stage's own network.")
            .small()
            .color(Color32::GRAY),
    );
}

/// Saves `port` (0: off) as the instance's `osc_port`; the control thread
/// opens, moves or closes the remote.
fn set_port(editor: &mut TraxEditor, port: u16) {
    editor.params.osc_port.replace(port);
    editor.remote_port_draft = None;
    editor.shared.wake_control();
}
