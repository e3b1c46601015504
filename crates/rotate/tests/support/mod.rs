//! Test kit: a real PostgreSQL server with password authentication (scripts/pg-test-server, then
//! pg_hba switched from trust to scram-sha-256), a real OpenSSH server (Debian's sshd) and
//! throw-away Linux users that are deleted again when their guard drops.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rotate::{Login, RotationRequest, Target};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{ConnectOptions, Connection, Executor};
use zeroize::Zeroizing;

/// A short random lowercase suffix for names.
pub fn suffix() -> String {
    let p = rotate::generate_password(&rotate::PasswordPolicy {
        length: 8,
        lowercase: true,
        uppercase: false,
        digits: false,
        symbols: false,
    })
    .expect("random suffix");
    p.as_str().to_owned()
}

pub fn request(
    platform: &str,
    port: u16,
    account: &str,
    current: &str,
    new: &str,
    functional: Option<(&str, &str)>,
) -> RotationRequest {
    RotationRequest {
        target: Target { platform: platform.into(), host: "127.0.0.1".into(), port: Some(port) },
        account: account.into(),
        current_password: Zeroizing::new(current.into()),
        new_password: Zeroizing::new(new.into()),
        functional: functional.map(|(u, p)| Login { user: u.into(), password: Zeroizing::new(p.into()) }),
    }
}

/// A port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

// ------------------------------------------------------------------------------------ PostgreSQL

/// A PostgreSQL server of this test alone, with scram-sha-256 on TCP and `log_statement = all`.
pub struct Pg {
    pub port: u16,
    pub super_password: String,
    pub dir: PathBuf,
}

static PG_COUNT: AtomicU32 = AtomicU32::new(0);

impl Pg {
    /// Starts a server. It never uses PORTCULLIS_TEST_PG_URL or the nextest-shared server: the
    /// test must switch authentication from trust to passwords, which would break other tests.
    pub async fn start() -> Pg {
        let dir = std::env::temp_dir().join(format!(
            "portcullis-rotate-pg-{}-{}-{}",
            std::process::id(),
            PG_COUNT.fetch_add(1, Ordering::SeqCst),
            suffix()
        ));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-server");
        let out = Command::new(script)
            .arg("start")
            .arg("--dir")
            .arg(&dir)
            .arg("--watch-pid")
            .arg(std::process::id().to_string())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
        assert!(
            out.status.success(),
            "these tests need Debian's PostgreSQL server (run scripts/install-test-deps); \
             scripts/pg-test-server said:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let port: u16 = url
            .rsplit(':')
            .next()
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url:?}"));
        let pg = Pg { port, super_password: format!("Super-{}-pw", suffix()), dir };

        // Still trust: give the superuser a password, log every statement, then require passwords.
        let mut c = pg.options("postgres", None).connect().await.expect("trust connection");
        c.execute(format!("ALTER ROLE postgres PASSWORD '{}'", pg.super_password).as_str())
            .await
            .expect("set password");
        c.execute("ALTER SYSTEM SET log_statement = 'all'").await.expect("log_statement");
        std::fs::write(
            pg.dir.join("data/pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
        c.execute("SELECT pg_reload_conf()").await.expect("reload");
        c.close().await.ok();
        // The reload is asynchronous: wait until a password-less login is refused.
        let deadline = Instant::now() + Duration::from_secs(20);
        while pg.options("postgres", None).connect().await.is_ok() {
            assert!(Instant::now() < deadline, "the server still trusts logins after pg_reload_conf()");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        pg
    }

    fn options(&self, user: &str, password: Option<&str>) -> PgConnectOptions {
        let o = PgConnectOptions::new_without_pgpass()
            .host("127.0.0.1")
            .port(self.port)
            .username(user)
            .database("postgres")
            .ssl_mode(PgSslMode::Disable);
        match password {
            Some(p) => o.password(p),
            None => o,
        }
    }

    /// Logs in as `user` with `password` over TCP (scram-sha-256).
    pub async fn login(&self, user: &str, password: &str) -> Result<PgConnection, sqlx::Error> {
        self.options(user, Some(password)).connect().await
    }

    /// A superuser connection.
    pub async fn admin(&self) -> PgConnection {
        self.login("postgres", &self.super_password).await.expect("superuser login")
    }

    /// Creates a login role with a password (the server hashes it).
    pub async fn create_role(&self, name: &str, password: &str, extra: &str) {
        let ident = rotate::postgres::quote_identifier(name).expect("quotable");
        let mut c = self.admin().await;
        c.execute(format!("CREATE ROLE {ident} LOGIN {extra} PASSWORD '{password}'").as_str())
            .await
            .expect("CREATE ROLE");
        c.close().await.ok();
    }

    /// The server's log so far.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// The request target.
    pub fn target_port(&self) -> u16 {
        self.port
    }
}

/// Asserts that a login failed because the password was refused (SQLSTATE 28P01).
pub fn assert_password_refused(r: Result<PgConnection, sqlx::Error>, what: &str) {
    match r {
        Ok(_) => panic!("{what}: the login succeeded"),
        Err(sqlx::Error::Database(db)) => assert_eq!(db.code().as_deref(), Some("28P01"), "{what}: {db}"),
        Err(e) => panic!("{what}: expected a refused password, got {e}"),
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-test-server");
        let _ = Command::new(script).arg("stop").arg(&self.dir).stderr(Stdio::null()).status();
    }
}

// --------------------------------------------------------------------------------------- OpenSSH

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `Some(reason)` when the SSH tests cannot run here (not root); they print it and return.
pub fn ssh_skip_reason() -> Option<&'static str> {
    if !is_root() {
        return Some("skipped: needs root (starts sshd, creates Linux users); CI runs as root");
    }
    None
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

    fn start_with(auth: &str, fixed_port: Option<u16>) -> Sshd {
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
            let port = fixed_port.unwrap_or_else(closed_port);
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

impl Pg {
    /// Whether `psql` (PostgreSQL's own client, libpq) logs in as `user` with `password`.
    /// `false` only for a refused password; any other failure panics.
    pub fn psql_login_works(&self, user: &str, password: &str) -> bool {
        let bin = std::fs::read_to_string(self.dir.join("bin")).expect("bin dir of the cluster");
        let psql = Path::new(bin.trim()).join("psql");
        let conn = format!("host=127.0.0.1 port={} dbname=postgres sslmode=disable", self.port);
        let out = Command::new(psql)
            .args([conn.as_str(), "-w", "-X", "-A", "-t", "-c", "SELECT current_user"])
            .env("PGUSER", user)
            .env("PGPASSWORD", password)
            .stdin(Stdio::null())
            .output()
            .expect("run psql");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), user);
            return true;
        }
        assert!(
            stderr.contains("password authentication failed"),
            "psql failed for another reason: {stderr}"
        );
        false
    }
}
