//! Draws the whole screen from the app state (reads it, never changes it).

use ratatui::Frame;
use ratatui::layout::Rect;

use super::app::{App, Overlay, SignIn};
use super::view::ViewKind;
use super::{agenda, detail, geometry, month, popups, status, week};

/// Draws the whole screen: the title, the view, the status bar, the banner, then the overlays from
/// the bottom of the stack, then the sign-in panel.
pub fn draw(frame: &mut Frame, app: &App) {
    let full = frame.area();
    if full.width < geometry::MIN_WIDTH || full.height < geometry::MIN_HEIGHT {
        let message = format!(
            "terminal too small ({}×{}): deltacal needs {}×{}",
            full.width,
            full.height,
            geometry::MIN_WIDTH,
            geometry::MIN_HEIGHT
        );
        frame.render_widget(
            ratatui::widgets::Paragraph::new(message).wrap(ratatui::widgets::Wrap { trim: true }),
            full,
        );
        return;
    }
    status::draw_title(frame, app, Rect::new(0, 0, full.width, 1));
    let main = app.main_area().intersection(full);
    match app.view {
        ViewKind::Month => month::draw(frame, app, main),
        ViewKind::Week | ViewKind::Day => week::draw(frame, app, main),
        ViewKind::Agenda => agenda::draw(frame, app, main),
    }
    status::draw_status(frame, app, Rect::new(0, full.height - 1, full.width, 1));
    if !app.reminders.is_empty() {
        status::draw_reminder(frame, app, Rect::new(0, full.height - 2, full.width, 1));
    }
    // The stack from the bottom: the top overlay is drawn over the others.
    for overlay in &app.overlays {
        match overlay {
            Overlay::Detail(d) => detail::draw(frame, app, d),
            Overlay::Help(h) => popups::draw_help(frame, app, h),
            Overlay::Search(s) => popups::draw_search(frame, app, s),
            Overlay::GoTo(g) => popups::draw_goto(frame, app, g),
            Overlay::Calendars(panel) => popups::draw_calendars(frame, app, panel),
            Overlay::Form(form) => popups::draw_form(frame, app, form),
            Overlay::Invitations(panel) => popups::draw_invitations(frame, app, panel),
        }
    }
    if app.signin != SignIn::Hidden {
        popups::draw_signin(frame, app);
    }
}
