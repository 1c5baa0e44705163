//! The column chooser (F2) driven by keys as a user would: toggle, move, apply, cancel, and
//! save to a configuration file under a scratch XDG_CONFIG_HOME (the path the explorer is
//! given is `$XDG_CONFIG_HOME/wiretop/config.yaml`).

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::ui::app::App;
use crate::ui::columns::Column;
use crate::ui::fixture::{app, app_with, screen};
use crate::ui::state::Mode;

fn press(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn title_of(text: &str) -> String {
    text.lines()
        .find(|line| line.contains("PID") && line.contains("COMMAND"))
        .unwrap_or_else(|| panic!("a title row: {text}"))
        .to_owned()
}

/// A scratch XDG_CONFIG_HOME for one test, emptied first.
fn config_home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wiretop-chooser-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn f2_lists_every_column_with_the_shown_ones_ticked_first() {
    let mut app = app();
    press(&mut app, KeyCode::F(2));
    assert!(matches!(app.view.mode, Mode::Columns(_)));
    let text = screen(&mut app, 80, 40);
    assert!(text.contains(" Columns "), "{text}");
    assert!(text.contains("[x] PID"), "{text}");
    assert!(text.contains("[ ] SERVICE"), "{text}");
    assert!(text.contains("[ ] FDS"), "{text}");
    assert!(text.contains("w apply and save to config"), "{text}");
    let pid = text.find("[x] PID").unwrap();
    let service = text.find("[ ] SERVICE").unwrap();
    assert!(pid < service, "shown first");
    insta::assert_snapshot!("column_chooser", text);
}

#[test]
fn the_chooser_scrolls_on_80x24() {
    let mut app = app();
    press(&mut app, KeyCode::F(2));
    for _ in 0..23 {
        press(&mut app, KeyCode::Down);
    }
    let text = screen(&mut app, 80, 24);
    assert!(text.contains("[ ] FDS"), "the last column in view: {text}");
    assert!(!text.contains("[x] PID"), "the first scrolled off: {text}");
}

#[test]
fn space_toggles_plus_and_minus_move_enter_applies() {
    let mut app = app();
    press(&mut app, KeyCode::F(2));
    // Hide USER (second), move PID right past CPU%, show SERVICE.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Char('+'));
    press(&mut app, KeyCode::Char('+'));
    let shift_down = KeyEvent::new(KeyCode::Down, KeyModifiers::SHIFT);
    app.on_key(shift_down);
    let before = title_of(&screen(&mut app, 160, 50));
    assert!(
        before.contains("USER"),
        "nothing changes before Enter: {before}"
    );
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.view.mode, Mode::Normal);
    let columns = app.columns();
    assert_eq!(
        &columns[..4],
        [Column::Cpu, Column::Mem, Column::Pid, Column::MemPct]
    );
    assert!(!columns.contains(&Column::User));
    let title = title_of(&screen(&mut app, 160, 24));
    assert!(!title.contains("USER"), "{title}");
    assert!(
        title.find("CPU%").unwrap() < title.find("PID").unwrap(),
        "{title}"
    );
    // Shift-Up moves it back, Minus too; a plain Up only moves the cursor.
    press(&mut app, KeyCode::F(2));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    app.on_key(KeyEvent::new(KeyCode::Up, KeyModifiers::SHIFT));
    press(&mut app, KeyCode::Char('-'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(&app.columns()[..3], [Column::Pid, Column::Cpu, Column::Mem]);
}

#[test]
fn esc_cancels_and_leaves_the_columns_as_they_were() {
    let mut app = app();
    let before = app.columns();
    press(&mut app, KeyCode::F(2));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('+'));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view.mode, Mode::Normal);
    assert_eq!(app.columns(), before);
}

#[test]
fn w_saves_ui_columns_into_the_users_file_keeping_the_rest() {
    let home = config_home("save");
    let file = home.join("wiretop").join("config.yaml");
    let mut app = app_with(|o| o.config_file = Some(file.clone()));
    // No file yet: created, 0600, with only ui.columns.
    press(&mut app, KeyCode::F(2));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('w'));
    assert_eq!(app.view.mode, Mode::Normal);
    let message = app.view.message.clone().unwrap_or_default();
    assert!(message.starts_with("columns saved to "), "{message}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        written,
        "ui:\n  columns: [pid, cpu, mem, mem_pct, threads, listen, conn, net, state, time, command]\n"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!app.columns().contains(&Column::User), "applied as well");

    // An existing file keeps its comments and other keys; the loaded config agrees.
    let mine = "# my settings\nprocess_agent:\n  interval: 5s  # slower\nui:\n  sort: mem\n  columns: [pid, command]\n";
    std::fs::write(&file, mine).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    press(&mut app, KeyCode::F(2));
    press(&mut app, KeyCode::Char('w'));
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.starts_with("# my settings\nprocess_agent:\n  interval: 5s  # slower\nui:\n  sort: mem\n  columns: [pid, cpu,"), "{written}");
    let loaded = crate::config::load(&crate::config::LoadOptions {
        user_file: Some(file.clone()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(loaded.config.ui.columns, app.columns());
    assert_eq!(loaded.config.ui.sort, Column::Mem);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn w_refuses_a_symlinked_config_file_and_leaves_its_target_alone() {
    let home = config_home("symlink");
    let dir = home.join("wiretop");
    std::fs::create_dir_all(&dir).unwrap();
    let target = home.join("elsewhere.yaml");
    std::fs::write(&target, "tags: [keep]\n").unwrap();
    let file = dir.join("config.yaml");
    std::os::unix::fs::symlink(&target, &file).unwrap();
    let mut app = app_with(|o| o.config_file = Some(file.clone()));
    press(&mut app, KeyCode::F(2));
    press(&mut app, KeyCode::Char('w'));
    let message = app.view.message.clone().unwrap_or_default();
    assert!(message.contains("refusing to write"), "{message}");
    assert!(message.contains("symbolic link"), "{message}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "tags: [keep]\n");
    // Shown in the footer, whole.
    let text = screen(&mut app, 200, 24);
    assert!(
        text.lines().last().unwrap().contains("symbolic link"),
        "{text}"
    );

    // A layout the edit does not understand is left alone too, and says what to add.
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, "ui: {sort: mem}\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    press(&mut app, KeyCode::F(2));
    press(&mut app, KeyCode::Char('w'));
    let message = app.view.message.clone().unwrap_or_default();
    assert!(message.contains("yourself"), "{message}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "ui: {sort: mem}\n");

    // A file others may read is refused as every file wiretop writes, and says how to fix it.
    std::fs::write(&file, "tags: [x]\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    press(&mut app, KeyCode::F(2));
    press(&mut app, KeyCode::Char('w'));
    let message = app.view.message.clone().unwrap_or_default();
    assert!(message.contains("chmod 600"), "{message}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "tags: [x]\n");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn no_config_location_is_said_not_guessed() {
    let mut app = app();
    press(&mut app, KeyCode::F(2));
    press(&mut app, KeyCode::Char('w'));
    let message = app.view.message.clone().unwrap_or_default();
    assert!(message.contains("XDG_CONFIG_HOME"), "{message}");
}
