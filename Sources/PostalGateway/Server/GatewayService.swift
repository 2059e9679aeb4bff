import Logging
import ServiceLifecycle
import UnixSignals

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

/// Reloads the procedure catalog on SIGHUP, without a restart.
struct CatalogReloader: Service, CustomStringConvertible {
  var description: String { "CatalogReloader" }
  let gateway: Gateway

  func run() async throws {
    for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
      do {
        try self.gateway.reloadCatalog()
      } catch {
        self.gateway.logger.error("procedure catalog not reloaded", metadata: ["error": "\(error)"])
      }
    }
  }
}
