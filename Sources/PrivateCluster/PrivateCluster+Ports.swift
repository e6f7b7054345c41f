import Foundation
import Postgres
import Primitives

#if canImport(Glibc)
import Glibc
#endif

/// Free loopback ports for the server.
extension PrivateCluster {
    static func isFree(_ port: Int) -> Bool {
        (try? bindLoopback(port)) != nil
    }

    static func freePort() throws -> Int {
        try bindLoopback(0)
    }

    /// Binds a TCP socket to 127.0.0.1:`port` (0: any), closes it and returns the port bound.
    static func bindLoopback(_ port: Int) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PrivateClusterError("cannot open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw PrivateClusterError("port \(port) on 127.0.0.1 is taken") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
