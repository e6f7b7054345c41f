import Foundation
import Postgres
import Primitives

#if canImport(Glibc)
import Glibc
#endif

/// Where the cluster lives: the requested folder, or a root-owned fallback that `postgres` can reach.
extension PrivateCluster {
    /// Creates the folder; as root, hands it to `postgres`, and falls back to a folder under /var/tmp when a parent
    /// folder (such as /root, mode 700) keeps `postgres` out.
    ///
    /// The fallback's name is predictable, so it is trusted only as root made it: `/var/tmp/weighin-<hash>` must be
    /// a real folder (checked with `lstat`, never through a link) owned by root and writable by no one else, and
    /// the cluster lives in its `cluster` subfolder, handed to `postgres` with `lchown`.
    static func prepareDirectory(_ requested: URL, user: String?, log: (String) -> Void) async throws -> URL {
        let requested = requested.standardizedFileURL
        try ensureDirectory(requested, user: user)
        guard let user else { return requested }
        let reachable = try await ProcessRunner.run("test", ["-w", requested.path, "-a", "-x", requested.path], as: user)
        if reachable.status == 0 { return requested }
        let parent = URL(fileURLWithPath: "/var/tmp/weighin-\(fingerprint(requested.path))")
        let fallback = parent.appendingPathComponent("cluster")
        log(
            "the postgres user cannot reach \(requested.path) (a parent folder is closed to it); "
                + "keeping the private cluster in \(fallback.path) instead")
        try makeOrCheckFolder(parent, mode: 0o711, owner: nil)
        try makeOrCheckFolder(fallback, mode: 0o700, owner: user)
        return fallback
    }

    /// Creates `url` with `mode`, or accepts it as it is only when `lstat` shows a real folder owned by root (or by
    /// `owner`) that no one else may write; then hands it to `owner` without following links.
    static func makeOrCheckFolder(_ url: URL, mode: mode_t, owner: String?) throws {
        if mkdir(url.path, mode) != 0, errno != EEXIST {
            throw PrivateClusterError("cannot create \(url.path) (errno \(errno))")
        }
        let account = owner.flatMap { getpwnam($0) }
        var info = stat()
        guard lstat(url.path, &info) == 0 else { throw PrivateClusterError("cannot inspect \(url.path) (errno \(errno))") }
        let isFolder = info.st_mode & S_IFMT == S_IFDIR
        let trustedOwner = info.st_uid == 0 || (account.map { info.st_uid == $0.pointee.pw_uid } ?? false)
        guard isFolder, trustedOwner, info.st_mode & 0o022 == 0 else {
            throw PrivateClusterError(
                "refusing \(url.path): it is not a folder owned by root that only root can change "
                    + "(someone else may have made it); remove it and start again")
        }
        if let account, lchown(url.path, account.pointee.pw_uid, account.pointee.pw_gid) != 0 {
            throw PrivateClusterError("cannot hand \(url.path) to the \(owner!) user (errno \(errno))")
        }
        // A real folder in a folder only root can change: nobody can swap it for a link now.
        if chmod(url.path, mode) != 0 { throw PrivateClusterError("cannot set the mode of \(url.path) (errno \(errno))") }
    }

    /// Creates the requested folder (the operator's own choice); as root, hands it to `postgres`.
    static func ensureDirectory(_ url: URL, user: String?) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw PrivateClusterError("cannot create the private cluster's folder \(url.path): \(error.localizedDescription)")
        }
        guard let user, let account = getpwnam(user) else { return }
        if chown(url.path, account.pointee.pw_uid, account.pointee.pw_gid) != 0 || chmod(url.path, 0o700) != 0 {
            throw PrivateClusterError("cannot hand \(url.path) to the \(user) user (errno \(errno))")
        }
    }

    /// A short stable name for a path (FNV-1a), so each project gets its own fallback folder.
    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
