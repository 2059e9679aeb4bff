import GRPCCore
import Logging
import Proto
import SwiftProtobuf
import Tracking

extension CounterService {
  /// A procedure of the catalog in force.
  ///
  /// - Throws: `INVALID_ARGUMENT` for a malformed code; `NOT_FOUND` when the catalog lacks it.
  func getProcedure(
    request: Postalgateway_V1_GetProcedureRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_Procedure {
    try await mappingErrors(self.logger, method: context.descriptor) {
      var v = RequestValidator()
      let code = v.check("procedure_code") { try ProcedureCode(validating: request.procedureCode) }
      try v.finish()
      let catalog = self.catalog.current
      // finish() threw if the code is nil.
      guard let procedure = catalog.procedure(code!) else {
        throw TrackingError(
          code: .notFound,
          message: "no such procedure in catalog version \(catalog.version)"
        )
      }
      return Postalgateway_V1_Procedure(procedure, in: catalog)
    }
  }

  /// Count and check at collection.
  ///
  /// - Throws: `INVALID_ARGUMENT` naming the field; `FAILED_PRECONDITION`; `NOT_FOUND`;
  ///   `ALREADY_EXISTS`; `UNAVAILABLE`.
  func recordCollection(
    request: Postalgateway_V1_RecordCollectionRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_RecordCollectionResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      let (requestID, recording) = try request.domain()
      let key = try self.key(
        requestID,
        request,
        clearing: \.requestID,
        context: context,
        actor: actor
      )
      let (recorded, missing) = try await self.shipments.recordCollection(
        recording,
        by: actor,
        idempotencyKey: key,
        now: self.clock.now()
      )
      self.logRecorded(recorded, actor: actor)
      return .with {
        $0.shipment = Postalgateway_V1_Shipment(recorded.shipment)
        $0.event = Postalgateway_V1_ShipmentEvent(recorded.event)
        $0.complete = recorded.event.kind == .collected
        $0.missing = missing.map(Postalgateway_V1_MissingItem.init)
      }
    }
  }

  /// The courier took the result at the agency.
  func recordResultCollected(
    request: Postalgateway_V1_RecordResultCollectedRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_RecordEventResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      let (requestID, number, result, eventContext) = try request.domain()
      var v = RequestValidator()
      let handover =
        request.hasHandover
        ? request.handover.domain(trustDomain: self.trustDomain, validator: &v) : nil
      try v.finish()
      let key = try self.key(
        requestID,
        request,
        clearing: \.requestID,
        context: context,
        actor: actor
      )
      let recorded = try await self.shipments.recordResultCollected(
        number,
        result: result,
        handover: handover,
        context: eventContext,
        by: actor,
        idempotencyKey: key,
        now: self.clock.now()
      )
      self.logRecorded(recorded, actor: actor)
      return Postalgateway_V1_RecordEventResponse(recorded)
    }
  }

  /// One delivery attempt.
  func recordDeliveryAttempt(
    request: Postalgateway_V1_RecordDeliveryAttemptRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_RecordEventResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      let now = self.clock.now()
      let (requestID, number, report, eventContext) = try request.domain(now: now)
      let key = try self.key(
        requestID,
        request,
        clearing: \.requestID,
        context: context,
        actor: actor
      )
      let recorded = try await self.shipments.recordDeliveryAttempt(
        number,
        report: report,
        context: eventContext,
        by: actor,
        idempotencyKey: key,
        now: now
      )
      self.logRecorded(recorded, actor: actor)
      return Postalgateway_V1_RecordEventResponse(recorded)
    }
  }

  /// Damage, inventory, new seal.
  func recordDamage(
    request: Postalgateway_V1_RecordDamageRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_RecordEventResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      let (requestID, number, report, eventContext) = try request.domain()
      let key = try self.key(
        requestID,
        request,
        clearing: \.requestID,
        context: context,
        actor: actor
      )
      let recorded = try await self.shipments.recordDamage(
        number,
        report: report,
        context: eventContext,
        by: actor,
        idempotencyKey: key,
        now: self.clock.now()
      )
      self.logRecorded(recorded, actor: actor)
      return Postalgateway_V1_RecordEventResponse(recorded)
    }
  }

  /// Voids a wrongly recorded event.
  func correctEvent(
    request: Postalgateway_V1_CorrectEventRequest,
    context: ServerContext
  ) async throws -> Postalgateway_V1_RecordEventResponse {
    try await mappingErrors(self.logger, method: context.descriptor) {
      let actor = try self.actor(context)
      let (requestID, number, sequence, reason, eventContext) = try request.domain()
      let key = try self.key(
        requestID,
        request,
        clearing: \.requestID,
        context: context,
        actor: actor
      )
      let recorded = try await self.shipments.correctEvent(
        number,
        voiding: sequence,
        reason: reason,
        context: eventContext,
        by: actor,
        idempotencyKey: key,
        now: self.clock.now()
      )
      self.logRecorded(recorded, actor: actor)
      return Postalgateway_V1_RecordEventResponse(recorded)
    }
  }

  // MARK: - Shared

  /// The idempotency key of a request: its id, and a fingerprint of the rest and the caller.
  func key<Request: SwiftProtobuf.Message>(
    _ requestID: RequestID,
    _ request: Request,
    clearing field: WritableKeyPath<Request, String>,
    context: ServerContext,
    actor: Actor
  ) throws -> IdempotencyKey {
    try RequestFingerprint.key(requestID, request, clearing: field, context: context, caller: actor)
  }

  func logRecorded(_ recorded: RecordedEvent, actor: Actor) {
    self.logger.info(
      "event recorded",
      metadata: [
        "shipment.tracking": "\(recorded.shipment.trackingNumber)",
        "event.type": "\(recorded.events.map(\.kind.rawValue).joined(separator: ","))",
        "shipment.state": "\(recorded.shipment.state.rawValue)",
        "caller.id": "\(actor.id)",
        "request.replay": "\(recorded.isReplay)",
      ]
    )
  }
}

extension Postalgateway_V1_RecordEventResponse {
  init(_ recorded: RecordedEvent) {
    self.init()
    self.shipment = Postalgateway_V1_Shipment(recorded.shipment)
    self.event = Postalgateway_V1_ShipmentEvent(recorded.event)
    self.followedBy = recorded.events.dropFirst().map(Postalgateway_V1_ShipmentEvent.init)
  }
}
