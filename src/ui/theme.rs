//! Colours. Only the 16 basic ANSI colours are used, so every terminal shows them; with
//! NO_COLOR or `--no-color` everything is plain, and emphasis falls back to bold and reverse.

use ratatui::style::{Color, Modifier, Style};

/// The explorer's styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    color: bool,
}

impl Theme {
    pub fn new(color: bool) -> Theme {
        Theme { color }
    }

    /// Honours the NO_COLOR convention (any non-empty value) as well as the flag.
    pub fn from_env(no_color_flag: bool) -> Theme {
        let env_says_no = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme::new(!(no_color_flag || env_says_no))
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::default().fg(color)
        } else {
            Style::default()
        }
    }

    pub fn label(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn value(&self) -> Style {
        Style::default()
    }
    pub fn title_row(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Black).bg(Color::Green)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
    pub fn sorted_title(&self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }
    pub fn selected(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Black).bg(Color::Cyan)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
    pub fn exited(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default().add_modifier(Modifier::DIM)
        }
    }
    /// The `+` of a process started since launch: the character carries the meaning, the
    /// colour only draws the eye.
    pub fn new_mark(&self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }
    pub fn detail(&self) -> Style {
        self.fg(Color::Gray)
    }
    pub fn listening(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn peer(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn paused(&self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }
    pub fn gauge_user(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn gauge_system(&self) -> Style {
        self.fg(Color::Red)
    }
    pub fn gauge_io(&self) -> Style {
        self.fg(Color::Blue)
    }
    pub fn key(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Black).bg(Color::Cyan)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
    pub fn heavy(&self) -> Style {
        self.fg(Color::Red)
    }
}
