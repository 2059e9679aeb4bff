import Logging
import ServiceLifecycle
import Tracking

/// Raises at-risk and breach alerts as their times pass.
///
/// It asks the store for the earliest time an alert is due (an indexed lookup, never a scan of
/// open shipments), sleeps until then unless a commit changes the hops first, raises what is
/// due, each alert exactly once, and sleeps again. An idle monitor does nothing.
struct SlaMonitor: Service, CustomStringConvertible {
  var description: String { "SlaMonitor" }

  let store: any SlaStore
  let feed: ChangeFeed
  let clock: any WallClock
  let logger: Logger

  /// Alerts raised per pass at most; a backlog drains over the following passes at once.
  static let batchSize = 1000

  /// Runs until graceful shutdown.
  func run() async {
    while !Task.isCancelled, !Task.isShuttingDownGracefully {
      // Taken before the reads, so hops written meanwhile wake the monitor at once.
      let position = self.feed.position()
      var next: Timestamp?
      do {
        next = try await self.store.nextAlertTime()
        if let due = next, due <= self.clock.now() {
          var raised = Self.batchSize
          while raised == Self.batchSize, !Task.isCancelled {
            raised = try await self.pass()
          }
          continue
        }
      } catch {
        // Shutting down cancels the store call: not a failure to report.
        if Task.isCancelled { return }
        self.logger.error(
          "service-level alerts not raised",
          metadata: [
            "error": "\(error)", "error.cause": "\((error as? TrackingError)?.underlying ?? "")",
          ]
        )
        next = self.clock.now().advanced(by: .seconds(5))
      }
      let wakeAt = next
      await cancelWhenGracefulShutdown {
        await self.feed.wait(for: [.hops], after: position, until: wakeAt, clock: self.clock)
      }
    }
  }

  /// One pass: raises the alerts due now.
  /// - Returns: How many were raised.
  @discardableResult
  func pass() async throws -> Int {
    let alerts = try await self.store.raiseDueAlerts(
      now: self.clock.now(),
      limit: Self.batchSize
    )
    for alert in alerts {
      // Numbers and codes only: no personal data.
      self.logger.notice(
        "service-level alert",
        metadata: [
          "sla.kind": "\(alert.kind.rawValue)", "sla.hop": "\(alert.hop.hop.rawValue)",
          "shipment": "\(alert.hop.trackingNumber)", "sla.due": "\(alert.hop.due)",
          "agency": "\(alert.hop.agency)",
        ]
      )
    }
    return alerts.count
  }
}
