import Logging
import ServiceLifecycle
import Tracking

/// Forgets idempotency records older than the retention (30 days by default), once an hour in
/// batches, so the table stays bounded while a retry within the retention is still answered
/// with its original result.
struct IdempotencyPruner: Service, CustomStringConvertible {
  var description: String { "IdempotencyPruner" }

  let store: any ShipmentStore
  let retention: Duration
  let interval: Duration
  let clock: any WallClock
  let logger: Logger

  static let batchSize = 1000

  func run() async {
    while !Task.isCancelled, !Task.isShuttingDownGracefully {
      do {
        let forgotten = try await self.prune(now: self.clock.now())
        if forgotten > 0 {
          self.logger.info("idempotency records pruned", metadata: ["count": "\(forgotten)"])
        }
      } catch {
        if Task.isCancelled { return }
        self.logger.error("idempotency records not pruned", metadata: ["error": "\(error)"])
      }
      let next = self.clock.now().advanced(by: self.interval)
      try? await cancelWhenGracefulShutdown { try await self.clock.sleep(until: next) }
    }
  }

  /// Forgets everything older than the retention at `now`.
  /// - Returns: How many records were forgotten.
  func prune(now: Timestamp) async throws -> Int {
    let cutoff = now.advanced(by: .zero - self.retention)
    var total = 0
    while !Task.isCancelled {
      let forgotten = try await self.store.forgetIdempotencyKeys(
        recordedBefore: cutoff,
        limit: Self.batchSize
      )
      total += forgotten
      if forgotten < Self.batchSize { break }
    }
    return total
  }
}
