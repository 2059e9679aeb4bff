import Foundation
import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

/// Agency systems' RPCs (partner listener, agency role). Every lookup is scoped to the calling
/// agency: another agency's dossier answers NOT_FOUND, exactly like an unknown one.
struct AgencyService {
  let desk: AgencyDesk
  let handoffs: any HandoffStore
  let blobs: any BlobStore
  let audit: AccessAuditor
  let routes: RouteTable
  let identities: any IdentityResolver
  let clock: any WallClock
  /// What commits publish: watches wake on new outbox rows and end when the gateway stops.
  let feed: ChangeFeed
  let logger: Logger

  func actor(_ context: ServerContext) throws -> (Actor, AgencyCode) {
    guard case .partner(let actor) = self.identities.identity(of: context),
      let agency = actor.agency
    else {
      throw TrackingError(code: .permissionDenied, message: "an agency certificate is required")
    }
    return (actor, agency)
  }
}

extension AgencyService: Postalgateway_V1_AgencyService.SimpleServiceProtocol {
  func watchHandoffs(
    request: Postalgateway_V1_WatchHandoffsRequest,
    response: RPCWriter<Postalgateway_V1_HandoffNotice>,
    context: ServerContext
  ) async throws {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let (actor, agency) = try self.actor(context)
      guard request.afterCursor >= 0 else {
        throw TrackingError.invalidField("after_cursor", "must not be negative")
      }
      self.logger.info("handoff watch opened", metadata: ["caller.id": "\(actor.id)"])
      var cursor = request.afterCursor
      let batchSize = 100
      while self.feed.keepsStreaming(context) {
        // Taken before the read, so a handoff queued while this batch is written is not missed.
        let position = self.feed.position()
        let batch = try await self.handoffs.pendingHandoffs(
          agency: agency,
          after: cursor,
          limit: batchSize
        )
        for handoff in batch {
          let shipment = try await self.desk.shipment(handoff.trackingNumber, for: agency)
          try await response.write(
            .with {
              $0.cursor = handoff.cursor
              $0.dossier = Postalgateway_V1_DossierPackage(
                shipment,
                handoffID: handoff.id,
                queuedAt: handoff.queuedAt
              )
            }
          )
          cursor = handoff.cursor
        }
        if batch.count < batchSize {
          await self.feed.wait(for: [.outbox], after: position, orUntilCancelled: context)
        }
      }
    }
  }

  func acknowledgeHandoff(
    request: Postalgateway_V1_AcknowledgeHandoffRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_AgencyShipment {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let (actor, _) = try self.actor(context)
      let (requestID, decision) = try request.domain()
      let key = try RequestFingerprint.key(
        requestID,
        request,
        clearing: \.requestID,
        context: context,
        caller: actor
      )
      let (shipment, applied) = try await self.desk.decide(
        decision,
        by: actor,
        idempotencyKey: key,
        now: self.clock.now()
      )
      self.logger.info(
        "handoff decided",
        metadata: [
          "handoff.id": "\(decision.handoffID)", "handoff.channel": "pull",
          "handoff.applied": "\(applied)", "caller.id": "\(actor.id)",
        ]
      )
      return Postalgateway_V1_AgencyShipment(shipment)
    }
  }

  func requestSupplement(
    request: Postalgateway_V1_RequestSupplementRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_AgencyShipment {
    try await self.recording(request, context) {
      let (id, number, supplement) = try $0.domain()
      return (id, (number, supplement))
    } record: { parsed, actor, key, now in
      try await self.desk.requestSupplement(
        parsed.0,
        parsed.1,
        by: actor,
        idempotencyKey: key,
        now: now
      )
    }
  }

  func refuseDossier(
    request: Postalgateway_V1_RefuseDossierRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_AgencyShipment {
    try await self.recording(request, context) { request in
      var v = RequestValidator()
      let id = v.check("request_id") { try RequestID(validating: request.requestID) }
      let number = v.check("tracking_number") {
        try TrackingNumber(validating: request.trackingNumber)
      }
      let reason = v.text("reason", request.reason, required: true, maximumLength: 1000)
      try v.finish()
      guard let id, let number, let reason else {
        throw TrackingError.invalidField("request", "is malformed")
      }
      return (id, (number, reason))
    } record: { (parsed: (TrackingNumber, String), actor, key, now) in
      try await self.desk.refuse(
        parsed.0,
        reason: parsed.1,
        by: actor,
        idempotencyKey: key,
        now: now
      )
    }
  }

  func extendProcessing(
    request: Postalgateway_V1_ExtendProcessingRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_AgencyShipment {
    try await self.recording(request, context) {
      let (id, number, newDue, reason, apology) = try $0.domain()
      return (id, (number, newDue, reason, apology))
    } record: { parsed, actor, key, now in
      try await self.desk.extendProcessing(
        parsed.0,
        newDueDate: parsed.1,
        reason: parsed.2,
        apology: parsed.3,
        by: actor,
        idempotencyKey: key,
        now: now
      )
    }
  }

  func reportResultReady(
    request: Postalgateway_V1_ReportResultReadyRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_AgencyShipment {
    try await self.recording(request, context) {
      let (id, number, notice) = try $0.domain()
      return (id, (number, notice))
    } record: { parsed, actor, key, now in
      try await self.desk.reportResultReady(
        parsed.0,
        parsed.1,
        by: actor,
        idempotencyKey: key,
        now: now
      )
    }
  }

  /// One event recorded by the calling agency: identifies the caller, validates the request,
  /// derives its idempotency key, records, and returns the shipment as the agency sees it.
  private func recording<Request: IdempotentRequest, Parsed>(
    _ request: Request,
    _ context: ServerContext,
    parse: (Request) throws -> (RequestID, Parsed),
    record: (Parsed, Actor, IdempotencyKey, Timestamp) async throws -> RecordedEvent
  ) async throws -> Postalgateway_V1_AgencyShipment {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let (actor, _) = try self.actor(context)
      let (requestID, parsed) = try parse(request)
      let key = try RequestFingerprint.key(
        requestID,
        request,
        clearing: \.requestID,
        context: context,
        caller: actor
      )
      let recorded = try await record(parsed, actor, key, self.clock.now())
      return Postalgateway_V1_AgencyShipment(recorded.shipment)
    }
  }

  func getDossier(
    request: Postalgateway_V1_GetDossierRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_DossierPackage {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let (actor, agency) = try self.actor(context)
      var v = RequestValidator()
      let number = v.check("tracking_number") {
        try TrackingNumber(validating: request.trackingNumber)
      }
      let purpose = v.check("purpose") { try AccessAuditor.purpose(request.purpose) }
      try v.finish()
      // finish() threw if the number was malformed.
      let shipment = try await self.desk.shipment(number!, for: agency)
      guard let ticket = shipment.handoffTicket,
        let handoff = try await self.handoffs.handoff(id: ticket.handoffID)
      else {
        throw TrackingError(
          code: .failedPrecondition,
          message: "the dossier has not been handed off electronically"
        )
      }
      try await self.audit.record(
        .dossier,
        of: [number!],
        by: actor.id,
        purpose: purpose!,
        now: self.clock.now()
      )
      return Postalgateway_V1_DossierPackage(
        shipment,
        handoffID: handoff.id,
        queuedAt: handoff.queuedAt
      )
    }
  }

  func downloadScan(
    request: Postalgateway_V1_DownloadScanRequest,
    response: RPCWriter<Postalgateway_V1_DownloadScanResponse>,
    context: ServerContext
  ) async throws {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let (actor, agency) = try self.actor(context)
      var v = RequestValidator()
      let purpose = v.check("purpose") { try AccessAuditor.purpose(request.purpose) }
      try v.finish()
      guard
        let (number, scan) = try await self.desk.scan(
          documentCode: request.documentCode,
          for: agency
        )
      else {
        throw TrackingError(code: .notFound, message: "no scan with this document code")
      }
      try await self.audit.record(
        .scan,
        of: [number],
        by: actor.id,
        // finish() threw if it is nil.
        purpose: purpose!,
        documentCode: scan.documentCode,
        now: self.clock.now()
      )
      try await self.blobs.stream(scan, to: response, logger: self.logger)
    }
  }

  func getChannelStatus(
    request: Postalgateway_V1_GetChannelStatusRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ChannelStatus {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let (_, agency) = try self.actor(context)
      let summaries = try await self.handoffs.channelSummaries()
      return Postalgateway_V1_ChannelStatus(
        route: self.routes.byAgency[agency],
        agency: agency,
        summary: summaries.first { $0.agency == agency }
      )
    }
  }
}

/// Gateway operators' RPCs (partner listener, operator role): channels, dead letters and
/// recomputing service levels.
struct OperatorService {
  let handoffs: any HandoffStore
  let routes: RouteTable
  let sla: SlaDesk
  let shipments: ShipmentService
  let blobs: any BlobStore
  /// `nil` on PostgreSQL, where key rotation is not available yet.
  let keyRotator: KeyRotator?
  let notifications: any NotificationStore
  let identities: any IdentityResolver
  let clock: any WallClock
  let logger: Logger
}

extension OperatorService: Postalgateway_V1_OperatorService.SimpleServiceProtocol {
  func listChannels(
    request: Postalgateway_V1_GetChannelStatusRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ListChannelsResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let only =
        request.agencyCode.isEmpty
        ? nil : v.check("agency_code") { try AgencyCode(validating: request.agencyCode) }
      try v.finish()
      let summaries = try await self.handoffs.channelSummaries()
      let routes = self.routes.byAgency
      var agencies = Set(routes.keys).union(summaries.map(\.agency))
      if let only { agencies = agencies.filter { $0 == only } }
      return .with {
        $0.channels = agencies.sorted { $0.rawValue < $1.rawValue }.map { agency in
          Postalgateway_V1_ChannelStatus(
            route: routes[agency],
            agency: agency,
            summary: summaries.first { $0.agency == agency }
          )
        }
      }
    }
  }

  func listHandoffs(
    request: Postalgateway_V1_ListHandoffsRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_ListHandoffsResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let agency =
        request.agencyCode.isEmpty
        ? nil : v.check("agency_code") { try AgencyCode(validating: request.agencyCode) }
      let status = request.status == .unspecified ? nil : HandoffStatus(request.status)
      if request.status != .unspecified, status == nil {
        v.fail("status", "is not a known handoff status")
      }
      if request.limit < 0 || request.limit > 1000 { v.fail("limit", "must be 0–1000") }
      try v.finish()
      let handoffs = try await self.handoffs.handoffs(
        agency: agency,
        status: status,
        limit: request.limit == 0 ? 100 : Int(request.limit)
      )
      return .with { $0.handoffs = handoffs.map(Postalgateway_V1_Handoff.init) }
    }
  }

  func retryHandoff(
    request: Postalgateway_V1_RetryHandoffRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_Handoff {
    try await mappingErrors(self.logger, method: context.descriptor) {
      guard !request.handoffID.isEmpty else {
        throw TrackingError.invalidField("handoff_id", "is required")
      }
      guard
        let handoff = try await self.handoffs.retryDeadLetter(
          id: request.handoffID,
          now: self.clock.now()
        )
      else {
        throw TrackingError(code: .notFound, message: "no such handoff")
      }
      self.logger.notice("dead letter requeued", metadata: ["handoff.id": "\(handoff.id)"])
      return Postalgateway_V1_Handoff(handoff)
    }
  }

  func recomputeSla(
    request: Postalgateway_V1_RecomputeSlaRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_RecomputeSlaResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let result = try await self.sla.recompute(
        apply: request.apply,
        now: self.clock.now(),
        maximumChanges: 10_000
      )
      let minutesPerDay = result.inputs.policy.officeHours.minutesPerDay
      self.logger.notice(
        "service levels recomputed",
        metadata: [
          "sla.shipments": "\(result.shipmentsChecked)", "sla.changes": "\(result.changes.count)",
          "sla.applied": "\(result.applied)",
        ]
      )
      return .with {
        $0.shipmentsChecked = Int32(clamping: result.shipmentsChecked)
        $0.hopsChecked = Int32(clamping: result.hopsChecked)
        $0.changes = result.changes.map {
          Postalgateway_V1_SlaChange($0, minutesPerDay: minutesPerDay)
        }
        $0.truncated = result.truncated
        $0.applied = result.applied
        $0.calendarVersions = result.inputs.calendar.publishedYears.map(\.version)
        $0.policyVersion = result.inputs.policy.version
        $0.catalogVersion = result.inputs.catalog.version
      }
    }
  }
}

/// A request that carries a client-chosen `request_id` (its idempotency key).
protocol IdempotentRequest: SwiftProtobuf.Message {
  var requestID: String { get set }
}

extension Postalgateway_V1_RequestSupplementRequest: IdempotentRequest {}
extension Postalgateway_V1_ExtendProcessingRequest: IdempotentRequest {}
extension Postalgateway_V1_RefuseDossierRequest: IdempotentRequest {}
extension Postalgateway_V1_ReportResultReadyRequest: IdempotentRequest {}
