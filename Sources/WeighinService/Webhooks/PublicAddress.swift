import Foundation
import Primitives

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether an address may receive webhooks in production: only public unicast ones, never loopback, private,
/// link-local, shared, multicast, documentation, benchmarking, reserved or unspecified ones (the answers of a request
/// to those would reach the service's own network, a server-side request forgery).
public enum PublicAddress {
    /// Whether `bytes` (4 bytes of IPv4 or 16 of IPv6, network order) is a public unicast address.
    public static func isPublic(_ bytes: [UInt8]) -> Bool {
        switch bytes.count {
        case 4: return isPublicV4(bytes)
        case 16: return isPublicV6(bytes)
        default: return false
        }
    }

    private static func isPublicV4(_ a: [UInt8]) -> Bool {
        let (b0, b1, b2) = (a[0], a[1], a[2])
        switch b0 {
        case 0, 10, 127: return false  // "this network", private, loopback
        case 100 where (64...127).contains(b1): return false  // shared address space (carrier-grade NAT)
        case 169 where b1 == 254: return false  // link-local (cloud metadata services live here)
        case 172 where (16...31).contains(b1): return false  // private
        case 192 where b1 == 168: return false  // private
        case 192 where b1 == 0 && (b2 == 0 || b2 == 2): return false  // IETF protocol assignments, TEST-NET-1
        case 198 where b1 == 18 || b1 == 19: return false  // benchmarking
        case 198 where b1 == 51 && b2 == 100: return false  // TEST-NET-2
        case 203 where b1 == 0 && b2 == 113: return false  // TEST-NET-3
        case 224...255: return false  // multicast, reserved, broadcast
        default: return true
        }
    }

    private static func isPublicV6(_ a: [UInt8]) -> Bool {
        // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address: judge that one.
        if a[0..<10].allSatisfy({ $0 == 0 }) && a[10] == 0xFF && a[11] == 0xFF { return isPublicV4(Array(a[12...])) }
        if a[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return isPublicV4(Array(a[12...])) }
        if a[0..<15].allSatisfy({ $0 == 0 }) { return false }  // :: and ::1 (and the deprecated IPv4-compatible)
        if a[0] == 0xFF { return false }  // multicast
        if a[0] == 0xFE && a[1] & 0xC0 == 0x80 { return false }  // link-local fe80::/10
        if a[0] == 0xFE && a[1] & 0xC0 == 0xC0 { return false }  // site-local fec0::/10 (deprecated)
        if a[0] & 0xFE == 0xFC { return false }  // unique local fc00::/7
        if a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8 { return false }  // documentation
        if a[0] == 0x01 && a[1..<8].allSatisfy({ $0 == 0 }) { return false }  // discard-only 100::/64
        return a[0] & 0xE0 == 0x20  // global unicast is 2000::/3
    }

    /// Every address `host` resolves to (an address literal is itself), read on a thread of its own: name
    /// resolution blocks. Empty when it does not resolve.
    public static func resolve(_ host: String) async -> [[UInt8]] {
        await onThreadOfItsOwn { resolveBlocking(host) }
    }

    private static func resolveBlocking(_ host: String) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        // Brackets of an IPv6 literal in a URL are not part of the address.
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [[UInt8]] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            if let address = info.pointee.ai_addr {
                switch Int32(info.pointee.ai_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        addresses.append(withUnsafeBytes(of: v4.pointee.sin_addr) { Array($0) })
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        addresses.append(withUnsafeBytes(of: v6.pointee.sin6_addr) { Array($0) })
                    }
                default:
                    break
                }
            }
            next = info.pointee.ai_next
        }
        return addresses
    }

    /// Whether `host` resolves, and only to public addresses (a name with one private address among public ones is
    /// refused: the connection could go to any of them).
    public static func resolvesToPublicOnly(_ host: String) async -> Bool {
        let addresses = await resolve(host)
        return !addresses.isEmpty && addresses.allSatisfy(isPublic)
    }
}
