import Logging
import ServiceLifecycle
import Tracking

/// Follows whether the store can write: reports it to health, and while it cannot, probes with
/// a small write (1 s, doubling to 30 s) until one succeeds. A healthy store is never probed.
struct StoreProbe: Service, CustomStringConvertible {
  var description: String { "StoreProbe" }

  let stores: Stores
  let health: GatewayHealth
  let clock: any WallClock
  let logger: Logger

  func run() async {
    await cancelWhenGracefulShutdown {
      for await writable in self.stores.health.updates() {
        self.health.storeChanged(writable: writable)
        guard !writable else {
          self.logger.notice("store writable again")
          continue
        }
        self.logger.error(
          "store cannot write",
          metadata: ["error.cause": "\(self.stores.health.lastFailure ?? "")"]
        )
        await self.probeUntilWritable()
      }
    }
  }

  private func probeUntilWritable() async {
    var delay: Duration = .seconds(1)
    while !Task.isCancelled, !self.stores.health.isWritable {
      do {
        try await self.clock.sleep(for: delay)
      } catch {
        return
      }
      // A successful probe marks the store writable, which ends this loop and, through the
      // health stream, tells the observer above.
      try? await self.stores.shipments.probeWrite(now: self.clock.now())
      delay = min(delay * 2, .seconds(30))
    }
  }
}
