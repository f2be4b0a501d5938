import Glibc

/// A child process started with `posix_spawn`, known by its pid and stopped by that pid.
///
/// Launchers and tests use it so that they stop exactly the processes they started (never
/// by name) and so that a failed test leaves none behind: `terminate` sends SIGTERM, waits,
/// then SIGKILL.
public final class ChildProcess {
    /// Where a child's output goes.
    public enum Output: Sendable {
        case inherit
        case discard
        /// Appended to this file, created if missing.
        case file(String)
    }

    public let pid: pid_t
    public let arguments: [String]
    private var status: Int32?

    /// Starts `executable` with `arguments` (not including argv[0]).
    /// - Parameter environment: variables to set or replace on top of this process's own.
    public init(
        executable: String, arguments: [String], environment: [String: String] = [:],
        standardOutput: Output = .inherit, standardError: Output = .inherit
    ) throws(ChildProcessError) {
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        Self.redirect(&actions, fd: 1, standardOutput)
        Self.redirect(&actions, fd: 2, standardError)

        var merged: [String: String] = [:]
        var index = 0
        while let entry = environ[index] {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                merged[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            index += 1
        }
        for (key, value) in environment { merged[key] = value }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // A child starts with no blocked signals and default dispositions, whatever its
        // parent (a test runner, say) has blocked or ignored: otherwise SIGTERM could not stop it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw ChildProcessError(executable: executable, errno: rc) }
        self.pid = pid
    }

    private static func redirect(_ actions: inout posix_spawn_file_actions_t, fd: Int32, _ output: Output) {
        switch output {
        case .inherit: break
        case .discard: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
    }

    /// The exit status if the process has ended (reaping it), nil while it runs.
    /// Death by a signal is reported as 128 + the signal number, as shells do.
    public func poll() -> Int32? {
        if let status { return status }
        var raw: Int32 = 0
        let rc = waitpid(pid, &raw, WNOHANG)
        if rc == pid {
            status = Self.decode(raw)
        } else if rc < 0 && errno == ECHILD {
            status = -1
        }
        return status
    }

    public var isRunning: Bool { poll() == nil }

    /// Waits up to `timeoutMilliseconds` for the process to end; its status, or nil.
    public func wait(timeoutMilliseconds: Int) -> Int32? {
        let deadline = MonotonicClock.milliseconds + Int64(timeoutMilliseconds)
        while true {
            if let status = poll() { return status }
            if MonotonicClock.milliseconds >= deadline { return nil }
            usleep(5_000)
        }
    }

    public func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    /// SIGTERM, then SIGKILL if still running after `graceMilliseconds`; returns the status.
    @discardableResult
    public func terminate(graceMilliseconds: Int = 5_000) -> Int32 {
        signal(SIGTERM)
        if let status = wait(timeoutMilliseconds: graceMilliseconds) { return status }
        signal(SIGKILL)
        return wait(timeoutMilliseconds: 5_000) ?? -1
    }

    deinit {
        // Never leave a child behind, even when the owner forgot or a test failed.
        if poll() == nil { terminate(graceMilliseconds: 1_000) }
    }

    static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    /// This program's own executable, for starting more of itself.
    public static var currentExecutable: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A process that could not be started.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let executable: String
    public let errno: Int32

    public var description: String { "cannot start \(executable): \(String(cString: strerror(errno)))" }
}
