import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
import Tracking

/// The operator's HTTP address: `GET /metrics` answers the Prometheus text exposition (gauges
/// sampled from the stores at that moment), anything else 404. Plain HTTP, as Prometheus scrapes
/// by default: the figures hold no personal data, but bind it to loopback or the operators'
/// network only. A service of the group, started before the listeners and stopped at shutdown.
struct MetricsEndpoint: Service, CustomStringConvertible {
  var description: String { "MetricsEndpoint" }

  let host: String
  let port: Int
  let metrics: GatewayMetrics
  let sampler: MetricsSampler
  let logger: Logger
  private let bound = BoundPort()

  init(
    listener: GatewayConfiguration.Listener,
    metrics: GatewayMetrics,
    sampler: MetricsSampler,
    logger: Logger
  ) {
    self.host = listener.host == "localhost" ? "127.0.0.1" : listener.host
    self.port = listener.port
    self.metrics = metrics
    self.sampler = sampler
    self.logger = logger
  }

  /// The port it listens on, once bound (a configured port 0 picks one).
  func listeningPort() async -> Int { await self.bound.wait() }

  func run() async throws {
    do {
      try await cancelWhenGracefulShutdown {
        try await self.serve()
      }
    } catch is CancellationError {
      // Graceful shutdown cancels the accept loop and every open scrape connection.
    }
  }

  private func serve() async throws {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    let server: NIOAsyncChannel<Connection, Never>
    do {
      server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .bind(host: self.host, port: self.port) { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            return try Connection(wrappingChannelSynchronously: channel)
          }
        }
    } catch {
      throw ConfigurationError(
        "metrics address \(self.host):\(self.port) cannot be bound: \(error)"
      )
    }
    let port = server.channel.localAddress?.port ?? self.port
    self.bound.set(port)
    self.logger.info(
      "serving metrics",
      metadata: ["listener": "metrics", "listener.address": "\(self.host):\(port)"]
    )
    try await withThrowingDiscardingTaskGroup { group in
      try await server.executeThenClose { connections in
        for try await connection in connections {
          group.addTask { await self.handle(connection) }
        }
      }
    }
  }

  /// Answers the requests of one connection, keeping it open while the client asks to.
  private func handle(
    _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
  ) async {
    do {
      try await connection.executeThenClose { inbound, outbound in
        var request: HTTPRequestHead?
        for try await part in inbound {
          switch part {
          case .head(let head):
            request = head
          case .body:
            continue
          case .end:
            guard let head = request else { return }
            request = nil
            let (status, contentType, body) = await self.respond(to: head)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: "\(body.count)")
            headers.add(name: "Connection", value: head.isKeepAlive ? "keep-alive" : "close")
            try await outbound.write(
              .head(HTTPResponseHead(version: head.version, status: status, headers: headers))
            )
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
            try await outbound.write(.end(nil))
            if !head.isKeepAlive { return }
          }
        }
      }
    } catch {
      // A client that went away: nothing to do.
      self.logger.debug("metrics connection ended", metadata: ["error": "\(error)"])
    }
  }

  /// The status, content type and body for one request.
  private func respond(to head: HTTPRequestHead) async -> (HTTPResponseStatus, String, [UInt8]) {
    let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
    guard path == "/metrics" else {
      return (.notFound, "text/plain; charset=utf-8", Array("not found; try /metrics\n".utf8))
    }
    guard head.method == .GET else {
      return (.methodNotAllowed, "text/plain; charset=utf-8", Array("GET only\n".utf8))
    }
    do {
      try await self.sampler.sample()
    } catch {
      self.logger.error("metrics not sampled", metadata: ["error": "\(error)"])
      return (
        .serviceUnavailable, "text/plain; charset=utf-8",
        Array("the store could not be read; see the gateway's log\n".utf8)
      )
    }
    return (.ok, "text/plain; version=0.0.4; charset=utf-8", self.metrics.exposition())
  }
}
