import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension TestCluster {
    /// `url` (a URL of the test cluster) with 127.0.0.1:`port` named first: a multi-host URL whose first server is
    /// whatever listens there (or nothing).
    static func url(_ url: String, withFirst port: Int) async throws -> String {
        let server = "127.0.0.1:\(try await running().port)"
        #expect(url.contains(server))
        return url.replacingOccurrences(of: server, with: "127.0.0.1:\(port),\(server)")
    }
}

/// A TCP listener on 127.0.0.1 that never accepts: the kernel completes each connection, nothing ever answers
/// (a server whose processes are stopped, or a black hole behind a load balancer).
final class SilentListener: Sendable {
    let port: Int
    private let socket: Int32

    init() throws {
        (socket, port) = try boundSocket()
        guard listen(socket, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
    }

    deinit { close(socket) }
}

/// A port on 127.0.0.1 that nothing listens on (bound and released): connections to it are refused at once.
struct ClosedPort {
    let port: Int

    init() throws {
        let (socket, port) = try boundSocket()
        close(socket)
        self.port = port
    }
}

/// A TCP socket bound to a free port of 127.0.0.1, and that port.
private func boundSocket() throws -> (Int32, Int) {
    let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
        }
    }
    guard bound else {
        close(fd)
        throw POSIXError(.EADDRNOTAVAIL)
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
