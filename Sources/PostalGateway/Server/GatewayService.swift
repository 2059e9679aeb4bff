import Logging
import ServiceLifecycle

/// Runs the ``Gateway`` under swift-service-lifecycle: graceful shutdown (SIGTERM, SIGINT)
/// stops the listeners and lets running calls finish.
struct GatewayService: Service, CustomStringConvertible {
  var description: String { "GatewayService" }

  let gateway: Gateway

  func run() async throws {
    try await withGracefulShutdownHandler {
      try await self.gateway.run()
    } onGracefulShutdown: {
      self.gateway.logger.info("shutting down")
      self.gateway.beginGracefulShutdown()
    }
  }
}
