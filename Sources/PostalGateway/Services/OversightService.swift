import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

/// The oversight office's RPCs (partner listener, oversight role).
struct OversightService {
  let shipments: ShipmentService
  let sla: SlaDesk
  let audit: AccessAuditor
  let ratings: RatingDesk
  let indicators: any IndicatorStore
  let queue: CounterQueue
  /// Where post offices are (the SLA policy) and what kind of unit that is (the map).
  let policy: SlaPolicyHolder
  let map: AdministrativeMapHolder
  let identities: any IdentityResolver
  let clock: any WallClock
  /// What commits publish: watches wake on new alerts and end when the gateway stops.
  let feed: ChangeFeed
  let logger: Logger

  private var minutesPerDay: Int { self.sla.minutesPerDay }
}

extension OversightService: Postalgateway_V1_OversightService.SimpleServiceProtocol {
  func explainDeadline(
    request: Postalgateway_V1_ExplainDeadlineRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_DeadlineExplanation {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let number = v.check("tracking_number") {
        try TrackingNumber(validating: request.trackingNumber)
      }
      let hop = v.check("hop") { try SlaHop(request.hop) } ?? nil
      try v.finish()
      // finish() threw if the number was malformed.
      let (timeliness, shipment) = try await self.sla.explain(number!, hop: hop)
      let startedBy = shipment.events.first { $0.sequence == timeliness.startSequence }
      return .with {
        $0.trackingNumber = request.trackingNumber
        $0.hop = timeliness.hop.rawValue
        $0.startedByEventSequence = Int64(timeliness.startSequence)
        $0.startedByEventType = timeliness.startKind.rawValue
        $0.startedAt = (startedBy?.occurredAt ?? timeliness.startedAt).proto
        $0.procedureCode = shipment.procedure.rawValue
        $0.workingDays = Int32(clamping: timeliness.workingDays)
        if timeliness.hop == .agencyProcessing {
          $0.catalogVersion = String(timeliness.policyVersion.dropFirst("catalog ".count))
        }
        $0.rule =
          timeliness.rule.isEmpty
          ? (timeliness.hop == .agencyProcessing
            ? DeadlineCalculator.agencyRule : DeadlineCalculator.postalRule)
          : timeliness.rule
        $0.appointmentDate = timeliness.appointmentDate?.description ?? ""
        $0.appointmentLaterThanLaw = timeliness.appointmentLaterThanLaw
        $0.extendedTo = timeliness.extendedTo?.description ?? ""
        $0.countedFrom = timeliness.countedFrom.description
        $0.dueDate = timeliness.due.description
        $0.calendarVersions = timeliness.calendarVersions
        $0.provisional = timeliness.provisional
        $0.steps = timeliness.steps
        $0.timeliness = Postalgateway_V1_HopTimeliness(
          timeliness,
          minutesPerDay: self.minutesPerDay
        )
      }
    }
  }

  func watchAlerts(
    request: Postalgateway_V1_WatchAlertsRequest,
    response: RPCWriter<Postalgateway_V1_SlaAlert>,
    context: ServerContext
  ) async throws {
    try await mappingErrors(self.logger, method: context.descriptor) {
      guard request.afterCursor >= 0 else {
        throw TrackingError.invalidField("after_cursor", "must not be negative")
      }
      var cursor = request.afterCursor
      let batchSize = 100
      while self.feed.keepsStreaming(context) {
        // Taken before the read, so an alert raised while this batch is written is not missed.
        let position = self.feed.position()
        let batch = try await self.sla.alerts(after: cursor, limit: batchSize)
        for alert in batch {
          try await response.write(
            Postalgateway_V1_SlaAlert(alert, minutesPerDay: self.minutesPerDay)
          )
          cursor = alert.cursor
        }
        if batch.count < batchSize {
          await self.feed.wait(for: [.alerts], after: position, orUntilCancelled: context)
        }
      }
    }
  }

  func getSlaReport(
    request: Postalgateway_V1_GetSlaReportRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_SlaReport {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let (from, to) = v.period(from: request.fromDate, to: request.toDate)
      let grouping = v.check("group_by") { try SlaReportGrouping(request.groupBy) }
      try v.finish()
      let now = self.clock.now()
      // finish() threw if any was nil.
      let report = try await self.sla.report(
        from: from!,
        through: to!,
        grouping: grouping!,
        now: now
      )
      return .with {
        $0.fromDate = request.fromDate
        $0.toDate = request.toDate
        $0.groupBy = request.groupBy
        $0.generatedAt = now.proto
        $0.rows = report.rows.map(Postalgateway_V1_SlaReportRow.init)
      }
    }
  }
}
