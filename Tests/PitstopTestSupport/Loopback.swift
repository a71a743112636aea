// A TCP socket bound on a loopback address, on a port the kernel picks.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum Loopback {
    /// A TCP socket bound on `address`, port chosen by the kernel: its descriptor and port.
    /// The caller listens on it, or closes it to learn a port that was free.
    public static func boundSocket(_ address: String = "127.0.0.1") throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackError("no socket") }
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_addr.s_addr = inet_addr(address)
        socketAddress.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &socketAddress) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else {
            close(fd)
            throw LoopbackError("cannot bind a socket on \(address)")
        }
        _ = withUnsafeMutablePointer(to: &socketAddress) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: socketAddress.sin_port)))
    }

    /// A TCP port on `address` that nothing listens on now.
    public static func freePort(_ address: String = "127.0.0.1") throws -> Int {
        let (fd, port) = try boundSocket(address)
        close(fd)
        return port
    }

    struct LoopbackError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
