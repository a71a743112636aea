// What a handler knows about a request beyond the request itself: which address called (how
// the metadata endpoints know which VM asks) and, once a handler knows it, the VM it answered
// for, so that the request log can name it.
public import Hummingbird
public import NIOCore
import Synchronization

/// The request context every Pitstop route is written against.
public protocol PitstopRequestContext: RemoteAddressRequestContext {
    /// Where a handler leaves the name of the VM it answered for.
    var answeredFor: AnsweredFor { get }
}

/// The VM a request was answered for, or the API token that made it, written by the handler
/// and read by the request log after it: a context is passed by value, so the two share this box.
public final class AnsweredFor: Sendable {
    private let name = Mutex<String?>(nil)
    private let token = Mutex<String?>(nil)

    public init() {}

    public var vm: String? {
        get { name.withLock { $0 } }
        set { name.withLock { $0 = newValue } }
    }

    /// The name of the API token that was authorised (the audit actor of what it changes).
    public var actor: String? {
        get { token.withLock { $0 } }
        set { token.withLock { $0 = newValue } }
    }
}

/// The context of a request that came over a socket: the caller is the connection's peer.
public struct ServerRequestContext: PitstopRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public let answeredFor = AnsweredFor()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

extension PitstopRequestContext {
    /// The caller's IP address as text (`127.0.0.2`, `2001:db8::1`).
    var callerAddress: String? { remoteAddress?.ipAddress }
}
