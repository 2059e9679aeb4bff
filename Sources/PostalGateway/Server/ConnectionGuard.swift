import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import Synchronization

/// Limits what one listener's connections may hold: at most ``maximumConnections`` open at once
/// (a connection over the limit is closed as soon as it is accepted), and a connection that has
/// not opened a single RPC within ``firstCallTimeout`` — a slow-loris client that trickles its
/// TLS handshake or HTTP/2 preface, or connects and does nothing — is closed.
final class ConnectionGuard: Sendable {
  private struct State {
    var open = 0
    var withCalls: Set<ObjectIdentifier> = []
  }

  let listener: String
  let maximumConnections: Int
  let firstCallTimeout: Duration
  let metrics: GatewayMetrics
  let logger: Logger
  private let state = Mutex(State())

  init(
    listener: String,
    maximumConnections: Int,
    firstCallTimeout: Duration,
    metrics: GatewayMetrics,
    logger: Logger
  ) {
    self.listener = listener
    self.maximumConnections = maximumConnections
    self.firstCallTimeout = firstCallTimeout
    self.metrics = metrics
    self.logger = logger
  }

  /// Connections open now.
  var openConnections: Int { self.state.withLock { $0.open } }

  /// The transport's callbacks that apply the limits.
  var callbacks: HTTP2ServerTransport.Config.ChannelDebuggingCallbacks {
    HTTP2ServerTransport.Config.ChannelDebuggingCallbacks(
      onBindTCPListener: nil,
      onAcceptTCPConnection: { channel in self.accepted(channel) },
      onAcceptHTTP2Stream: { stream in self.streamOpened(stream) }
    )
  }

  private func accepted(_ channel: any Channel) -> EventLoopFuture<Void> {
    let id = ObjectIdentifier(channel)
    let admitted = self.state.withLock { state -> Bool in
      guard state.open < self.maximumConnections else { return false }
      state.open += 1
      return true
    }
    guard admitted else {
      self.metrics.refused(.connections)
      self.logger.warning(
        "connection refused: too many open",
        metadata: ["listener": "\(self.listener)", "limit": "\(self.maximumConnections)"]
      )
      channel.close(promise: nil)
      return channel.eventLoop.makeSucceededVoidFuture()
    }
    channel.closeFuture.whenComplete { _ in
      self.state.withLock { state in
        state.open -= 1
        state.withCalls.remove(id)
      }
    }
    let (seconds, attoseconds) = self.firstCallTimeout.components
    let timeout = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    channel.eventLoop.scheduleTask(in: timeout) {
      let idle = self.state.withLock { !$0.withCalls.contains(id) }
      if idle, channel.isActive {
        self.metrics.refused(.firstCallTimeout)
        self.logger.info(
          "connection closed: no call within the timeout",
          metadata: ["listener": "\(self.listener)"]
        )
        channel.close(promise: nil)
      }
    }
    return channel.eventLoop.makeSucceededVoidFuture()
  }

  private func streamOpened(_ stream: any Channel) -> EventLoopFuture<Void> {
    if let connection = stream.parent {
      let id = ObjectIdentifier(connection)
      self.state.withLock { _ = $0.withCalls.insert(id) }
    }
    return stream.eventLoop.makeSucceededVoidFuture()
  }
}
