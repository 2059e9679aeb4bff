import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

/// The oversight office's RPCs (partner listener, oversight role).
struct OversightService {
  let shipments: ShipmentService
  let logger: Logger
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
      try v.finish()
      // finish() threw if the number was malformed.
      let explanation = try await self.shipments.explainAgencyDeadline(number!)
      let deadline = explanation.deadline
      return .with {
        $0.trackingNumber = request.trackingNumber
        $0.hop = "AGENCY_PROCESSING"
        $0.startedByEventSequence = Int64(explanation.startedBy.sequence)
        $0.startedByEventType = explanation.startedBy.kind.rawValue
        $0.startedAt = explanation.startedBy.occurredAt.proto
        $0.procedureCode = explanation.procedure.rawValue
        $0.workingDays = Int32(clamping: explanation.workingDays)
        $0.catalogVersion = explanation.catalogVersion
        $0.rule =
          "NĐ 61/2018 art. 18–19: counted after the filing day; a filing at or after 15:00 or on a day off counts from the next working day; a completed supplement restarts the count"
        $0.countedFrom = deadline.start.description
        $0.dueDate = deadline.due.description
        $0.calendarVersions = deadline.calendarVersions
        $0.provisional = deadline.provisional
        $0.steps = deadline.steps
      }
    }
  }
}
