//! How the binary's log lines look: the bare message for people, one JSON
//! object per line for a batch scheduler; and the progress mode that goes
//! with it. Library code only emits events and reports progress.

use crate::progress::{self, Mode};
use std::io::IsTerminal;

/// Sets up logging and the progress mode: a bar on a terminal, log lines
/// otherwise, nothing when `quiet`.
pub fn init(json: bool, quiet: bool) {
    init_logging(json);
    progress::set_mode(if quiet {
        Mode::Off
    } else if !json && std::io::stderr().is_terminal() {
        Mode::Bar
    } else {
        Mode::Log
    });
}

/// Log lines go to stderr: the bare message for people, one JSON object per
/// line (with the event's fields) for a batch scheduler. Never coloured.
fn init_logging(json: bool) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO);
    let result = if json {
        builder
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
    } else {
        builder.event_format(MessageOnly).try_init()
    };
    if let Err(e) = result {
        eprintln!("fordeling: warning: logging unavailable: {e}");
    }
}

/// A text event format that writes only the message.
struct MessageOnly;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for MessageOnly
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _context: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        struct Message<'a, 'b>(
            &'a mut tracing_subscriber::fmt::format::Writer<'b>,
            std::fmt::Result,
        );
        impl tracing::field::Visit for Message<'_, '_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.1 = write!(self.0, "{value:?}");
                }
            }
        }
        let mut message = Message(&mut writer, Ok(()));
        event.record(&mut message);
        message.1?;
        writeln!(writer)
    }
}
