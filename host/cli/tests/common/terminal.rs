//! Runs `ralph` with a pseudo-terminal for standard input and standard
//! error (and standard output, unless it is captured), as a person at a
//! terminal would: what it shows is read from the terminal's other end,
//! and answers are typed into it.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::pty::{Winsize, openpty};

/// A running `ralph` on a terminal.
pub struct Terminal {
    child: Child,
    typing: std::fs::File,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    stdout: Option<JoinHandle<Vec<u8>>>,
}

/// How long a test waits for something to appear.
const PATIENCE: Duration = Duration::from_secs(180);

impl Terminal {
    /// Starts `command` on a new terminal; with `capture_stdout`, its
    /// standard output is a pipe read apart (for `--json`).
    pub fn start(mut command: Command, capture_stdout: bool) -> Terminal {
        let size = Winsize {
            ws_row: 50,
            ws_col: 160,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(&size, None).expect("a pseudo-terminal");
        let slave = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup"));
        command.stdin(slave(&pty.slave)).stderr(slave(&pty.slave));
        if capture_stdout {
            command.stdout(Stdio::piped());
        } else {
            command.stdout(slave(&pty.slave));
        }
        let mut child = command.spawn().expect("ralph starts");
        drop(command);
        drop(pty.slave);
        let master = std::fs::File::from(pty.master);
        let typing = master.try_clone().expect("dup");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let seen = screen.clone();
        let reader = std::thread::spawn(move || {
            let mut master = master;
            let mut buffer = [0u8; 4096];
            // Reading fails (EIO) once the program and every copy of the
            // terminal's end it held are gone.
            while let Ok(read) = master.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                seen.lock()
                    .expect("screen")
                    .extend_from_slice(&buffer[..read]);
            }
        });
        let stdout = child.stdout.take().map(|mut stdout| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = stdout.read_to_end(&mut bytes);
                bytes
            })
        });
        Terminal {
            child,
            typing,
            screen,
            reader: Some(reader),
            stdout,
        }
    }

    /// Everything the terminal showed so far, as it came (escape
    /// sequences included).
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().expect("screen")).into_owned()
    }

    /// Waits until `text` has appeared `count` times on the terminal.
    pub fn wait_for(&self, text: &str, count: usize) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.matches(text).count() >= count {
                return screen;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "waited for {count}× {text:?}; the terminal showed:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `text` (an answer ends with `\n`).
    pub fn type_in(&mut self, text: &str) {
        self.typing.write_all(text.as_bytes()).expect("type");
        self.typing.flush().expect("flush");
    }

    /// Waits for the program to end: its exit status, what the terminal
    /// showed, and the captured standard output.
    pub fn finish(mut self) -> (ExitStatus, String, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if started.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!(
                    "ralph did not finish; the terminal showed:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        drop(self.typing);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let stdout = self
            .stdout
            .take()
            .map(|thread| String::from_utf8_lossy(&thread.join().unwrap_or_default()).into_owned())
            .unwrap_or_default();
        let screen = String::from_utf8_lossy(&self.screen.lock().expect("screen")).into_owned();
        (status, screen, stdout)
    }
}
