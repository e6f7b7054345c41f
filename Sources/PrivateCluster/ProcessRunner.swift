import Foundation
import Primitives

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion and captures what it printed.
///
/// Built on `posix_spawn` and `waitpid` rather than Foundation's `Process`, whose exit detection on Linux can miss
/// a child when several run at once. Each run happens on a thread of its own, off Swift's cooperative pool.
enum ProcessRunner {
    struct Output: Sendable {
        let status: Int32
        let text: String
    }

    /// Runs `program` (found on PATH unless absolute) with `arguments`, as `user` when given (through `runuser`,
    /// which needs root). Standard output and error are captured together; standard input is /dev/null.
    static func run(_ program: String, _ arguments: [String], as user: String? = nil) async throws -> Output {
        try await onThreadOfItsOwn { try runBlocking(program, arguments, as: user) }
    }

    /// The blocking form, for callers on threads of their own (`atexit` handlers).
    static func runBlocking(_ program: String, _ arguments: [String], as user: String? = nil) throws -> Output {
        let argv = user.map { [runuser, "-u", $0, "--", program] + arguments } ?? [program] + arguments
        var fds: [Int32] = [0, 0]
        // Close-on-exec from birth (a socket pair, as Glibc's module lacks pipe2): a program spawned at the same
        // moment by another thread (a server that lives on) must not inherit it, or its reader never sees the end.
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw PrivateClusterError("cannot create a pipe to run \(program)")
        }
        defer { close(fds[0]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[1])

        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0], &actions, nil, cArguments, environ)
        close(fds[1])
        guard spawned == 0 else {
            throw PrivateClusterError("cannot run \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count > 0 {
                output += buffer[0..<count]
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        // WIFEXITED / WEXITSTATUS by hand: the C macros are not imported into Swift.
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Output(status: exitCode, text: String(decoding: output, as: UTF8.self))
    }

    private static var runuser: String {
        ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "runuser"
    }
}
