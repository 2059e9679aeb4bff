import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import Tracking
import UnixSignals

/// One gRPC listener as a service of the group: serves until graceful shutdown, then stops
/// taking calls, ends open streams and lets running calls finish. Health turns `SERVING` once
/// both listeners are bound, and `NOT_SERVING` as soon as draining begins.
struct ListenerService: Service, CustomStringConvertible {
  var description: String { "ListenerService(\(self.name))" }

  let name: String
  let server: GRPCServer<HTTP2ServerTransport.Posix>
  let transport: HTTP2ServerTransport.Posix
  let health: GatewayHealth
  let feed: ChangeFeed
  let logger: Logger

  func run() async throws {
    try await withGracefulShutdownHandler {
      try await withThrowingDiscardingTaskGroup { group in
        group.addTask {
          do {
            try await self.server.serve()
          } catch {
            self.logger.error(
              "listener failed",
              metadata: ["listener": "\(self.name)", "error": "\(error)"]
            )
            throw error
          }
        }
        group.addTask {
          let address = try await self.transport.listeningAddress
          self.logger.info(
            "listening",
            metadata: ["listener": "\(self.name)", "listener.address": "\(address)"]
          )
          self.health.listenerStarted(self.name)
        }
      }
    } onGracefulShutdown: {
      self.logger.info("shutting down", metadata: ["listener": "\(self.name)"])
      self.health.beginDraining()
      self.health.partner.shutDown()
      self.health.publicListener.shutDown()
      self.feed.beginShutdown()
      self.server.beginGracefulShutdown()
    }
  }
}

/// Reloads the revocation list, then the catalog, calendars and SLA policy on SIGHUP, then recomputes the stored hops
/// through the write path so that stored due dates stay the one truth.
struct Reloader: Service, CustomStringConvertible {
  var description: String { "Reloader" }
  let domain: GatewayDomain
  let clock: any WallClock
  let logger: Logger

  func run() async throws {
    for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
      // The revocation list first and on its own: a bad catalog must not delay a revocation.
      do {
        try self.domain.reloadRevocations(logger: self.logger)
      } catch {
        self.logger.error("revocation list not reloaded", metadata: ["error": "\(error)"])
      }
      do {
        try await self.reload()
      } catch {
        self.logger.error("data files not reloaded", metadata: ["error": "\(error)"])
      }
    }
  }

  /// Reloads and recomputes.
  func reload() async throws {
    try self.domain.reload(logger: self.logger)
    let result = try await self.domain.sla.recompute(
      apply: true,
      now: self.clock.now(),
      maximumChanges: 1000
    )
    self.logger.notice(
      "service levels recomputed after reload",
      metadata: [
        "sla.shipments": "\(result.shipmentsChecked)",
        "sla.changes": "\(result.changes.count)\(result.truncated ? "+" : "")",
      ]
    )
  }
}
