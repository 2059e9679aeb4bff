import Logging
import Tracking

/// Raises at-risk and breach alerts as their times pass: every interval it asks the store for
/// the running hops whose at-risk or due time is over (an indexed range, not a scan of open
/// shipments) and records each alert exactly once. Watchers read the alert log.
struct SlaMonitor: Sendable {
  let store: any SlaStore
  let interval: Duration
  let now: @Sendable () -> Timestamp
  let clock: any Clock<Duration>
  let logger: Logger

  /// Alerts raised per pass at most; a backlog drains over the following passes at once.
  static let batchSize = 1000

  /// Runs until cancelled.
  func run() async {
    while !Task.isCancelled {
      var raised = Self.batchSize
      while raised == Self.batchSize, !Task.isCancelled {
        raised = await self.pass()
      }
      do {
        try await self.clock.sleep(for: self.interval)
      } catch {
        return  // cancelled
      }
    }
  }

  /// One pass: raises the alerts due now.
  /// - Returns: How many were raised.
  @discardableResult
  func pass() async -> Int {
    do {
      let alerts = try await self.store.raiseDueAlerts(now: self.now(), limit: Self.batchSize)
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
    } catch {
      // Shutting down cancels the store call: not a failure to report.
      if !Task.isCancelled {
        self.logger.error(
          "service-level alerts not raised",
          metadata: [
            "error": "\(error)", "error.cause": "\((error as? TrackingError)?.underlying ?? "")",
          ]
        )
      }
      return 0
    }
  }
}
