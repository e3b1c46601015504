//! A real OpenSSH server (Debian's sshd on 127.0.0.1, a fresh host key each time), throw-away
//! Linux users that are deleted again when their guard drops, and two independent SSH clients
//! (russh, OpenSSH's `ssh`) to prove which password logs in. Everything here needs root; the
//! tests using it are `#[ignore = "needs root"]` and CI, which runs as root, runs them.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;
use crate::rotation::suffix;

/// Fails the test unless it runs as root: it starts sshd and creates Linux users. Such tests
/// are `#[ignore = "needs root"]`; CI runs them as root (`--run-ignored all`).
fn require_root() {
    let uid =
        Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    assert!(
        matches!(uid.as_deref(), Ok("0")),
        "this test needs root (it starts sshd and creates Linux users): run it as root, as CI does"
    );
}

/// Runs a command; retried a few times when it failed on the password-file lock, which tests
/// running in parallel (useradd, chpasswd, userdel) may hold for a moment.
fn run(cmd: &str, args: &[&str], stdin: Option<&str>) {
    let mut last = String::new();
    for _ in 0..10 {
        let mut child = Command::new(cmd)
            .args(args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {cmd}: {e} (run scripts/install-test-deps)"));
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            use std::io::Write;
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait");
        if out.status.success() {
            return;
        }
        last = String::from_utf8_lossy(&out.stderr).into_owned();
        if !last.contains("lock") {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("{cmd} {args:?} failed: {last}");
}

/// A throw-away Linux user; `userdel` (and its sudoers drop-in) when dropped, also on panic.
pub struct LinuxUser {
    pub name: String,
    home: Option<PathBuf>,
    sudoers: Option<PathBuf>,
    alias_home: Option<PathBuf>,
    shell: Option<PathBuf>,
}

impl LinuxUser {
    /// `useradd -m` with a password.
    pub fn create(prefix: &str, password: &str) -> LinuxUser {
        require_root();
        let name = format!("{prefix}{}", suffix());
        run("useradd", &["-m", "-s", "/bin/sh", &name], None);
        let user = LinuxUser {
            home: Some(PathBuf::from(format!("/home/{name}"))),
            name,
            sudoers: None,
            alias_home: None,
            shell: None,
        };
        run("chpasswd", &[], Some(&format!("{}:{password}\n", user.name)));
        user
    }

    /// A second name for uid 0 (`useradd -o -u 0`), with its own password and a home of its own
    /// under /tmp, so root's own password is never touched.
    pub fn create_uid0_alias(password: &str) -> LinuxUser {
        require_root();
        let name = format!("pcr0{}", suffix());
        let home = std::env::temp_dir().join(format!("home-{name}"));
        let home_s = home.to_string_lossy().into_owned();
        run(
            "useradd",
            &["-o", "-u", "0", "-g", "0", "-N", "-M", "-d", &home_s, "-s", "/bin/sh", &name],
            None,
        );
        std::fs::create_dir_all(&home).expect("alias home");
        let user = LinuxUser { name, home: None, sudoers: None, alias_home: Some(home), shell: None };
        run("chpasswd", &[], Some(&format!("{}:{password}\n", user.name)));
        user
    }

    /// Gives the user a login shell that kills its own SSH session (the sshd process serving it)
    /// whenever the command contains `trigger`, and runs /bin/sh otherwise: the connection drops
    /// with the command's outcome unknown to the client.
    pub fn set_session_killing_shell(&mut self, trigger: &str) {
        let shell = std::env::temp_dir().join(format!("shell-{}", self.name));
        std::fs::write(
            &shell,
            format!("#!/bin/sh\ncase \"$2\" in *{trigger}*) kill -9 $PPID; sleep 5;; *) exec /bin/sh \"$@\";; esac\n"),
        )
        .expect("write shell");
        let mut perms = std::fs::metadata(&shell).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&shell, perms).expect("chmod");
        run("usermod", &["-s", &shell.to_string_lossy(), &self.name], None);
        self.shell = Some(shell);
    }

    /// Lets the user run anything through sudo (`nopasswd`: without its password).
    pub fn allow_sudo(&mut self, nopasswd: bool) {
        let path = PathBuf::from(format!("/etc/sudoers.d/{}", self.name));
        let rule = if nopasswd { "ALL=(ALL) NOPASSWD: ALL" } else { "ALL=(ALL) ALL" };
        std::fs::write(&path, format!("{} {rule}\n", self.name)).expect("write sudoers drop-in");
        let mut perms = std::fs::metadata(&path).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o440);
        std::fs::set_permissions(&path, perms).expect("chmod");
        self.sudoers = Some(path);
    }
}

impl Drop for LinuxUser {
    fn drop(&mut self) {
        if let Some(s) = &self.sudoers {
            let _ = std::fs::remove_file(s);
        }
        if let Some(h) = &self.alias_home {
            let _ = std::fs::remove_dir_all(h);
        }
        if let Some(sh) = &self.shell {
            let _ = std::fs::remove_file(sh);
        }
        // -f: a uid-0 alias shares its uid with every root process; never -r for it (no home).
        let args: Vec<&str> =
            if self.home.is_some() { vec!["-f", "-r", &self.name] } else { vec!["-f", &self.name] };
        // Retried: another test may hold the password-file lock for a moment.
        for attempt in 0..10 {
            let ok = Command::new("userdel").args(&args).stdout(Stdio::null()).stderr(Stdio::null()).status();
            if matches!(ok, Ok(s) if s.success()) {
                break;
            }
            if attempt == 9 {
                eprintln!("warning: userdel {} failed; remove the user by hand", self.name);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Debian's sshd on 127.0.0.1 with a fresh host key, password authentication on, root login
/// allowed; killed when dropped.
pub struct Sshd {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Sshd {
    /// Password authentication, no PAM.
    pub fn start() -> Sshd {
        Sshd::start_with("UsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n", None)
    }

    /// Like `start`, on a given port (a fresh host key each time).
    pub fn start_on_port(port: u16) -> Sshd {
        Sshd::start_with(
            "UsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n",
            Some(port),
        )
    }

    /// Passwords only through PAM's keyboard-interactive dialogue (`password` method off).
    pub fn start_keyboard_interactive_only() -> Sshd {
        Sshd::start_with("UsePAM yes\nPasswordAuthentication no\nKbdInteractiveAuthentication yes\n", None)
    }

    /// Passwords and public keys (each user's `~/.ssh/authorized_keys`).
    pub fn start_with_public_keys() -> Sshd {
        Sshd::start_with(
            "UsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nAuthorizedKeysFile .ssh/authorized_keys\n",
            None,
        )
    }

    fn start_with(auth: &str, fixed_port: Option<u16>) -> Sshd {
        require_root();
        let sshd = "/usr/sbin/sshd";
        assert!(
            Path::new(sshd).exists(),
            "{sshd} is missing: run scripts/install-test-deps (openssh-server)"
        );
        // sshd's privilege-separation directory.
        std::fs::create_dir_all("/run/sshd").expect("mkdir /run/sshd");
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("host_ed25519");
        run("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-f", &key.to_string_lossy()], None);
        let config = dir.path().join("sshd_config");
        // sshd keeps the first value it reads for a keyword, so `auth` overrides the defaults after it.
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\n{auth}PubkeyAuthentication no\n\
                 AuthorizedKeysFile none\nPermitRootLogin yes\nStrictModes no\nMaxStartups 50\nLogLevel VERBOSE\n",
                key.display(),
                dir.path().join("sshd.pid").display()
            ),
        )
        .expect("write sshd_config");
        for _ in 0..5 {
            let port = fixed_port.unwrap_or_else(free_port);
            let log = std::fs::File::create(dir.path().join("sshd.log")).expect("log file");
            let mut child = Command::new(sshd)
                .args(["-D", "-e", "-f", &config.to_string_lossy(), "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("spawn sshd");
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: port taken or bad config; try again / report below
                }
                if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                    let mut banner = [0u8; 4];
                    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
                    if s.read_exact(&mut banner).is_ok() && &banner == b"SSH-" {
                        return Sshd { port, child, dir };
                    }
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.wait();
        }
        panic!(
            "sshd did not start; its log:\n{}",
            std::fs::read_to_string(dir.path().join("sshd.log")).unwrap_or_default()
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether an SSH password login as `user` succeeds (an independent check with russh: a fresh
/// connection, password authentication only).
pub async fn ssh_login_works(port: u16, user: &str, password: &str) -> bool {
    struct AnyKey;
    impl russh::client::Handler for AnyKey {
        type Error = russh::Error;
        async fn check_server_key(
            &mut self,
            _: &russh::keys::PublicKeyOrCertificate,
        ) -> Result<bool, Self::Error> {
            Ok(true)
        }
    }
    let config = std::sync::Arc::new(russh::client::Config::default());
    let mut h =
        russh::client::connect(config, ("127.0.0.1", port), AnyKey).await.expect("connect to test sshd");
    let r = h.authenticate_password(user, password).await.expect("auth exchange");
    let _ = h.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    r.success()
}

/// Whether a password login as `user` succeeds with OpenSSH's own client (a second, independent
/// peer: the password comes from an SSH_ASKPASS script reading it from the environment).
/// `false` only when the server said "Permission denied"; any other failure panics.
pub fn openssh_login_works(port: u16, user: &str, password: &str) -> bool {
    let dir = tempfile::tempdir().expect("temp dir");
    let askpass = dir.path().join("askpass");
    std::fs::write(&askpass, "#!/bin/sh\nprintf '%s\\n' \"$PORTCULLIS_TEST_SSH_PASSWORD\"\n")
        .expect("askpass");
    let mut perms = std::fs::metadata(&askpass).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o700);
    std::fs::set_permissions(&askpass, perms).expect("chmod");
    let port_s = port.to_string();
    let dest = format!("{user}@127.0.0.1");
    let out = Command::new("ssh")
        .args(["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
        .args([
            "-o",
            "PreferredAuthentications=password,keyboard-interactive",
            "-o",
            "PubkeyAuthentication=no",
        ])
        .args(["-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=20", "-o", "LogLevel=ERROR"])
        .args(["-p", &port_s, &dest, "true"])
        .env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", "none")
        .env("PORTCULLIS_TEST_SSH_PASSWORD", password)
        .stdin(Stdio::null())
        .output()
        .expect("run ssh (Debian's openssh-client)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        return true;
    }
    assert!(
        stderr.contains("Permission denied"),
        "ssh failed for another reason than the password: {stderr}"
    );
    false
}
